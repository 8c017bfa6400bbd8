"""The worker: dispatch, per-subject order, retries with backoff, dead letters, lapsed claims."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sidecar import audit
from sidecar.clock import FixedClock
from sidecar.db.models import AuditEntry, Delivery, DeliveryStatus, PostScan
from sidecar.jobs import inbox
from sidecar.jobs.worker import RetryLater, Worker
from sidecar.runtime import Runtime
from tests.support import INSTANCE, post_body, user_body
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent, decode_body, subject_of
from webhooks.handlers import scan_post

_ids = iter(range(1, 10_000))


def store(runtime: Runtime, event: str, body: bytes) -> int:
    with runtime.engine.begin() as conn:
        result = inbox.store(
            conn,
            inbox.IncomingDelivery(
                instance=INSTANCE,
                event_id=next(_ids),
                event_type=event.split("_")[0],
                event_name=event,
                subject=subject_of(decode_body(body)),
                content_type="application/json",
                body=body,
                received_at=runtime.clock.now(),
                dedupe_on_content=event != "ping",
            ),
        )
    return result.delivery_id


def make_worker(runtime: Runtime, registry: Registry, name: str = "w1") -> Worker:
    return Worker(
        runtime.sessions,
        make_processor(registry, sessions=runtime.sessions, clock=runtime.clock, config=runtime.config),
        settings=runtime.config.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
        name=name,
    )


def get(runtime: Runtime, delivery_id: int) -> Delivery:
    with runtime.sessions() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery


def recording_registry(seen: list[tuple[str, int]], *names: EventName) -> Registry:
    registry = Registry()

    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        seen.append((event.raw_name, event.delivery_id))

    registry.add(handler, names or (EventName.USER_CREATED, EventName.USER_UPDATED, EventName.POST_CREATED))
    return registry


def failing_registry(
    error: Exception | Callable[[], Exception], event: EventName = EventName.USER_CREATED
) -> Registry:
    registry = Registry()

    @registry.on(event)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        raise error() if callable(error) else error

    return registry


def test_handled_events_are_done_and_others_ignored(runtime: Runtime) -> None:
    seen: list[tuple[str, int]] = []
    created = store(runtime, "user_created", user_body(1))
    logged_in = store(runtime, "user_logged_in", user_body(1, last_seen_at="2026-11-28T10:00:00.000Z"))
    unknown = store(runtime, "chat_message_created", b'{"chat_message":{"id":4}}')
    ping = store(runtime, "ping", b'{"ping":"OK"}')
    results = make_worker(runtime, recording_registry(seen)).drain()
    # One batch claims 1, 3 and 4; 2 waits for the next, behind 1 about the same user.
    assert [r.delivery_id for r in results] == [created, unknown, ping, logged_in]
    assert seen == [("user_created", created)]
    assert get(runtime, created).status == DeliveryStatus.DONE
    assert get(runtime, created).finished_at == runtime.clock.now()
    assert {get(runtime, d).status for d in (logged_in, unknown, ping)} == {DeliveryStatus.IGNORED}
    assert make_worker(runtime, recording_registry(seen)).drain() == []


def test_a_worker_whose_claim_was_taken_records_nothing(runtime: Runtime) -> None:
    """A worker that outlived its lease must not overwrite the outcome of the worker that took over."""
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        with ctx.sessions.begin() as session:
            row = session.get(Delivery, event.delivery_id)
            assert row is not None
            row.claimed_by = "someone-else"  # as a worker that claimed the lapsed lease would

    delivery = store(runtime, "user_created", user_body(1))
    [result] = make_worker(runtime, registry).drain()
    assert result.status is None  # the claim was lost
    after = get(runtime, delivery)
    assert after.claimed_by == "someone-else"
    assert after.status == DeliveryStatus.PROCESSING
    lost = runtime.metrics.registry.get_sample_value("mug_deliveries_processed_total", {"outcome": "lost"})
    assert lost == 1


def test_failures_retry_with_growing_backoff_then_go_dead(runtime: Runtime, clock: FixedClock) -> None:
    delivery = store(runtime, "user_created", user_body(1))
    worker = make_worker(runtime, failing_registry(RuntimeError("forum unreachable")))
    settings = runtime.config.worker
    delays = []
    for attempt in range(1, settings.max_attempts + 1):
        [result] = worker.drain()
        row = get(runtime, delivery)
        assert row.attempts == attempt
        assert row.last_error == "RuntimeError: forum unreachable"
        if attempt < settings.max_attempts:
            assert result.status == DeliveryStatus.FAILED
            assert row.status == DeliveryStatus.FAILED
            delay = (row.next_attempt_at - clock.now()).total_seconds()
            full = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
            assert full / 2 <= delay <= full
            delays.append(delay)
            assert worker.drain() == []  # not due yet
            clock.advance(delay)
        else:
            assert result.status == DeliveryStatus.DEAD
            assert row.status == DeliveryStatus.DEAD
            assert row.finished_at == clock.now()
    assert delays[-1] > delays[0] * 8
    clock.advance(10 * settings.retry_max_seconds)
    assert worker.drain() == []  # dead stays dead


def test_unparseable_body_goes_dead_without_retries(runtime: Runtime) -> None:
    delivery = store(runtime, "user_created", b'{"user":{"username":"no-id"}}')
    [result] = make_worker(runtime, recording_registry([])).drain()
    assert result.status == DeliveryStatus.DEAD
    row = get(runtime, delivery)
    assert row.attempts == 1
    assert row.last_error == "permanent: user.id is missing"


def test_retry_later_postpones_without_spending_an_attempt(runtime: Runtime, clock: FixedClock) -> None:
    delivery = store(runtime, "user_created", user_body(1))
    worker = make_worker(runtime, failing_registry(lambda: RetryLater(42, "rate limited by the forum")))
    worker.drain()
    row = get(runtime, delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 0)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=42)
    assert row.last_error == "rate limited by the forum"


def test_a_subjects_deliveries_run_in_arrival_order_behind_a_failure(
    runtime: Runtime, clock: FixedClock
) -> None:
    seen: list[tuple[str, int]] = []
    calls = {"n": 0}
    registry = Registry()

    @registry.on(EventName.USER_CREATED, EventName.USER_UPDATED)
    def flaky(event: WebhookEvent, ctx: HandlerContext) -> None:
        calls["n"] += 1
        if event.raw_name == "user_created" and calls["n"] == 1:
            raise RuntimeError("first try fails")
        seen.append((event.raw_name, event.user.id))

    first = store(runtime, "user_created", user_body(1))
    second = store(runtime, "user_updated", user_body(1, name="Renamed"))
    other = store(runtime, "user_created", user_body(2))
    worker = make_worker(runtime, registry)
    worker.drain()
    # user 1's update waits behind its failed creation; user 2 is not held up.
    assert seen == [("user_created", 2)]
    assert get(runtime, second).status == DeliveryStatus.RECEIVED
    assert get(runtime, other).status == DeliveryStatus.DONE
    clock.advance(runtime.config.worker.retry_max_seconds)
    worker.drain()
    assert seen == [("user_created", 2), ("user_created", 1), ("user_updated", 1)]
    assert get(runtime, first).status == get(runtime, second).status == DeliveryStatus.DONE


def test_dead_deliveries_do_not_hold_their_subject_back(runtime: Runtime) -> None:
    dead = store(runtime, "user_created", b'{"user":{"id":1}}')  # no username: cannot parse
    seen: list[tuple[str, int]] = []
    later = store(runtime, "user_updated", user_body(1))
    make_worker(runtime, recording_registry(seen)).drain()
    assert get(runtime, dead).status == DeliveryStatus.DEAD
    assert seen == [("user_updated", later)]


def test_a_lapsed_claim_is_taken_over_and_the_late_worker_loses(runtime: Runtime, clock: FixedClock) -> None:
    delivery = store(runtime, "user_created", user_body(1))
    with runtime.sessions.begin() as session:
        stale = inbox.claim(session, now=clock.now(), lease_seconds=60, worker="crashed", max_attempts=8)
    assert stale is not None
    assert stale.id == delivery
    seen: list[tuple[str, int]] = []
    worker = make_worker(runtime, recording_registry(seen))
    assert worker.drain() == []  # the claim still holds
    clock.advance(61)
    [result] = worker.drain()
    assert result.status == DeliveryStatus.DONE
    row = get(runtime, delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.DONE, 2)
    # The first worker wakes up and tries to record its outcome: refused.
    with pytest.raises(inbox.ClaimLost), runtime.sessions.begin() as session:
        inbox.finish(session, stale, DeliveryStatus.DONE, clock.now())
    assert get(runtime, delivery).status == DeliveryStatus.DONE


def test_a_claim_that_lapses_on_the_last_attempt_goes_dead(runtime: Runtime, clock: FixedClock) -> None:
    delivery = store(runtime, "user_created", user_body(1))
    max_attempts = runtime.config.worker.max_attempts
    for _ in range(max_attempts):
        with runtime.sessions.begin() as session:
            assert inbox.claim(
                session, now=clock.now(), lease_seconds=5, worker="dies", max_attempts=max_attempts
            )
        clock.advance(6)
    assert make_worker(runtime, recording_registry([])).drain() == []
    row = get(runtime, delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.DEAD, max_attempts)
    assert "worker stopped mid-delivery" in (row.last_error or "")


def test_admin_retry_requeues_a_dead_delivery(runtime: Runtime) -> None:
    delivery = store(runtime, "user_created", user_body(1))
    make_worker(runtime, failing_registry(ValueError("bad"))).drain()
    with runtime.sessions.begin() as session:
        session.execute(
            select(Delivery).where(Delivery.id == delivery)
        ).scalar_one().status = DeliveryStatus.DEAD
    with runtime.sessions.begin() as session:
        inbox.retry(session, delivery, runtime.clock.now())
    seen: list[tuple[str, int]] = []
    make_worker(runtime, recording_registry(seen)).drain()
    row = get(runtime, delivery)
    assert (row.status, row.attempts) == (DeliveryStatus.DONE, 1)
    assert seen == [("user_created", delivery)]


def test_retry_refuses_unknown_and_in_flight_deliveries(runtime: Runtime, clock: FixedClock) -> None:
    with pytest.raises(inbox.RetryRefused, match="no delivery 999"), runtime.sessions.begin() as session:
        inbox.retry(session, 999, clock.now())
    delivery = store(runtime, "post_created", post_body(4))
    with runtime.sessions.begin() as session:
        inbox.claim(session, now=clock.now(), lease_seconds=60, worker="busy", max_attempts=8)
    with pytest.raises(inbox.RetryRefused, match="being processed"), runtime.sessions.begin() as session:
        inbox.retry(session, delivery, clock.now())


def test_outcomes_reach_metrics(runtime: Runtime) -> None:
    store(runtime, "user_created", user_body(1))
    store(runtime, "user_logged_in", user_body(2))
    make_worker(runtime, recording_registry([])).drain()
    registry = runtime.metrics.registry
    assert registry.get_sample_value("mug_deliveries_processed_total", {"outcome": "done"}) == 1
    assert registry.get_sample_value("mug_deliveries_processed_total", {"outcome": "ignored"}) == 1
    assert registry.get_sample_value("mug_handler_seconds_count", {"event": "user_created"}) == 1
    assert registry.get_sample_value("mug_deliveries", {"status": "done"}) == 1


def claims(runtime: Runtime, *ids: int) -> list[tuple[DeliveryStatus, int, bool]]:
    """(status, attempts, claimed) of each delivery."""
    rows = [get(runtime, delivery) for delivery in ids]
    return [(row.status, row.attempts, row.claimed_by is not None) for row in rows]


def test_a_worker_claims_a_batch_and_runs_it_one_by_one(runtime: Runtime) -> None:
    seen: list[tuple[str, int]] = []
    first, second, third = (store(runtime, "user_created", user_body(n)) for n in (1, 2, 3))
    worker = make_worker(runtime, recording_registry(seen))
    result = worker.run_once()
    assert result is not None
    assert result.delivery_id == first
    # The other two were claimed with it, by the same claim, and are not started.
    assert claims(runtime, second, third) == [(DeliveryStatus.PROCESSING, 1, True)] * 2
    assert {get(runtime, d).claimed_by for d in (second, third)} == {get(runtime, second).claimed_by}
    assert [r.delivery_id for r in worker.drain()] == [second, third]
    assert seen == [("user_created", first), ("user_created", second), ("user_created", third)]


def test_a_stopping_worker_gives_back_what_it_has_not_started(runtime: Runtime) -> None:
    first, second, third = (store(runtime, "user_created", user_body(n)) for n in (1, 2, 3))
    stop = threading.Event()
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        stop.set()  # the run loop finishes the delivery in hand, then stops

    make_worker(runtime, registry).run(stop)
    assert claims(runtime, first) == [(DeliveryStatus.DONE, 1, False)]
    # Given back: due again, attempt unspent, nobody's claim.
    assert claims(runtime, second, third) == [(DeliveryStatus.RECEIVED, 0, False)] * 2
    assert [r.delivery_id for r in make_worker(runtime, recording_registry([])).drain()] == [second, third]


def test_a_batch_held_past_half_its_lease_is_given_back_and_claimed_afresh(
    runtime: Runtime, clock: FixedClock
) -> None:
    first, second = (store(runtime, "user_created", user_body(n)) for n in (1, 2))
    claimed_by: dict[int, str | None] = {}
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        claimed_by[event.delivery_id] = get(runtime, event.delivery_id).claimed_by

    worker = make_worker(runtime, registry)
    assert worker.run_once() is not None
    assert get(runtime, second).claimed_by == claimed_by[first]  # claimed with the first
    clock.advance(runtime.config.worker.lease_seconds / 2 + 1)
    result = worker.run_once()
    assert result is not None
    assert result.delivery_id == second
    assert claimed_by[second] != claimed_by[first]  # given back, then claimed again under a new claim
    row = get(runtime, second)
    assert (row.status, row.attempts) == (DeliveryStatus.DONE, 1)  # the attempt given back with it


def test_a_clean_post_is_recorded_with_its_delivery_or_not_at_all(runtime: Runtime) -> None:
    """The scan of a clean post is written in the transaction that marks its delivery done."""
    stolen = store(runtime, "post_created", post_body(41, raw="Thanks, the trunk registers again."))
    kept = store(runtime, "post_created", post_body(42, raw="Same here: fine since the update."))
    registry = Registry()
    registry.add(scan_post, (EventName.POST_CREATED,))

    @registry.on(EventName.POST_CREATED)
    def steal(event: WebhookEvent, ctx: HandlerContext) -> None:
        if event.delivery_id == stolen:  # after the scan, another worker takes over the first delivery
            with ctx.sessions.begin() as session:
                row = session.get(Delivery, stolen)
                assert row is not None
                row.claimed_by = "someone-else"

    results = make_worker(runtime, registry).drain()
    assert [(r.delivery_id, r.status) for r in results] == [(stolen, None), (kept, DeliveryStatus.DONE)]
    with runtime.sessions() as session:
        scans = session.execute(select(PostScan.post_id, PostScan.status)).all()
    assert [tuple(scan) for scan in scans] == [(42, "done")]  # the first one's went with its lost outcome


def test_a_batch_that_went_well_is_recorded_in_one_transaction(runtime: Runtime) -> None:
    deliveries = [store(runtime, "user_created", user_body(n)) for n in (1, 2, 3, 4)]
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    event.listen(runtime.engine, "commit", committed)
    try:
        results = make_worker(runtime, recording_registry([])).drain()
    finally:
        event.remove(runtime.engine, "commit", committed)
    assert [(r.delivery_id, r.status) for r in results] == [(d, DeliveryStatus.DONE) for d in deliveries]
    assert claims(runtime, *deliveries) == [(DeliveryStatus.DONE, 1, False)] * 4
    # The claim and the four outcomes together. The look that found nothing more was a read: no write
    # transaction, so an idle worker does not queue for SQLite's write lock at every look.
    assert len(commits) == 2


def test_a_write_that_fails_in_a_batch_costs_only_its_own_delivery(runtime: Runtime) -> None:
    first, second, third = (store(runtime, "user_created", user_body(n)) for n in (1, 2, 3))
    registry = Registry()

    @registry.on(EventName.USER_CREATED)
    def handler(event: WebhookEvent, ctx: HandlerContext) -> None:
        def write(session: Session) -> None:
            if event.delivery_id == second:
                raise RuntimeError("the disk said no")
            target = str(event.delivery_id)
            audit.record(
                session, at=runtime.clock.now(), actor="test", action="test", target=target, details={}
            )

        ctx.with_outcome(write)

    results = make_worker(runtime, registry).drain()
    assert [(r.delivery_id, r.status) for r in results] == [
        (first, DeliveryStatus.DONE),
        (second, DeliveryStatus.FAILED),
        (third, DeliveryStatus.DONE),
    ]
    assert get(runtime, second).last_error == "RuntimeError: the disk said no"
    with runtime.sessions() as session:
        targets = session.execute(select(AuditEntry.target).order_by(AuditEntry.id)).scalars().all()
    assert targets == [str(first), str(third)]
