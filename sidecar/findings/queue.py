"""The moderators' queue: list findings, dismiss one (a false positive), confirm one (maybe hiding the post).

``--as`` names the acting moderator; the forum is asked whether that account is staff (a moderator or an
admin) before anything changes, and every decision is audited under that name. Dismissing a finding
allows its fingerprint for its author, so the same value is not reported for them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sidecar import audit
from sidecar.clock import Clock
from sidecar.db.models import FindingAllowance, FindingStatus, PostFinding
from sidecar.forum.port import FlagType, ForumClient


class QueueRefused(Exception):
    """The decision cannot be taken; the message says why."""


def finding_json(row: PostFinding) -> dict[str, Any]:
    return {
        "id": row.id,
        "post_id": row.post_id,
        "topic_id": row.topic_id,
        "post_number": row.post_number,
        "author_id": row.author_id,
        "author": row.author_username,
        "type": row.type,
        "severity": row.severity,
        "start": row.span_start,
        "end": row.span_end,
        "preview": row.preview,
        "fingerprint": row.fingerprint,
        "detector_version": row.detector_version,
        "version": row.last_version,
        "status": row.status,
        "first_seen_at": row.first_seen_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "notified_at": row.notified_at.isoformat() if row.notified_at else None,
        "flagged_at": row.flagged_at.isoformat() if row.flagged_at else None,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "reason": row.decision_reason,
    }


@dataclass
class FindingsQueue:
    sessions: sessionmaker[Session]
    clock: Clock
    forum: ForumClient | None

    def list(self, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        query = select(PostFinding).order_by(PostFinding.id.desc()).limit(limit)
        if status is not None:
            query = query.where(PostFinding.status == status)
        with self.sessions() as session:
            return [finding_json(row) for row in session.execute(query).scalars()]

    def dismiss(self, finding_id: int, *, actor: str, reason: str) -> dict[str, Any]:
        reason = reason.strip()
        if not reason:
            raise QueueRefused("a reason is required")
        actor = self._require_staff(actor)
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = self._decidable(session, finding_id)
            row.status, row.decided_by, row.decided_at = FindingStatus.DISMISSED, actor, now
            row.decision_reason, row.updated_at = reason, now
            if (
                row.author_id is not None
                and session.get(FindingAllowance, (row.fingerprint, row.author_id)) is None
            ):
                session.add(
                    FindingAllowance(
                        fingerprint=row.fingerprint,
                        forum_user_id=row.author_id,
                        finding_id=row.id,
                        created_by=actor,
                        created_at=now,
                    )
                )
            audit.record(
                session,
                at=now,
                actor=actor,
                action="finding.dismissed",
                target=f"finding:{row.id}",
                details={"post": row.post_id, "type": row.type, "author": row.author_id, "reason": reason},
            )
            return finding_json(row)

    def confirm(self, finding_id: int, *, actor: str, hide: bool = False) -> dict[str, Any]:
        actor = self._require_staff(actor)
        with self.sessions() as session:
            row = self._decidable(session, finding_id)
            post_id, flagged = row.post_id, row.flagged_at is not None
        if hide and flagged:
            # Discourse takes one flag per user and post: the sidecar's own flag is there already, and
            # agreeing with it (which hides the post) is the review queue's business.
            raise QueueRefused(
                f"post {post_id} carries the sidecar's flag already: hide it from the forum's review queue"
                " (Agree and hide post), then confirm without --hide"
            )
        if hide:
            assert self.forum is not None
            # A staff flag with take_action hides the post at once. Not notify_moderators: the sidecar may
            # have raised that one already, and Discourse refuses the same flag twice.
            self.forum.with_cause(f"staff:{actor}").flag_post(
                post_id, flag_type=FlagType.INAPPROPRIATE, take_action=True
            )
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = self._decidable(session, finding_id)
            row.status, row.decided_by, row.decided_at, row.updated_at = (
                FindingStatus.CONFIRMED,
                actor,
                now,
                now,
            )
            audit.record(
                session,
                at=now,
                actor=actor,
                action="finding.confirmed",
                target=f"finding:{row.id}",
                details={"post": row.post_id, "type": row.type, "author": row.author_id, "hidden": hide},
            )
            return finding_json(row)

    def _decidable(self, session: Session, finding_id: int) -> PostFinding:
        row = session.get(PostFinding, finding_id)
        if row is None:
            raise QueueRefused(f"no finding {finding_id}")
        if row.status in (FindingStatus.DISMISSED, FindingStatus.CONFIRMED):
            raise QueueRefused(f"finding {finding_id} was {row.status} by {row.decided_by} already")
        return row

    def _require_staff(self, actor: str) -> str:
        name = actor.strip()
        if self.forum is None:
            raise QueueRefused("no forum is configured (forum.url): moderators are checked on the forum")
        user = self.forum.find_user_by_username(name) if name else None
        if user is None or not user.staff:
            raise QueueRefused(f"{name!r} is not a moderator or an admin of the forum")
        return user.username
