"""serve's worker hears the intake of its own process: a delivery is taken up when it is stored, not at the
next poll."""

from __future__ import annotations

import dataclasses
import threading

from sidecar.app import create_app
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime
from tests.support import headers_for, user_body
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent

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


def test_an_idle_worker_takes_up_a_delivery_as_the_intake_stores_it(runtime: Runtime) -> None:
    bell = WatchedBell()
    runtime = dataclasses.replace(runtime, arrivals=bell)
    client = create_app(runtime=runtime).test_client()
    handled = threading.Event()
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        handled.set()

    worker = Worker(
        runtime.sessions,
        make_processor(registry, sessions=runtime.sessions, clock=runtime.clock, config=runtime.config),
        settings=dataclasses.replace(runtime.config.worker, poll_seconds=LONG_POLL),
        clock=runtime.clock,
        metrics=runtime.metrics,
        doorbell=runtime.arrivals,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert bell.waiting.wait(timeout=30)  # nothing there yet: the worker is idle, for LONG_POLL
        body = user_body(41)
        headers = headers_for(body, event="user_created")
        answer = client.post("/webhooks/discourse", data=body, headers=headers)
        assert answer.status_code == 200
        assert handled.wait(timeout=30), "the worker slept through the delivery"
    finally:
        stop.set()
        bell.ring()
        thread.join(timeout=30)
    assert not thread.is_alive()  # rung with stop set, the idle worker stopped at once
