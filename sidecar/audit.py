"""The audit log: who did what to whom, when and why. Append-only.

An entry is written in the caller's session, so it commits or rolls back with the change it describes
(STYLE.md rule 8): there is never a change without its entry, nor an entry for a change that did not
happen. This module offers no update or delete. Reads of membership data (a lookup, an export) are
audited too (DESIGN.md), so entries name records, counts and file hashes rather than copying the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sidecar.db.models import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any],
    at: datetime | None = None,
) -> AuditEntry:
    """Add an entry to ``session`` and flush it (so it has its id); the caller commits.

    ``details`` must be JSON-serializable; it is stored with sorted keys so equal details read the same.
    Pass ``at`` from the runtime's clock (DESIGN.md decision 6) so tests see fixed times; without it the
    entry is stamped with the current UTC time.
    """
    if at is not None and at.tzinfo is None:
        raise ValueError("audit entries need a timezone-aware time")
    entry = AuditEntry(
        at=at if at is not None else datetime.now(UTC),
        actor=actor,
        action=action,
        target=target,
        details=json.dumps(dict(details), sort_keys=True, separators=(",", ":")),
    )
    session.add(entry)
    session.flush()
    return entry


def record_many(
    session: Session, entries: Sequence[tuple[str, str, str, Mapping[str, Any]]], *, at: datetime
) -> int:
    """Add many entries at once (one executemany): ``(actor, action, target, details)`` each. The caller
    commits; the count is returned. For sweeps and imports that change many records in one step."""
    if at.tzinfo is None:
        raise ValueError("audit entries need a timezone-aware time")
    rows = [
        {
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "details": json.dumps(dict(details), sort_keys=True, separators=(",", ":")),
        }
        for actor, action, target, details in entries
    ]
    if rows:
        session.execute(insert(AuditEntry), rows)
    return len(rows)


def details_of(entry: AuditEntry) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(entry.details)
    return loaded


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    target: str | None = None,
    actor: str | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Entries newest first, optionally only those of one action, target or actor."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    return session.execute(query).scalars().all()
