"""The sidecar's tables (SQLAlchemy 2.0 declarative style)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
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
from sidecar.membership.records import MemberStatus, OrganizationStatus

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


def _one_of(column: str, values: type[enum.StrEnum]) -> str:
    # An OR chain, not IN (...): SQLite checks an IN list through a temporary index for every inserted row,
    # which doubled the cost of inserting 100,000 members (bench/eligibility.py); the chain is nearly free.
    return " OR ".join(f"{column} = '{v.value}'" for v in values)


class Organization(Base):
    """A member organization; its status and paid-through date decide its members' dues."""

    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(_one_of("status", OrganizationStatus), name="status"),)

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    paid_through: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrganizationDomain(Base):
    """An email domain of an organization (lowercased); one organization per domain, looked up by it."""

    __tablename__ = "organization_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organizations.org_id", ondelete="CASCADE"), index=True
    )


class Member(Base):
    """A member: of an organization, or an individual (no org_id) whose own paid_through decides dues."""

    __tablename__ = "members"
    __table_args__ = (CheckConstraint(_one_of("status", MemberStatus), name="status"),)

    member_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("organizations.org_id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    paid_through: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MemberEmail(Base):
    """A member's address, trimmed and lowercased: one member per address, looked up by it."""

    __tablename__ = "member_emails"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    member_number: Mapped[str] = mapped_column(
        String(64), ForeignKey("members.member_number", ondelete="CASCADE"), index=True
    )


class AuditEntry(Base):
    """Who did what to whom, when: append-only (``sidecar.audit`` writes and lists, nothing updates)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_target", "target", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)  # a JSON object


class JobRun(Base):
    """One slot of a periodic job, claimed by the one process whose insert went through."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Registration(Base):
    """The sidecar's decision on one forum sign-up (the review queue reads these)."""

    __tablename__ = "registrations"

    forum_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(30), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    member_number: Mapped[str | None] = mapped_column(String(50))
    suggested_org: Mapped[str | None] = mapped_column(String(50))
    decided_by: Mapped[str] = mapped_column(String(100))  # "sidecar" or the admin who decided
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ForumLink(Base):
    """A forum account linked to a member, and what the sidecar itself granted or imposed on it."""

    __tablename__ = "forum_links"

    forum_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_number: Mapped[str | None] = mapped_column(String(50), index=True)
    username: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # JSON list of the groups the sidecar added (it only ever removes these).
    granted_groups: Mapped[str] = mapped_column(Text, default="[]")
    imposed_suspension: Mapped[bool] = mapped_column(Boolean, default=False)
    # JSON list of the granted groups a termination took away: what a reinstatement gives back.
    withheld_groups: Mapped[str] = mapped_column(Text, default="[]")


class ConsentEvent(Base):
    """A consent given or changed (append-only; the consent capability builds on this minimal record)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    forum_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    member_number: Mapped[str | None] = mapped_column(String(50))
    policy_version: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str] = mapped_column(String(50))
    choice: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))


class Standing(Base):
    """A member's standing on the forum as the termination sweep last recorded it.

    Kept apart from ``members.status`` (the association's own record, which imports overwrite): this is the
    lifecycle the sidecar enforces, ``pending → active → grace → terminated`` plus ``deferred``. No row
    means the sweep has not met the member yet. The row outlives a member removed from the database, so
    the removal can end the membership.
    """

    __tablename__ = "standings"
    __table_args__ = (CheckConstraint(_one_of("state", MemberStatus), name="state"),)

    member_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    deferral_id: Mapped[int | None] = mapped_column(BigInteger)


class Deferral(Base):
    """A Board deferral of the termination of one member, or of every member of one organization."""

    __tablename__ = "deferrals"
    __table_args__ = (
        CheckConstraint("(member_number IS NULL) <> (org_id IS NULL)", name="one_target"),
        Index("ix_deferrals_open", "revoked_at", "until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_number: Mapped[str | None] = mapped_column(String(64))
    org_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(String(200))
    until: Mapped[date] = mapped_column(Date)  # in effect through this day (UTC)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when enough Board members approved
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class DeferralApproval(Base):
    """One Board member's approval of a deferral (one per member: approvals are counted by distinct name)."""

    __tablename__ = "deferral_approvals"

    deferral_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("deferrals.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(100), primary_key=True)  # lowercased
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class SweepStatus(enum.StrEnum):
    REQUESTED = "requested"  # an import or a deferral asked for a sweep; the worker runs it
    RUNNING = "running"  # planned and recorded; its steps are being (or will be) carried out
    DONE = "done"
    BLOCKED = "blocked"  # over a limit: nothing was done
    SUPERSEDED = "superseded"  # a request another sweep answered


class Sweep(Base):
    """One termination sweep: its plan is recorded before any forum call, so an interrupted one resumes."""

    __tablename__ = "sweeps"
    __table_args__ = (Index("ix_sweeps_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="{}")  # a JSON object
    # Whoever carries out the steps holds the sweep until lease_until; a crashed runner's lease lapses.
    runner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"  # the forum changed
    ALREADY_DONE = "already_done"  # the forum was already so
    SKIPPED = "skipped"  # nothing to do once the forum was read (not the sidecar's to undo, no account)
    FAILED = "failed"  # the forum refused; recorded, not retried


class SweepStep(Base):
    """One forum action of a sweep, in order. ``attempts`` > 0 on a pending step: it may have been sent."""

    __tablename__ = "sweep_steps"
    __table_args__ = (Index("ix_sweep_steps_sweep", "sweep_id", "status", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sweep_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sweeps.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    member_number: Mapped[str] = mapped_column(String(64))
    forum_user_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(50))
    params: Mapped[str] = mapped_column(Text, default="{}")  # a JSON object
    status: Mapped[str] = mapped_column(String(20), default=StepStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED_BY_EDIT = "resolved_by_edit"  # a later version of the post no longer contains it
    DISMISSED = "dismissed"  # a moderator judged it a false positive (its fingerprint is then allowed)
    CONFIRMED = "confirmed"  # a moderator agreed
    POST_DELETED = "post_deleted"  # the post is gone


class PostFinding(Base):
    """A finding in a post, as the moderators' queue shows it: where, what kind, how bad, a masked preview
    and a keyed fingerprint. Never the value itself. One row per (post, fingerprint) across versions."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("post_id", "fingerprint"),
        Index("ix_findings_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigInteger)
    topic_id: Mapped[int | None] = mapped_column(BigInteger)
    post_number: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    author_username: Mapped[str | None] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    span_start: Mapped[int] = mapped_column(Integer)  # character offsets in the version last seen
    span_end: Mapped[int] = mapped_column(Integer)
    preview: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    detector_version: Mapped[str] = mapped_column(String(20))
    first_version: Mapped[int] = mapped_column(Integer)
    last_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the author's private message
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the moderators' flag on the post
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)


class PostScan(Base):
    """One version of one post, scanned: a replayed delivery finds its row and does nothing again."""

    __tablename__ = "post_scans"

    post_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))  # acting (actions under way), done
    findings: Mapped[int] = mapped_column(Integer)
    pm_attempted: Mapped[bool] = mapped_column(Boolean, default=False)
    pm_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FindingAllowance(Base):
    """A value a moderator dismissed for an author: that fingerprint is not reported for them again."""

    __tablename__ = "finding_allowances"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    forum_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    finding_id: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthorNotice(Base):
    """When the sidecar last sent an author a private message about their posts (one per window)."""

    __tablename__ = "author_notices"

    forum_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_pm_at: Mapped[datetime] = mapped_column(UTCDateTime)
