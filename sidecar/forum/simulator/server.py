"""Serving the simulator over real HTTP: in a background thread (tests, the sidecar's first-run mode) or in
the foreground until SIGTERM/SIGINT (the ``simulator`` command)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from sidecar.forum.simulator.site import DiscourseSimulator


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class RunningSimulator:
    """A simulator served from a background thread; ``url`` is its base URL. ``stop()`` is idempotent."""

    def __init__(self, sim: DiscourseSimulator, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self.sim = sim
        self.url = _url(server.host, server.server_port)
        self._server = server
        self._thread = thread
        self._stopped = False

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._thread.join(timeout)
        self._server.server_close()
        self.sim.webhooks.stop(timeout)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_background(sim: DiscourseSimulator, host: str = "127.0.0.1", port: int = 0) -> RunningSimulator:
    """Serve ``sim`` on ``host:port`` (0: any free port) from a daemon thread and return at once.

    The simulator's ``base_url`` (the ``X-Discourse-Instance`` of its webhooks) becomes the served URL, and
    when a webhook URL is configured, webhooks are delivered over HTTP from their own thread.
    """
    server = make_server(host, port, sim.app, threaded=True)
    sim.base_url = _url(host, server.server_port)
    if sim.webhooks.url:
        sim.webhooks.start()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="discourse-simulator", daemon=True
    )
    thread.start()
    return RunningSimulator(sim, server, thread)


def serve(
    sim: DiscourseSimulator,
    host: str = "127.0.0.1",
    port: int = 3000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``sim`` in the foreground until SIGTERM or SIGINT, then stop cleanly (the webhook thread too)."""
    server = make_server(host, port, sim.app, threaded=True)
    url = _url(host, server.server_port)
    sim.base_url = url
    if sim.webhooks.url:
        sim.webhooks.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on the serving thread itself
        threading.Thread(target=server.shutdown, name="simulator-shutdown", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if on_ready is not None:
            on_ready(url)
        server.serve_forever(poll_interval=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
        sim.webhooks.stop()
