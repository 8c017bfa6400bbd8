"""Faults the simulator can inject, changed at run time from Python. Draws use seeded ``random.Random``
instances, so a test that sets a seed sees the same faults on every run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What a proxy in front of a restarting Discourse answers (nginx's stock page).
PROXY_503_HTML = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
# What Discourse itself answers in read-only mode (dc: ApplicationController rescue_from Discourse::ReadOnly).
READ_ONLY_MESSAGE = "The site is in read only mode. Interactions are disabled."


@dataclass
class ApiFaults:
    """Faults on the HTTP API, applied before authentication (a failing proxy never reaches Discourse, so
    these requests are not counted by the rate limit).

    ``latency``: seconds added to every request. ``error_rate``: probability that a request fails with
    ``error_status``. ``fail_next``: this many next requests fail, whatever the rate. ``error_format``:
    ``html`` (a proxy's page, text/html) or ``json`` (Discourse's read-only answer).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    fail_next: int = 0
    error_status: int = 503
    error_format: Literal["html", "json"] = "html"

    def clear(self) -> None:
        self.latency = 0.0
        self.error_rate = 0.0
        self.fail_next = 0


@dataclass
class WebhookFaults:
    """Faults on webhook delivery, each a probability drawn per emitted event.

    ``drop``: the event is never delivered. ``duplicate``: it is delivered twice with the same event id and
    signature (a manual "Redeliver"). ``retry``: it is delivered again with a NEW ``X-Discourse-Event-Id``
    and the same body (Discourse's automatic retry). ``delay``: it is held until ``release_held()``.
    ``reorder``: it is delivered after the next event emitted.
    """

    drop: float = 0.0
    duplicate: float = 0.0
    retry: float = 0.0
    delay: float = 0.0
    reorder: float = 0.0

    def clear(self) -> None:
        self.drop = self.duplicate = self.retry = self.delay = self.reorder = 0.0
