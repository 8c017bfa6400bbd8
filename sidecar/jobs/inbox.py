"""The durable inbox: storing deliveries once, claiming them in order, recording outcomes.

Claiming follows the pattern of Solid Queue / Oban: one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
LOCKED LIMIT n) RETURNING``. ``next_attempt_at`` is both the retry time and the lease of a claimed row: a
worker that dies leaves its row ``processing`` with a lapsing lease, and the row is claimed again. A row is
not claimable while an earlier row about the same subject is unfinished, which keeps per-subject order.
Dead rows do not hold their subject back (an admin may retry them later; handlers re-read current state).
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Insert, Update, bindparam, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from sidecar.db.engine import insert_or_ignore
from sidecar.db.models import Base, Delivery, DeliveryStatus, WebhookRejection

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class IncomingDelivery:
    instance: str
    event_id: int
    event_type: str
    event_name: str
    subject: str | None
    content_type: str
    body: bytes
    received_at: datetime
    # False for events whose identical bodies are distinct events (pings).
    dedupe_on_content: bool = True


@dataclass(frozen=True)
class StoreResult:
    delivery_id: int
    duplicate: bool


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    instance: str
    event_id: int
    event_type: str
    event_name: str
    body: bytes
    attempts: int
    received_at: datetime
    claim: str  # the claim token; outcomes are recorded only while it still holds


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def dedupe_key(instance: str, event_name: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (instance.encode(), event_name.encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


@functools.cache
def _insert_once(dialect_name: str) -> Insert:
    """Built once per dialect: constructing the statement per request cost more than executing it."""
    table = Base.metadata.tables[Delivery.__tablename__]
    return insert_or_ignore(dialect_name, table).returning(table.c.id)


def store(conn: Connection, incoming: IncomingDelivery) -> StoreResult:
    """Insert a delivery unless it is a duplicate (same event id, or same event and body)."""
    key = (
        dedupe_key(incoming.instance, incoming.event_name, incoming.body)
        if incoming.dedupe_on_content
        else None
    )
    values = {
        "instance": incoming.instance,
        "event_id": incoming.event_id,
        "event_type": incoming.event_type,
        "event_name": incoming.event_name,
        "subject": incoming.subject,
        "content_type": incoming.content_type[:200],
        "body": incoming.body,
        "body_sha256": body_hash(incoming.body),
        "dedupe_key": key,
        "received_at": incoming.received_at,
        "status": DeliveryStatus.RECEIVED,
        "attempts": 0,
        "next_attempt_at": incoming.received_at,
    }
    new_id = conn.execute(_insert_once(conn.dialect.name), values).scalar_one_or_none()
    if new_id is not None:
        return StoreResult(delivery_id=new_id, duplicate=False)
    condition = (Delivery.instance == incoming.instance) & (Delivery.event_id == incoming.event_id)
    if key is not None:
        condition = condition | (Delivery.dedupe_key == key)
    existing = conn.execute(select(Delivery.id).where(condition).limit(1)).scalar_one()
    return StoreResult(delivery_id=existing, duplicate=True)


def record_rejection(session: Session, rejection: WebhookRejection) -> None:
    session.add(rejection)


def _claim_statements() -> tuple[Update, Update]:
    """The two statements of a claim, built once: building and keying them cost more than running them."""
    unfinished = DeliveryStatus.unfinished()
    # A claim whose lease lapsed on its last allowed attempt: its worker keeps dying on it.
    lapsed = (
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.PROCESSING,
            Delivery.next_attempt_at <= bindparam("now"),
            Delivery.attempts >= bindparam("max_attempts"),
        )
        .values(
            status=DeliveryStatus.DEAD,
            finished_at=bindparam("now"),
            claimed_by=None,
            last_error="claim lapsed on the last attempt (the worker stopped mid-delivery)",
        )
    )
    earlier = aliased(Delivery)
    held_back = exists().where(
        earlier.subject == Delivery.subject,
        earlier.id < Delivery.id,
        earlier.status.in_(unfinished),
    )
    # Up to ``limit`` due rows, oldest first. No two share a subject: a row is held back while an earlier
    # one of its subject is unfinished, and every chosen row is (the check runs before the update).
    candidates = (
        select(Delivery.id)
        .where(Delivery.status.in_(unfinished), Delivery.next_attempt_at <= bindparam("now"), ~held_back)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )
    take = (
        update(Delivery)
        .where(Delivery.id.in_(candidates.scalar_subquery()))
        .values(
            status=DeliveryStatus.PROCESSING,
            attempts=Delivery.attempts + 1,
            claimed_by=bindparam("token"),
            next_attempt_at=bindparam("lease_until"),
        )
        .returning(
            Delivery.id,
            Delivery.instance,
            Delivery.event_id,
            Delivery.event_type,
            Delivery.event_name,
            Delivery.body,
            Delivery.attempts,
            Delivery.received_at,
        )
    )
    return lapsed, take


_LAPSED, _TAKE = _claim_statements()


def claim(
    session: Session, *, now: datetime, lease_seconds: float, worker: str, max_attempts: int
) -> ClaimedDelivery | None:
    """Claim the next due delivery for ``worker``, or None. Commit promptly: the claim is the lock."""
    claimed = claim_many(
        session, now=now, lease_seconds=lease_seconds, worker=worker, max_attempts=max_attempts, limit=1
    )
    return claimed[0] if claimed else None


_ANYTHING_DUE = select(
    exists().where(
        Delivery.status.in_(DeliveryStatus.unfinished()), Delivery.next_attempt_at <= bindparam("now")
    )
)


def anything_due(session: Session, now: datetime) -> bool:
    """Whether a claim at ``now`` could find anything (a lapsed claim counts): a read, which on SQLite takes
    no write lock, asked before the claim, which does. An idle worker asks it at every look for work."""
    return bool(session.connection().execute(_ANYTHING_DUE, {"now": now}).scalar())


def claim_many(
    session: Session, *, now: datetime, lease_seconds: float, worker: str, max_attempts: int, limit: int
) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due deliveries for ``worker`` in one statement, in the order to process them
    (no two about the same subject). Commit promptly: the claim is the lock."""
    conn = session.connection()  # Core, not the ORM's bulk update (which matches rows against the session)
    conn.execute(_LAPSED, {"now": now, "max_attempts": max_attempts})
    token = f"{worker}/{uuid.uuid4().hex[:12]}"
    rows = conn.execute(
        _TAKE,
        {"now": now, "token": token, "lease_until": now + timedelta(seconds=lease_seconds), "limit": limit},
    ).all()
    claimed = [
        ClaimedDelivery(
            id=row.id,
            instance=row.instance,
            event_id=row.event_id,
            event_type=row.event_type,
            event_name=row.event_name,
            body=row.body,
            attempts=row.attempts,
            received_at=row.received_at,
            claim=token,
        )
        for row in rows
    ]
    claimed.sort(key=lambda c: c.id)  # RETURNING has no order; ids are the order of arrival
    return claimed


