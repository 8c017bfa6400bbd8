"""The simulator in-process under ``responses``: every request to ``base_url`` runs through the WSGI app.

    with sim.mocked():
        requests.get(f"{sim.base_url}/site.json", headers=...)   # answered by the simulator

or, inside an existing ``responses`` mock, ``mock(sim, rsps)``. Query strings, JSON and form bodies and all
headers reach the app unchanged, so pydiscourse-based code runs against the simulator as against a forum.
Other URLs are not matched (``responses`` refuses them) unless passed through. A simulator delivering its
webhooks over HTTP from its thread is patched too: use the outbox (the default) while mocked.

This module needs ``responses`` (a test dependency); nothing else in the simulator imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import responses
from requests import PreparedRequest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

if TYPE_CHECKING:
    from sidecar.forum.simulator.site import DiscourseSimulator

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


Answer = tuple[int, dict[str, str], bytes]


def call_app(sim: DiscourseSimulator, request: PreparedRequest) -> Answer:
    """Run a prepared ``requests`` request through the WSGI app; answer ``(status, headers, body)``."""
    url = urlsplit(request.url or "")
    body = request.body
    data = body.encode() if isinstance(body, str) else bytes(body) if body is not None else b""
    headers = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
    builder = EnvironBuilder(
        path=url.path or "/",
        base_url=f"{url.scheme}://{url.netloc}",
        query_string=url.query,
        method=request.method or "GET",
        headers=headers,
        data=data,
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    response = sim.app.handle(Request(environ))
    return response.status_code, dict(response.headers.items()), response.get_data()


def mock(sim: DiscourseSimulator, rsps: responses.RequestsMock, base_url: str | None = None) -> None:
    """Register the simulator for every method and path under ``base_url`` (default ``sim.base_url``)."""
    base = (base_url or sim.base_url).rstrip("/")
    pattern = re.compile(re.escape(base) + r"(?:[/?#].*)?$")
    for method in METHODS:
        rsps.add_callback(method, pattern, callback=partial(call_app, sim), content_type=None)


@contextmanager
def mocked(sim: DiscourseSimulator, *, passthrough: Iterable[str] = ()) -> Iterator[responses.RequestsMock]:
    """A fresh ``responses`` mock with the simulator registered; ``passthrough`` URL prefixes go out."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for prefix in passthrough:
            rsps.add_passthru(prefix)
        mock(sim, rsps)
        yield rsps
