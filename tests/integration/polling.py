"""Waiting for something another process does: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.jobs import inbox
from sidecar.runtime import Runtime

T = TypeVar("T")


def wait_for(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)  # polling another process's progress, not pacing the test


def inbox_counts(runtime: Runtime) -> tuple[int, int]:
    """Deliveries stored, and those of them not finished (one count by status, as /metrics reads it)."""
    counts = runtime.queue_counts()
    return sum(counts.values()), sum(counts[status.value] for status in DeliveryStatus.unfinished())


def settle(runtime: Runtime, sim: DiscourseSimulator, *, timeout: float) -> None:
    """Wait until the forum has nothing queued and the inbox nothing unfinished, and it stays so."""

    def quiet() -> bool:
        # A webhook the sidecar's own call fired is queued before the call returns, so: inbox done, then the
        # forum's outbox empty, then the inbox unchanged and still done.
        before = inbox_counts(runtime)
        return before[1] == 0 and sim.webhooks.flush(timeout=0) and inbox_counts(runtime) == before

    wait_for(quiet, timeout=timeout, what="the webhooks and the worker to settle")


def retry_every_delivery(runtime: Runtime, sim: DiscourseSimulator, *, timeout: float) -> None:
    """An admin retries every delivery in the inbox; wait until all ran again and everything settled."""

    def deliveries() -> list[Delivery]:
        with runtime.sessions() as session:
            return list(session.execute(select(Delivery)).scalars())

    with runtime.sessions.begin() as session:
        for delivery in deliveries():
            inbox.retry(session, delivery.id, runtime.clock.now())
    wait_for(
        lambda: all(d.finished_at is not None for d in deliveries()),
        timeout=timeout,
        what="every delivery to run a second time",
    )
    settle(runtime, sim, timeout=timeout)
