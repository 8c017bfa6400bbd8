"""Serving the simulator over real HTTP: in a background thread (tests, the sidecar's first-run mode) or in
the foreground until SIGTERM/SIGINT (the ``simulator`` command)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from sidecar.forum.simulator.site import DiscourseSimulator

log = logging.getLogger(__name__)

# Request threads: Discourse answers several API calls at once (the sidecar's worker, a sign-in, the tests).
THREADS = 4


class _Server:
    """A waitress server on its own socket map. Like Discourse behind nginx, it keeps HTTP/1.1 connections
    open between requests (werkzeug's development server closes every one, so each forum call would pay
    for a new connection on both sides)."""

    def __init__(self, sim: DiscourseSimulator, host: str, port: int) -> None:
        self._map: dict[int, socket.socket] = {}
        server = create_server(sim.app, host=host, port=port, threads=THREADS, map=self._map)
        assert isinstance(server, TcpWSGIServer)  # one host and port give one TCP server
        self._server = server
        self.host, self.port = str(server.getsockname()[0]), int(server.getsockname()[1])
        self._stopping = threading.Lock()  # taken once, by the first stop

    def run(self) -> None:
        try:
            self._server.run()
        except OSError as exc:
            # A socket of the loop closed under it (its wake-up pipe lost, or a stop racing the loop): the
            # loop cannot go on. Its sockets are closed, so clients are refused instead of left waiting.
            wasyncore.close_all(self._map)
            if not self._stopping.locked():
                log.warning("the simulated forum stopped serving: %s", exc)

    def stop(self) -> None:
        """Stop serving, from any thread (a signal handler too); ``run`` then returns. Idempotent."""
        if not self._stopping.acquire(blocking=False):  # never waits: a signal handler may call this
            return
        self._server.task_dispatcher.shutdown()
        # Closed from the server's own loop: its socket map empties and run() returns.
        trigger: Any = self._server.trigger  # the stubs call the trigger an int
        try:
            trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
        except OSError:
            # The loop closed its wake-up pipe already (it gave up on it): nothing will run the closing,
            # so close here; a loop still running finds its map empty and returns.
            wasyncore.close_all(self._map)

    def close(self) -> None:
        """After ``run`` returned (or never ran): stop, and close what the loop did not."""
        self.stop()
        wasyncore.close_all(self._map)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class RunningSimulator:
    """A simulator served from a background thread; ``url`` is its base URL. ``stop()`` is idempotent."""

    def __init__(self, sim: DiscourseSimulator, server: _Server, thread: threading.Thread) -> None:
        self.sim = sim
        self.url = _url(server.host, server.port)
        self._server = server
        self._thread = thread
        self._stopped = False

    def stop(self, timeout: float = 10.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        self._thread.join(timeout)
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
    server = _Server(sim, host, port)
    sim.base_url = _url(host, server.port)
    if sim.webhooks.url:
        sim.webhooks.start()
    thread = threading.Thread(target=server.run, name="discourse-simulator", daemon=True)
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
    server = _Server(sim, host, port)
    url = _url(host, server.port)
    sim.base_url = url
    if sim.webhooks.url:
        sim.webhooks.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        server.stop()  # run() returns once the server's loop has closed its sockets

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if on_ready is not None:
            on_ready(url)
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()
        sim.webhooks.stop()
