"""The worker: claim due deliveries (a batch at a time), hand them one by one to the processor, record
each outcome. Deliveries claimed but not started are given back when the worker stops, and once half
their lease has gone.

Any number of workers may run against PostgreSQL (claims use SKIP LOCKED); on SQLite run one worker
process (two starve each other of the write lock). No transaction is open while the processor runs:
handlers open short transactions of their own and never hold one across a forum call (on SQLite an open
write transaction would block the rate limiter and the forum-action log). The outcome is recorded only
while this worker's claim still holds.

Running (``run``, ``drain``), the outcomes of a batch's deliveries that went well are recorded together,
in one transaction, once the batch is through (a failure is recorded at once): one commit and one turn of
the write lock for the batch instead of one per delivery. No two deliveries of a batch share a subject, so
none of them needs to see another's outcome first; until that commit they look as they would while several
workers ran them at once. A worker that dies before it leaves them to their leases, and they run again.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock
from sidecar.config import WorkerConfig
from sidecar.db.engine import reading, truncate_wal
from sidecar.db.models import DeliveryStatus
from sidecar.jobs import inbox
from sidecar.jobs.backoff import retry_delay
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.periodic import Scheduler
from sidecar.metrics import Metrics

log = logging.getLogger(__name__)


class RetryLater(Exception):
    """Raised by a handler that must wait (the forum said 429): try again later, no attempt spent."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class PermanentFailure(Exception):
    """Raised when retrying cannot help (a body that does not parse): the delivery goes dead at once."""


@dataclass(frozen=True)
class Processed:
    """What a processor says about a delivery: DONE or IGNORED, and the writes that belong with that
    outcome (run in the transaction that records it: both happen, or neither)."""

    status: DeliveryStatus
    writes: tuple[Callable[[Session], object], ...] = ()


# Given a claimed delivery, does the work and says how it went.
Processor = Callable[[inbox.ClaimedDelivery], Processed]


@dataclass(frozen=True)
class WorkerResult:
    delivery_id: int
    status: DeliveryStatus | None  # None: the claim was lost to another worker


