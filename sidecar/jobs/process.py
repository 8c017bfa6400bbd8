"""``serve``'s worker in a process of its own, started, watched and stopped by ``serve``.

Python runs one thread of a process at a time. With the worker as a thread of the web app's process, the
intake's threads and the worker take turns on one core however many the host has: at full load the intake
and the worker together used no more CPU than the run's wall time. A child process has an interpreter of its
own, so the intake and the worker run side by side; on SQLite they still take turns at the write lock (a
lock file queues the processes, see ``sidecar.db.engine``), as ``serve --no-worker`` beside ``mug-sidecar
worker`` always did. ``worker.separate_process = false`` keeps the worker a thread (as does a database in
memory, which a second process cannot open).

What the child shares with ``serve``:

- the database, through its own engine;
- the intake's doorbell: a pipe the web app rings after storing a delivery, so the child takes it up at
  once instead of at its next poll;
- its Prometheus counters (deliveries processed, handler times, forum calls): the child serves them on a
  loopback port of its own, which ``serve``'s ``/metrics`` reads and adds to the web app's
  (``sidecar.metrics.merge_families``);
- its log lines, on the same standard error.

A child that dies (killed, out of memory) is started again after 1 s, then 2, 4... up to a minute, and its
claimed deliveries run again once their lease lapses. The child holds the reading end of a lifeline pipe
whose only writing end ``serve`` holds: ``serve`` stopping closes it (and rings the doorbell), and so does
``serve`` dying, however it dies. The child then finishes the delivery in hand and exits; ``serve``
terminates it if it has not after ``worker.lease_seconds``. (Not ``multiprocessing.Event``s: a child killed
while waiting on one leaves its semaphores held, and the web app's next ring or stop blocks for good.)
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess

import requests
from prometheus_client import start_http_server
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families

from sidecar.config import Config
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.worker import Worker
from sidecar.logs import configure_logging
from sidecar.runtime import Runtime, build_runtime

log = logging.getLogger(__name__)

READY_SECONDS = 120.0  # a child not ready by then (imports, database) is stopped and started again
FIRST_RESTART_SECONDS = 1.0
LAST_RESTART_SECONDS = 60.0
STEADY_SECONDS = 60.0  # a child that ran this long before dying starts the back-off afresh
SCRAPE_SECONDS = 2.0
GROUP_STOP_SECONDS = 1.0
# The families the worker counts; the web app's own (intake counters, the inbox read from the database) are
# never taken from the child, which would count them twice.
WORKER_FAMILIES = frozenset({"mug_deliveries_processed", "mug_forum_calls", "mug_handler_seconds"})

MakeWorker = Callable[[Runtime, Doorbell], Worker]


def spawn_context() -> SpawnContext:
    # serve has threads (waitress, the simulator) by the time its worker starts: fork would copy their locks.
    return multiprocessing.get_context("spawn")


class WorkerProcess:
    """One worker in a child process, kept running until ``stop``."""

    def __init__(self, config: Config, doorbell: Doorbell, make_worker: MakeWorker) -> None:
        self._config = config
        self._doorbell = doorbell
        self._make_worker = make_worker
        self._context = spawn_context()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._process: SpawnProcess | None = None
        self._lifeline: Connection | None = None  # our end of the child's: closed, the child stops
        self._metrics_url: str | None = None
        self._supervisor = threading.Thread(target=self._supervise, name="worker-process", daemon=True)
        self._scraper = requests.Session()
        self._scraper.trust_env = False  # the child is on loopback: never through an HTTP_PROXY of the host

    def start(self) -> None:
        """Start the child and its watcher, and return: deliveries stored meanwhile wait in the inbox, and
        the doorbell holds their rings until the child first listens."""
        self._supervisor.start()

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before the first starts)."""
        with self._lock:
            return self._process.pid if self._process is not None else None

    def wait_ready(self, timeout: float = READY_SECONDS) -> bool:
        """Whether a child has said it is ready (its worker built) within ``timeout`` seconds."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float) -> None:
        """Ask the child to stop once the delivery in hand is done; terminate it after ``timeout`` s."""
        self._stopping.set()
        self._cut_lifeline()
        self._doorbell.ring()  # an idle child waits on its doorbell: let it see the stop now
        if self._supervisor.ident is not None:  # started
            self._supervisor.join(timeout=timeout)
        with self._lock:
            process = self._process
        if process is not None and process.is_alive():
            log.warning("the worker process did not stop in %.0f s: terminating it", timeout)
            process.terminate()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join(timeout=10)

    def metric_families(self) -> list[Metric]:
        """The child's worker counters, read from its metrics port ([] while it is starting or down)."""
        with self._lock:
            url = self._metrics_url
        if url is None:
            return []
        try:
            answer = self._scraper.get(url, timeout=SCRAPE_SECONDS)
            answer.raise_for_status()
        except requests.RequestException as exc:
            log.warning("could not read the worker process's metrics: %s", exc)
            return []
        families = text_string_to_metric_families(answer.text)
        return [family for family in families if family.name in WORKER_FAMILIES]

    def _cut_lifeline(self) -> None:
        with self._lock:
            lifeline, self._lifeline = self._lifeline, None
        if lifeline is not None:
            lifeline.close()

    def _supervise(self) -> None:
        delay = FIRST_RESTART_SECONDS
        while not self._stopping.is_set():
            started = time.monotonic()
            exitcode = self._run_one()
            # A stop for the whole process group (systemd's, say) may reach the child before serve: a child
            # that stopped cleanly is given a moment to be joined by serve's own stop before it is mourned.
            if self._stopping.is_set() or (exitcode == 0 and self._stopping.wait(GROUP_STOP_SECONDS)):
                break
            if time.monotonic() - started >= STEADY_SECONDS:
                delay = FIRST_RESTART_SECONDS
            # Its claimed deliveries run again once their lease lapses (worker.lease_seconds).
            log.error(
                "worker process ended", extra={"exit_code": exitcode, "starting_again_in_seconds": delay}
            )
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, LAST_RESTART_SECONDS)

    def _run_one(self) -> int | None:
        """Start a child, wait for its word that it is ready, then for its end; its exit code."""
        ready, ready_end = self._context.Pipe(duplex=False)
        lifeline_end, lifeline = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=child_main,
            args=(self._config, self._doorbell, lifeline_end, ready_end, self._make_worker),
            name="mug-sidecar worker",
            daemon=True,
        )
        with self._lock:
            self._process, self._lifeline = process, lifeline
        if self._stopping.is_set():  # stopped while we were getting here: the child stops at once
            self._cut_lifeline()
        process.start()
        # The child holds the other ends: reading ``ready`` ends when it dies, and it sees its lifeline
        # end when we close ours (or die).
        ready_end.close()
        lifeline_end.close()
        try:
            port = _await_ready(ready, process)
        finally:
            ready.close()
        if port is not None:
            with self._lock:
                self._metrics_url = f"http://127.0.0.1:{port}/metrics"
            log.info("worker process started", extra={"pid": process.pid})
            self._ready.set()
        elif process.is_alive():
            process.kill()
        process.join()
        with self._lock:
            self._metrics_url = None
        self._cut_lifeline()
        return process.exitcode


