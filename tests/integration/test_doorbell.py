"""serve's worker hears the intake of its own process: a delivery is taken up when it is stored, not at the
next poll."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from sidecar.app import create_app
from sidecar.db.engine import is_sqlite
from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.jobs.doorbell import Doorbell
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