def release(session: Session, claimed: Sequence[ClaimedDelivery], now: datetime) -> int:
    """Give back claimed deliveries not started (a worker stopping): due again at once, the attempt
    unspent. Returns how many were still this worker's."""
    given_back = 0
    conn = session.connection()
    for delivery in claimed:
        given_back += conn.execute(
            _RELEASE,
            {
                **_held(delivery),
                "now": now,
                "status": DeliveryStatus.RECEIVED if delivery.attempts <= 1 else DeliveryStatus.FAILED,
            },
        ).rowcount
    return given_back


class ClaimLost(Exception):
    """The claim lapsed and another worker took the delivery: this worker's outcome must not count."""


# The row still held by the claim: what every outcome's update is conditioned on.
_HELD = (
    Delivery.id == bindparam("delivery_id"),
    Delivery.claimed_by == bindparam("claim"),
    Delivery.status == DeliveryStatus.PROCESSING,
)


def _held(claimed: ClaimedDelivery) -> dict[str, object]:
    return {"delivery_id": claimed.id, "claim": claimed.claim}


def _require_claim(claimed: ClaimedDelivery, updated: int | None) -> None:
    if updated is None:
        raise ClaimLost(f"delivery {claimed.id}: claim {claimed.claim} no longer holds")


def _settle(session: Session, claimed: ClaimedDelivery, **values: object) -> None:
    statement = update(Delivery).where(*_HELD).values(claimed_by=None, **values).returning(Delivery.id)
    _require_claim(claimed, session.connection().execute(statement, _held(claimed)).scalar_one_or_none())


# The text fields a delivery can carry: a post's (post events), a flagged post's (reviewable events).
# Removed once the delivery is finished; ids, names and hashes stay.
TEXT_FIELDS = frozenset({"raw", "cooked", "excerpt"})


