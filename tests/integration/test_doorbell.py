"""serve's worker hears the intake of its own process: a delivery is taken up when it is stored, not at the
next poll."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from sidecar.app import create_app
from sidecar.db.engine import is_sqlite
from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.process import spawn_context
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime
from tests.integration.polling import wait_for
from tests.support import headers_for, post_body, user_body
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent
from webhooks.handlers import build_registry

LONG_POLL = 120.0  # far longer than any wait below: only the bell can wake the worker in time


def test_a_ring_before_the_wait_is_not_lost() -> None:
    bell = Doorbell()
    bell.ring()
    assert bell.wait(LONG_POLL) is True
    assert bell.wait(0.01) is False  # heard once, then quiet again


def test_a_ring_during_the_wait_ends_it() -> None:
    bell = Doorbell()
    heard: list[bool] = []
    waiter = threading.Thread(target=lambda: heard.append(bell.wait(LONG_POLL)))
    waiter.start()
    bell.ring()
    waiter.join(timeout=30)
    assert heard == [True]


def wait_in_child(bell: Doorbell, waited: Connection) -> None:
    """In a spawned child: say it is waiting, wait for a ring, say whether it came."""
    waited.send("waiting")
    waited.send(bell.wait(LONG_POLL))


def waiting_child(bell: Doorbell) -> tuple[SpawnProcess, Connection]:
    """A spawned child waiting on ``bell``, and the end it answers on (it has said it is waiting)."""
    context = spawn_context()
    replies, reply_end = context.Pipe(duplex=False)
    child = context.Process(target=wait_in_child, args=(bell, reply_end), daemon=True)
    child.start()
    assert replies.poll(60)
    assert replies.recv() == "waiting"
    return child, replies


def test_a_ring_crosses_to_a_child_process() -> None:
    bell = Doorbell.across_processes(spawn_context())
    child, replies = waiting_child(bell)
    try:
        bell.ring()
        assert replies.poll(30), "the child did not hear the ring"
        assert replies.recv() is True
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()


def test_a_pipe_bell_never_blocks_the_intake_and_one_wait_hears_every_ring() -> None:
    bell = Doorbell.across_processes(spawn_context())
    for _ in range(200_000):  # far more bytes than a pipe holds: the rings past that are dropped, not waited
        bell.ring()
    assert bell.wait(LONG_POLL) is True
    assert bell.wait(0.01) is False


def test_a_killed_child_leaves_the_bell_ringable() -> None:
    """A child killed while waiting holds nothing the web app's rings need (a multiprocessing.Event would)."""
    bell = Doorbell.across_processes(spawn_context())
    child, _ = waiting_child(bell)
    child.kill()
    child.join(timeout=30)
    rang = threading.Thread(target=lambda: [bell.ring() for _ in range(3)], daemon=True)
    rang.start()
    rang.join(timeout=10)
    assert not rang.is_alive()
    assert bell.wait(0.01) is True  # the rings wait for the next child


class WatchedBell(Doorbell):
    """A doorbell that says when someone waits on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def woken_worker(runtime: Runtime, registry: Registry, bell: Doorbell, poll_seconds: float) -> Worker:
    """The worker as serve embeds it: woken by ``bell``, else looking for work every ``poll_seconds``."""
    return Worker(
        runtime.sessions,
        make_processor(registry, sessions=runtime.sessions, clock=runtime.clock, config=runtime.config),
        settings=dataclasses.replace(runtime.config.worker, poll_seconds=poll_seconds),
        clock=runtime.clock,
        metrics=runtime.metrics,
        doorbell=bell,
    )


def deliver(client: FlaskClient, event: str, body: bytes) -> int:
    answer = client.post("/webhooks/discourse", data=body, headers=headers_for(body, event=event))
    assert answer.status_code == 200
    delivery_id: int = answer.get_json()["delivery_id"]
    return delivery_id


@contextmanager
def running(worker: Worker) -> Iterator[None]:
    """``worker.run`` in a thread, as serve runs it; stopped as serve stops it (stop set, bell rung)."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
    assert not thread.is_alive()  # rung with stop set, the idle worker stopped at once


def test_an_idle_worker_takes_up_a_delivery_as_the_intake_stores_it(runtime: Runtime) -> None:
    bell = WatchedBell()
    runtime = dataclasses.replace(runtime, arrivals=bell)
    client = create_app(runtime=runtime).test_client()
    handled = threading.Event()
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        handled.set()

    with running(woken_worker(runtime, registry, bell, LONG_POLL)):
        assert bell.waiting.wait(timeout=30)  # nothing there yet: the worker is idle, for LONG_POLL
        deliver(client, "user_created", user_body(41))
        assert handled.wait(timeout=30), "the worker slept through the delivery"


def test_a_woken_worker_folds_the_log_once_a_quiet_interval_went_by(runtime: Runtime) -> None:
    """Scrubbed post text must leave SQLite's -wal file: a worker woken by each delivery is idle between
    any two, and folds the log once one of its poll intervals went by without a delivery."""
    bell = WatchedBell()
    runtime = dataclasses.replace(runtime, arrivals=bell)
    client = create_app(runtime=runtime).test_client()
    with running(woken_worker(runtime, build_registry(), bell, 0.2)):
        delivery_id = deliver(client, "post_created", post_body(77, raw="The conference schedule is out"))
        wait_for(lambda: status_of(runtime, delivery_id) == DeliveryStatus.DONE, what="the post's delivery")
        database = make_url(str(runtime.engine.url)).database
        if is_sqlite(runtime.engine) and database:
            wal = Path(f"{database}-wal")
            wait_for(lambda: not wal.exists() or wal.stat().st_size == 0, what="the log folded")


def status_of(runtime: Runtime, delivery_id: int) -> DeliveryStatus | None:
    with runtime.sessions() as session:
        delivery = session.get(Delivery, delivery_id)
        return None if delivery is None else delivery.status