@dataclass(frozen=True)
class _Outcome:
    """A delivery the processor ran without error, its outcome not recorded yet."""

    claimed: inbox.ClaimedDelivery
    processed: Processed
    context: dict[str, object]


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        processor: Processor,
        *,
        settings: WorkerConfig,
        clock: Clock,
        metrics: Metrics,
        name: str | None = None,
        rng: random.Random | None = None,
        scheduler: Scheduler | None = None,
        doorbell: Doorbell | None = None,
    ) -> None:
        self._sessions = sessions
        self._doorbell = doorbell
        self._processor = processor
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self.name = name or default_worker_name()
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter
        self._scheduler = scheduler
        self._unflushed = False  # finished deliveries since the last WAL checkpoint (SQLite)
        self._held: deque[inbox.ClaimedDelivery] = deque()  # claimed in one batch, not started yet
        self._held_until = datetime.min.replace(tzinfo=UTC)

    def run_once(self) -> WorkerResult | None:
        """Process one due delivery, its outcome recorded before this returns; None when nothing is due."""
        claimed = self._next()
        if claimed is None:
            return None
        return WorkerResult(delivery_id=claimed.id, status=self._run(claimed, None))

    def run_batch(self, stop: threading.Event | None = None) -> list[WorkerResult]:
        """Process the deliveries in hand, claiming a batch first when the hand is empty; [] when nothing is
        due. The outcomes of those that went well are recorded together once the hand is empty (or ``stop``
        is set: the rest stay in hand), a failure at once."""
        results: dict[int, DeliveryStatus | None] = {}
        went_well: list[_Outcome] = []
        claimed = self._next()
        try:
            while claimed is not None:
                results[claimed.id] = self._run(claimed, went_well)
                if stop is not None and stop.is_set():
                    break
                claimed = self._next(claim=False)
        finally:
            results.update(self._settle_together(went_well))
        return [WorkerResult(delivery_id=key, status=status) for key, status in results.items()]

    def _run(self, claimed: inbox.ClaimedDelivery, went_well: list[_Outcome] | None) -> DeliveryStatus | None:
        self._unflushed = True
        started = time.perf_counter()
        try:
            return self._process(claimed, went_well)
        finally:
            self._metrics.handler_seconds.labels(claimed.event_name).observe(time.perf_counter() - started)

    def _next(self, *, claim: bool = True) -> inbox.ClaimedDelivery | None:
        """The next delivery of the batch in hand, claiming a batch when the hand is empty (and ``claim``).
        Once half the lease has gone, the rest of a batch is given back and claimed afresh rather than run
        on a claim about to lapse."""
        now = self._clock.now()
        if self._held and now >= self._held_until:
            self.release_held()
        if not self._held and claim:
            with reading(self._sessions) as session:
                if not inbox.anything_due(session, now):
                    return None
            with self._sessions.begin() as session:
                batch = inbox.claim_many(
                    session,
                    now=now,
                    lease_seconds=self._settings.lease_seconds,
                    worker=self.name,
                    max_attempts=self._settings.max_attempts,
                    limit=self._settings.batch_size,
                )
            if not batch:
                return None
            self._held.extend(batch)
            self._held_until = now + timedelta(seconds=self._settings.lease_seconds / 2)
        return self._held.popleft() if self._held else None

    def release_held(self) -> None:
        """Give back the claimed deliveries not started yet (they are due again at once)."""
        if not self._held:
            return
        held = list(self._held)
        self._held.clear()
        with self._sessions.begin() as session:
            inbox.release(session, held, self._clock.now())

    def _checkpoint(self) -> None:
        """Idle: on SQLite, fold the log into the database so scrubbed post text leaves the -wal file."""
        if not self._unflushed:
            return
        bind = self._sessions.kw.get("bind")
        if bind is None:
            return
        try:
            done = truncate_wal(bind)
        except (SQLAlchemyError, sqlite3.Error):
            log.warning("could not checkpoint the database log", extra={"worker": self.name}, exc_info=True)
            return
        self._unflushed = not done  # busy: the next idle moment tries again

    def _process(
        self, claimed: inbox.ClaimedDelivery, went_well: list[_Outcome] | None
    ) -> DeliveryStatus | None:
        """Run the processor on ``claimed``; its outcome is recorded now, or, when it went well and
        ``went_well`` is given, added there to be recorded with the others."""
        context: dict[str, object] = {
            "delivery_id": claimed.id,
            "event": claimed.event_name,
            "attempt": claimed.attempts,
        }
        try:
            outcome = _Outcome(claimed, self._processor(claimed), context)
        except Exception as exc:  # noqa: BLE001 - any handler error is recorded on the delivery (and logged)
            return self._failed(claimed, context, exc)
        if went_well is not None:
            went_well.append(outcome)
            return outcome.processed.status
        return self._settle_one(outcome)

    def _settle(self, session: Session, outcome: _Outcome) -> None:
        """The delivery finished, and the writes that belong with its outcome; ClaimLost (nothing written)
        when the claim no longer holds."""
        inbox.finish(session, outcome.claimed, outcome.processed.status, self._clock.now())
        for write in outcome.processed.writes:
            write(session)

    def _settle_one(self, outcome: _Outcome) -> DeliveryStatus | None:
        try:
            with self._sessions.begin() as session:
                self._settle(session, outcome)
        except Exception as exc:  # noqa: BLE001 - recorded on the delivery (and logged), like a handler's
            return self._failed(outcome.claimed, outcome.context, exc)
        return self._succeeded(outcome)

    def _settle_together(self, outcomes: list[_Outcome]) -> dict[int, DeliveryStatus | None]:
        """Record the outcomes in one transaction. A delivery whose claim lapsed meanwhile is left out (its
        finish changed nothing; its writes are not made); should the transaction fail, each outcome is
        recorded on its own, so that one bad write costs only its own delivery."""
        if len(outcomes) <= 1:
            return {outcome.claimed.id: self._settle_one(outcome) for outcome in outcomes}
        lost: set[int] = set()
        try:
            with self._sessions.begin() as session:
                for outcome in outcomes:
                    try:
                        self._settle(session, outcome)
                    except inbox.ClaimLost:
                        lost.add(outcome.claimed.id)
        except Exception:
            log.warning(
                "could not record %d outcomes together; recording them one by one",
                len(outcomes),
                exc_info=True,
                extra={"worker": self.name},
            )
            return {outcome.claimed.id: self._settle_one(outcome) for outcome in outcomes}
        statuses: dict[int, DeliveryStatus | None] = {}
        for outcome in outcomes:
            if outcome.claimed.id in lost:
                self._lost(outcome.context)
                statuses[outcome.claimed.id] = None
            else:
                statuses[outcome.claimed.id] = self._succeeded(outcome)
        return statuses

    def _succeeded(self, outcome: _Outcome) -> DeliveryStatus:
        status = outcome.processed.status
        self._metrics.deliveries_processed.labels(status.value).inc()
        log.info("delivery %s", status.value, extra=outcome.context)
        return status

    def _failed(
        self, claimed: inbox.ClaimedDelivery, context: dict[str, object], exc: Exception
    ) -> DeliveryStatus | None:
        """Record what went wrong: a lost claim, a wait the forum asked for, a permanent or a passing
        failure (any other error: recorded on the delivery, and retried)."""
        if isinstance(exc, inbox.ClaimLost):
            self._lost(context)
            return None
        if isinstance(exc, RetryLater):
            until = self._clock.now() + timedelta(seconds=exc.seconds)
            reason = str(exc)
            return self._record(
                context,
                DeliveryStatus.FAILED,
                "postponed",
                lambda s: inbox.postpone(s, claimed, reason, until=until),
            )
        if isinstance(exc, PermanentFailure):
            return self._record_failure(claimed, context, f"permanent: {exc}", retry=False)
        log.error("handler failed", exc_info=exc, extra=context)
        return self._record_failure(claimed, context, f"{type(exc).__name__}: {exc}", retry=True)

    def _record_failure(
        self, claimed: inbox.ClaimedDelivery, context: dict[str, object], error: str, *, retry: bool
    ) -> DeliveryStatus | None:
        now = self._clock.now()
        retry_at = None
        if retry and claimed.attempts < self._settings.max_attempts:
            delay = retry_delay(
                claimed.attempts,
                base=self._settings.retry_base_seconds,
                cap=self._settings.retry_max_seconds,
                rng=self._rng,
            )
            retry_at = now + timedelta(seconds=delay)
        status = DeliveryStatus.FAILED if retry_at else DeliveryStatus.DEAD
        return self._record(
            context, status, status.value, lambda s: inbox.fail(s, claimed, error, now=now, retry_at=retry_at)
        )

    def _record(
        self,
        context: dict[str, object],
        status: DeliveryStatus,
        outcome: str,
        write: Callable[[Session], object],
    ) -> DeliveryStatus | None:
        try:
            with self._sessions.begin() as session:
                write(session)
        except inbox.ClaimLost:
            self._lost(context)
            return None
        self._metrics.deliveries_processed.labels(outcome).inc()
        log.warning("delivery %s", outcome, extra=context)
        return status

    def _lost(self, context: dict[str, object]) -> None:
        self._metrics.deliveries_processed.labels("lost").inc()
        log.warning("claim lapsed before the outcome was recorded; another worker has it", extra=context)

    def drain(self) -> list[WorkerResult]:
        """Process everything due now, batch by batch, then return (for scripts and tests)."""
        results = []
        while batch := self.run_batch():
            results.extend(batch)
        return results

    def _idle(self, stop: threading.Event) -> None:
        """Nothing due: fold the log, and wait ``worker.poll_seconds``. A worker the intake of its process
        wakes is idle between any two deliveries of a slow trickle: it folds the log once a whole interval
        went by without one, not at each of those moments."""
        if self._doorbell is None:
            self._checkpoint()
            stop.wait(self._settings.poll_seconds)
        elif not self._doorbell.wait(self._settings.poll_seconds):
            self._checkpoint()

    def wake(self) -> None:
        """An idle worker waiting on its doorbell looks again now (``stop`` set: it stops at once)."""
        if self._doorbell is not None:
            self._doorbell.ring()

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; the delivery in hand is finished first. Whoever sets ``stop`` calls
        ``wake`` too (else an idle worker with a doorbell sees ``stop`` within ``worker.poll_seconds``)."""
        log.info("worker started", extra={"worker": self.name})
        try:
            while not stop.is_set():
                if self._scheduler is not None:
                    try:
                        self._scheduler.run_due()
                    except SQLAlchemyError:
                        # The database hiccupped while claiming a slot: deliveries and the next slot go on.
                        log.exception("periodic jobs could not be scheduled", extra={"worker": self.name})
                if not self.run_batch(stop):
                    self._idle(stop)
        finally:
            try:
                self.release_held()
            except SQLAlchemyError:  # the leases lapse instead: the deliveries run again, only later
                log.exception("could not give back claimed deliveries", extra={"worker": self.name})
        log.info("worker stopped", extra={"worker": self.name})