def _await_ready(ready: Connection, process: SpawnProcess) -> int | None:
    """The metrics port a child reports once its worker is built; None if it died or took too long."""
    try:
        if ready.poll(READY_SECONDS):
            port = ready.recv()
            return port if isinstance(port, int) else None
    except EOFError:
        pass
    if process.is_alive():
        log.error("the worker process was not ready after %.0f s", READY_SECONDS)
    return None


def child_main(
    config: Config, doorbell: Doorbell, lifeline: Connection, ready: Connection, make_worker: MakeWorker
) -> None:
    """The child: build the worker as ``mug-sidecar worker`` does, report ready, work until ``serve`` closes
    its end of the lifeline (or dies), or until SIGTERM."""
    stopping = threading.Event()

    def stop(*_args: object) -> None:
        stopping.set()
        doorbell.ring()  # a write to a pipe: safe in a signal handler, and it wakes an idle worker

    def watch_lifeline() -> None:
        with suppress(EOFError, OSError):
            while True:
                lifeline.recv_bytes()
        stop()

    # Ctrl-C reaches every process of the terminal's group: serve stops its child itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=watch_lifeline, name="lifeline", daemon=True).start()
    configure_logging(config.logging.level, config.logging.format)
    runtime = build_runtime(config)
    worker = make_worker(runtime, doorbell)
    metrics, _ = start_http_server(0, addr="127.0.0.1", registry=runtime.metrics.registry)
    try:
        ready.send(metrics.server_port)
        ready.close()
        worker.run(stopping)
    finally:
        metrics.shutdown()
        metrics.server_close()
        runtime.engine.dispose()
