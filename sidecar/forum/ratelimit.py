"""A token bucket in the database, shared by every process of the sidecar.

Discourse limits all admin API keys together to 60 requests in any sliding minute (FACTS.md §2). The sidecar
budgets below that: at most ``limit`` calls in any ``window`` seconds. A bucket that holds ``burst`` tokens
and refills ``(limit - burst) / window`` per second keeps that promise (a full bucket plus one window of
refill is exactly ``limit``), while still letting a short run of calls through at once.

Taking a token is one ``UPDATE ... WHERE <enough tokens> RETURNING``, atomic on PostgreSQL (row lock) and
SQLite (one writer). A 429 from the forum drives the bucket negative so every process waits as asked.

A generous budget is taken a few tokens at a time: when the bucket refills more than one token in
``LEASE_SECONDS``, a process takes up to that many at once (never more than the bucket holds, at most
``MAX_LEASE``) and spends them on its next calls within ``LEASE_SECONDS``, or drops them. Without it every
call would be a write transaction of its own, queued behind the webhooks' on SQLite's one writer. A call then
trails its token by at most ``LEASE_SECONDS``, so any window sees at most ``limit + refill x LEASE_SECONDS``
calls; the default budget (50 a minute, under Discourse's 60) refills less than one token in that time and
is taken a token at a time, as without leases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Float, bindparam, case, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock
from sidecar.db.engine import insert_or_ignore
from sidecar.db.models import Base, RateBucket

# Timestamps are floats near 1.8e9 and clocks tick in microseconds: a token this close to whole is whole,
# and no wait is shorter than a millisecond (else a caller could spin on waits its clock cannot advance).
_EPSILON = 1e-6
_MIN_WAIT = 0.001

LEASE_SECONDS = 0.1
MAX_LEASE = 16


@dataclass(frozen=True)
class Budget:
    limit: int  # calls allowed in any window
    window_seconds: float
    burst: int  # calls that may go at once from a rested bucket

    def __post_init__(self) -> None:
        if not 1 <= self.burst < self.limit:
            raise ValueError("burst must be at least 1 and below the limit")
        if self.window_seconds <= 0:
            raise ValueError("window_seconds must be positive")

    @property
    def refill_per_second(self) -> float:
        return (self.limit - self.burst) / self.window_seconds

    @property
    def lease(self) -> int:
        """Tokens a process takes at once when the bucket holds them (see the module's docstring)."""
        return max(1, min(MAX_LEASE, int(self.refill_per_second * LEASE_SECONDS)))


class SharedTokenBucket:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Clock, budget: Budget, name: str = "forum"
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.budget = budget
        self.name = name
        # Built once (every forum call takes a token) and run on the connection, not as an ORM update.
        available = self._available(bindparam("now", type_=Float))
        wanted = bindparam("n", type_=Float)
        self._take = (
            update(RateBucket)
            .where(RateBucket.name == name, available >= wanted - _EPSILON)
            .values(tokens=available - wanted, updated_at=bindparam("now", type_=Float))
            .returning(RateBucket.tokens)
        )
        self._tokens = select(available).where(RateBucket.name == name)
        # Tokens this process took ahead (a lease): how many are left, and until when they may be spent.
        self._lock = threading.Lock()
        self._leased = 0
        self._leased_until = 0.0

    def _available(self, now: ColumnElement[float]) -> ColumnElement[float]:
        elapsed = case((RateBucket.updated_at < now, now - RateBucket.updated_at), else_=0.0)
        refilled = RateBucket.tokens + elapsed * self.budget.refill_per_second
        return case((refilled > self.budget.burst, float(self.budget.burst)), else_=refilled)

    def try_take(self) -> float:
        """Take a token: 0.0 when taken, else the seconds until one will be there."""
        now = self._clock.now().timestamp()
        with self._lock:
            if self._leased > 0 and now < self._leased_until:
                self._leased -= 1
                return 0.0
        with self._sessions.begin() as session:
            conn = session.connection()
            taken = self._take_some(conn, now)
            if not taken:
                self._ensure_row(session, now)  # the first call ever, or a bucket short of a token
                taken = self._take_some(conn, now)
            if not taken:
                tokens = conn.execute(self._tokens, {"now": now}).scalar_one()
                return max(_MIN_WAIT, (1.0 - tokens) / self.budget.refill_per_second)
        if taken > 1:
            with self._lock:
                self._leased, self._leased_until = taken - 1, now + LEASE_SECONDS
        return 0.0

    def _take_some(self, conn: Connection, now: float) -> int:
        """A lease if the bucket holds one, else a token, else nothing: how many were taken."""
        for n in (self.budget.lease, 1) if self.budget.lease > 1 else (1,):
            if conn.execute(self._take, {"now": now, "n": float(n)}).scalar_one_or_none() is not None:
                return n
        return 0

    def take(self, *, max_wait: float, sleep: Callable[[float], None]) -> float:
        """Take a token, waiting up to ``max_wait`` seconds in all; else return the wait still needed."""
        waited = 0.0
        while (wait := self.try_take()) > 0:
            if waited + wait > max_wait:
                return wait
            sleep(wait)
            waited += wait
        return 0.0

    def hold_off(self, seconds: float) -> None:
        """The forum said wait ``seconds``: no process of the sidecar gets a token before then."""
        now = self._clock.now().timestamp()
        with self._lock:
            self._leased = 0  # the forum refused: tokens taken ahead are not spent either
        target = 1.0 - seconds * self.budget.refill_per_second
        with self._sessions.begin() as session:
            self._ensure_row(session, now)
            available = self._available(literal(now, Float))
            session.execute(
                update(RateBucket)
                .where(RateBucket.name == self.name)
                .values(tokens=case((available < target, available), else_=target), updated_at=now)
            )

    def _ensure_row(self, session: Session, now: float) -> None:
        table = Base.metadata.tables[RateBucket.__tablename__]
        session.execute(
            insert_or_ignore(session.get_bind().dialect.name, table).values(
                name=self.name, tokens=float(self.budget.burst), updated_at=now
            )
        )
