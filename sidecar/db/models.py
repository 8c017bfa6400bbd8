"""The sidecar's tables (SQLAlchemy 2.0 declarative style)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, MetaData, String, Text, UniqueConstraint
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