def without_post_text(event_type: str, body: bytes) -> bytes | None:
    """The body with every post text taken out (``"raw": null``...), or None when it holds none.

    Sensitive values a member pasted must not outlive the processing of the webhook that carried them: the
    findings keep masked previews and fingerprints only, and the inbox keeps ids, names and hashes. Post
    events carry the text, and so do reviewable events (the flagged post's ``raw`` and ``cooked``).
    """
    if event_type not in ("post", "reviewable", "topic"):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not _blank_text(document):
        return None
    return json.dumps(document, separators=(",", ":")).encode()


def _blank_text(node: object) -> bool:
    changed = False
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_FIELDS and value is not None:
                node[key] = None
                changed = True
            elif isinstance(value, dict | list):
                changed = _blank_text(value) or changed
    elif isinstance(node, list):
        for item in node:
            changed = _blank_text(item) or changed
    return changed


def _finish_statement(*, with_body: bool) -> Update:
    values: dict[str, object] = {
        "claimed_by": None,
        "status": bindparam("status"),
        "finished_at": bindparam("now"),
        "last_error": None,
    }
    if with_body:
        values["body"] = bindparam("body")
    return update(Delivery).where(*_HELD).values(**values).returning(Delivery.id)


# Built once, like the claim's: the worker runs one of them for every delivery.
_FINISH, _FINISH_SCRUBBED = _finish_statement(with_body=False), _finish_statement(with_body=True)
_RELEASE = (
    update(Delivery)
    .where(*_HELD)
    .values(
        claimed_by=None,
        status=bindparam("status"),
        attempts=Delivery.attempts - 1,
        next_attempt_at=bindparam("now"),
    )
)


def finish(session: Session, claimed: ClaimedDelivery, status: DeliveryStatus, now: datetime) -> None:
    """Record success (``done`` or ``ignored``) in the handler's own transaction."""
    params: dict[str, object] = {**_held(claimed), "status": status, "now": now}
    redacted = without_post_text(claimed.event_type, claimed.body)
    if redacted is not None:
        params["body"] = redacted
    statement = _FINISH_SCRUBBED if redacted is not None else _FINISH
    _require_claim(claimed, session.connection().execute(statement, params).scalar_one_or_none())


def fail(
    session: Session, claimed: ClaimedDelivery, error: str, *, now: datetime, retry_at: datetime | None
) -> DeliveryStatus:
    """Record a failed attempt: ``failed`` until ``retry_at``, or ``dead`` when there is none."""
    status = DeliveryStatus.FAILED if retry_at is not None else DeliveryStatus.DEAD
    values: dict[str, object] = {}
    if status == DeliveryStatus.DEAD:
        redacted = without_post_text(claimed.event_type, claimed.body)
        if redacted is not None:
            values["body"] = redacted  # a retry by an admin reads the post from the forum
    _settle(
        session,
        claimed,
        status=status,
        last_error=error[:MAX_ERROR_LENGTH],
        next_attempt_at=retry_at or now,
        finished_at=None if retry_at is not None else now,
        **values,
    )
    return status


def postpone(session: Session, claimed: ClaimedDelivery, reason: str, *, until: datetime) -> None:
    """Give the delivery back without spending an attempt (the forum asked us to wait)."""
    _settle(
        session,
        claimed,
        status=DeliveryStatus.FAILED,
        attempts=Delivery.attempts - 1,
        last_error=reason[:MAX_ERROR_LENGTH],
        next_attempt_at=until,
    )


class RetryRefused(Exception):
    pass


def retry(session: Session, delivery_id: int, now: datetime) -> Delivery:
    """An admin's retry: the delivery runs again as soon as a worker is free, with fresh attempts."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise RetryRefused(f"no delivery {delivery_id}")
    if delivery.status == DeliveryStatus.PROCESSING:
        raise RetryRefused(f"delivery {delivery_id} is being processed right now")
    delivery.status = DeliveryStatus.RECEIVED
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.finished_at = None
    return delivery


def list_deliveries(session: Session, status: str | None = None, limit: int = 100) -> Sequence[Delivery]:
    query = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Delivery.status == status)
    return session.execute(query).scalars().all()


def list_rejections(session: Session, limit: int = 100) -> Sequence[WebhookRejection]:
    query = select(WebhookRejection).order_by(WebhookRejection.id.desc()).limit(limit)
    return session.execute(query).scalars().all()


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    return counts
