"""The site-wide admin API rate limit: one bucket shared by every admin API key.

dc: lib/auth/default_current_user_provider.rb (``admin_api_key_limiter``: ``RateLimiter.new(nil,
"admin_api_min", GlobalSetting.max_admin_api_reqs_per_minute, 60, error_code: "admin_api_key_rate_limit")``)
and lib/rate_limiter.rb. The limiter keeps the integer timestamps (``Time.now.to_i``) of the last ``max``
accepted requests; a request is accepted when fewer than ``max`` are kept or the oldest kept one is more than
``secs`` old (strictly), and the wait told to a refused client is ``secs - age_of_oldest``. A refused request
is not recorded, so refusals never extend the wait.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from sidecar.clock import Clock

ERROR_CODE = "admin_api_key_rate_limit"


@dataclass(frozen=True)
class Refusal:
    """What a refused request is told: ``wait_seconds`` (also ``Retry-After``) and its English rendering."""

    wait_seconds: int

    @property
    def time_left(self) -> str:
        # dc: lib/rate_limiter/limit_exceeded.rb (RateLimiter.time_left)
        wait = self.wait_seconds
        if wait <= 3:
            return "a few seconds"
        if wait < 60:
            return f"{wait} seconds"
        if wait < 3600:
            minutes = wait // 60
            return f"{minutes} minute{'s' if minutes != 1 else ''}"
        hours = wait // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"

    @property
    def message(self) -> str:
        # Discourse's English text has a typographic apostrophe (U+2019), kept exactly
        return (
            "You\u2019ve performed this action too many times. "
            f"Please wait {self.time_left} before trying again."
        )


class AdminApiLimiter:
    """The shared bucket, on an injected clock. ``max_in_window`` is the most accepted requests ever seen
    inside one window of ``window`` seconds (measured on the exact clock), for tests that assert a client
    never exceeded the limit."""

    def __init__(self, clock: Clock, limit: int = 60, window: float = 60.0) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.limit = limit
        self.window = window
        self._kept: deque[int] = deque()
        self._accepted: deque[float] = deque()
        self.max_in_window = 0
        self.accepted = 0
        self.refused = 0

    def configure(self, *, limit: int | None = None, window: float | None = None) -> None:
        with self._lock:
            if limit is not None:
                self.limit = limit
            if window is not None:
                self.window = window
            self.reset()

    def reset(self) -> None:
        self._kept.clear()
        self._accepted.clear()
        self.max_in_window = 0

    def acquire(self) -> Refusal | None:
        """Record one request; None when accepted, else how long the client must wait."""
        with self._lock:
            now = self._clock.now()
            now_s = math.floor(now.timestamp())
            secs = math.ceil(self.window)
            if self.limit <= 0:
                self.refused += 1
                return Refusal(wait_seconds=secs)
            if len(self._kept) >= self.limit and now_s - self._kept[0] <= secs:
                self.refused += 1
                return Refusal(wait_seconds=max(0, secs - (now_s - self._kept[0])))
            self._kept.append(now_s)
            while len(self._kept) > self.limit:
                self._kept.popleft()
            self.accepted += 1
            self._observe(now.timestamp())
            return None

    def _observe(self, at: float) -> None:
        self._accepted.append(at)
        while self._accepted and self._accepted[0] <= at - self.window:
            self._accepted.popleft()
        self.max_in_window = max(self.max_in_window, len(self._accepted))
