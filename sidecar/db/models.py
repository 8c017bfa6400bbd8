"""The sidecar's tables (SQLAlchemy 2.0 declarative style)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sidecar.db.types import BigId, UTCDateTime

# Named constraints so Alembic migrations are stable across backends.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, waiting for a worker
    PROCESSING = "processing"  # claimed; the claim lapses at next_attempt_at
    DONE = "done"  # a handler ran and succeeded
    IGNORED = "ignored"  # no handler wants this event
    FAILED = "failed"  # the last attempt failed; runs again at next_attempt_at
    DEAD = "dead"  # gave up; an admin can retry it

    @classmethod
    def unfinished(cls) -> tuple[DeliveryStatus, ...]:
        return (cls.RECEIVED, cls.PROCESSING, cls.FAILED)


class Delivery(Base):
    """One verified webhook delivery: the durable inbox row."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Same delivery attempt redelivered (Discourse's "Redeliver" keeps the id).
        UniqueConstraint("instance", "event_id"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_subject", "subject", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(500))
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(100))
    event_name: Mapped[str] = mapped_column(String(100))
    # "user:42", "post:17", ...: deliveries about one subject run one at a time, in arrival order.
    subject: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    # sha256(instance, event name, body): Discourse's automatic retries carry new event ids, so the
    # content is what recognises them. NULL where identical bodies are distinct events (pings).
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookRejection(Base):
    """A webhook request that was refused. Never the body: its size and, when read, its hash."""

    __tablename__ = "webhook_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    reason: Mapped[str] = mapped_column(String(50))
    status_code: Mapped[int] = mapped_column(Integer)
    event_name: Mapped[str | None] = mapped_column(String(100))
    event_id: Mapped[str | None] = mapped_column(String(100))
    instance: Mapped[str | None] = mapped_column(String(500))
    remote_addr: Mapped[str | None] = mapped_column(String(100))
    body_bytes: Mapped[int | None] = mapped_column(Integer)
    body_sha256: Mapped[str | None] = mapped_column(String(64))


class ForumAction(Base):
    """Every call that changed (or, in a dry run, would have changed) the forum, with its result."""

    __tablename__ = "forum_actions"
    __table_args__ = (Index("ix_forum_actions_target", "target", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    action: Mapped[str] = mapped_column(String(50))  # approve_user, suspend_user, flag_post, ...
    endpoint: Mapped[str] = mapped_column(String(100))  # PUT /admin/users/{id}/suspend
    target: Mapped[str] = mapped_column(String(200))  # user:42, post:17, group:members
    outcome: Mapped[str] = mapped_column(String(20))  # done, already_done, dry_run, failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(String(200))  # delivery:12, job:sweep, cli


class RateBucket(Base):
    """A token bucket shared by every process of the sidecar (one row per limit)."""

    __tablename__ = "rate_buckets"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    # Tokens may go negative: a 429 from the forum pushes every process into the wait it asked for.
    tokens: Mapped[float] = mapped_column(Float)
    # Seconds since the epoch: plain arithmetic on both SQLite and PostgreSQL inside one UPDATE.
    updated_at: Mapped[float] = mapped_column(Float)
