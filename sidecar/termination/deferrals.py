"""Board deferrals: the Board delays the termination of a member, or of every member of an organization.

A deferral names its target, the reason, the Board resolution that decided it and the last day it holds
(no later than ``termination.max_deferral_days`` after the day it is requested). It takes effect once
``termination.deferral_approvals`` distinct Board members have approved it; the request itself is not an
approval (the requester may approve it too, as one of them). A revoked or expired deferral holds nothing:
the next sweep terminates a member who is still ineligible.

Who is on the Board is the forum's answer, asked every time: the members of the ``termination.board_group``
group. Every step is audited under the acting Board member's name, and every change that can alter
someone's standing asks the worker for a sweep (``sweeps.request_sweep``), so it shows on the forum within
``termination.resume_minutes``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sidecar import audit
from sidecar.clock import Clock
from sidecar.config import TerminationConfig
from sidecar.db.models import Deferral, DeferralApproval, Member, Organization, Standing
from sidecar.forum.port import ForumClient, NotFound
from sidecar.termination.sweeps import request_sweep


class DeferralRefused(Exception):
    """The deferral action cannot be taken; the message says why."""


class DeferralStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    IN_EFFECT = "in_effect"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class DeferralView:
    id: int
    member_number: str | None
    org_id: str | None
    reason: str
    resolution: str
    until: date
    requested_by: str
    requested_at: datetime
    approvals: tuple[tuple[str, datetime], ...]
    required_approvals: int
    status: DeferralStatus
    effective_at: datetime | None
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str | None

    @property
    def target(self) -> str:
        return (
            f"member:{self.member_number}"
            if self.member_number is not None
            else f"organization:{self.org_id}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "member_number": self.member_number,
            "organization": self.org_id,
            "reason": self.reason,
            "resolution": self.resolution,
            "until": self.until.isoformat(),
            "status": self.status.value,
            "requested_by": self.requested_by,
            "requested_at": self.requested_at.isoformat(),
            "approvals": [{"by": name, "at": at.isoformat()} for name, at in self.approvals],
            "required_approvals": self.required_approvals,
            "effective_at": self.effective_at.isoformat() if self.effective_at else None,
            "revoked_by": self.revoked_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoke_reason": self.revoke_reason,
        }


def status_of(row: Deferral, approvals: int, required: int, today: date) -> DeferralStatus:
    if row.revoked_at is not None:
        return DeferralStatus.REVOKED
    if today > row.until:
        return DeferralStatus.EXPIRED
    if approvals >= required:
        return DeferralStatus.IN_EFFECT
    return DeferralStatus.AWAITING_APPROVAL


class DeferralService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        settings: TerminationConfig,
        forum: ForumClient | None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings
        self._forum = forum

    # --- actions

    def request(
        self,
        *,
        member_number: str | None = None,
        org_id: str | None = None,
        reason: str,
        resolution: str,
        until: date,
        actor: str,
    ) -> DeferralView:
        if (member_number is None) == (org_id is None):
            raise DeferralRefused("a deferral names either a member or an organization")
        reason, resolution = reason.strip(), resolution.strip()
        if not reason:
            raise DeferralRefused("a reason is required")
        if not resolution:
            raise DeferralRefused("the Board resolution reference is required")
        if len(resolution) > 200:
            raise DeferralRefused("the Board resolution reference is longer than 200 characters")
        now = self._clock.now()
        today = now.date()
        latest = today + timedelta(days=self._settings.max_deferral_days)
        if until < today:
            raise DeferralRefused(f"--until {until.isoformat()} is in the past")
        if until > latest:
            raise DeferralRefused(
                f"--until {until.isoformat()} is more than termination.max_deferral_days"
                f" ({self._settings.max_deferral_days}) ahead: the latest allowed is {latest.isoformat()}"
            )
        actor = self._require_board(actor)
        with self._sessions.begin() as session:
            if member_number is not None and not _member_known(session, member_number):
                raise DeferralRefused(f"no member {member_number}")
            if org_id is not None and session.get(Organization, org_id) is None:
                raise DeferralRefused(f"no organization {org_id}")
            row = Deferral(
                member_number=member_number,
                org_id=org_id,
                reason=reason,
                resolution=resolution,
                until=until,
                requested_by=actor,
                requested_at=now,
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                at=now,
                actor=actor,
                action="deferral.requested",
                target=_target(row),
                details={
                    "deferral": row.id,
                    "reason": reason,
                    "resolution": resolution,
                    "until": until.isoformat(),
                },
            )
            return self._view(session, row)

    def approve(self, deferral_id: int, *, actor: str) -> DeferralView:
        actor = self._require_board(actor)
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._open(session, deferral_id)
            if session.get(DeferralApproval, (deferral_id, actor.lower())) is not None:
                raise DeferralRefused(f"{actor} has approved deferral {deferral_id} already")
            session.add(DeferralApproval(deferral_id=deferral_id, username=actor.lower(), at=now))
            session.flush()
            count = self._approval_count(session, deferral_id)
            audit.record(
                session,
                at=now,
                actor=actor,
                action="deferral.approved",
                target=_target(row),
                details={"deferral": deferral_id, "approvals": count},
            )
            if row.effective_at is None and count >= self._settings.deferral_approvals:
                row.effective_at = now
                audit.record(
                    session,
                    at=now,
                    actor=actor,
                    action="deferral.in_effect",
                    target=_target(row),
                    details={"deferral": deferral_id, "approvals": count, "until": row.until.isoformat()},
                )
                request_sweep(session, cause=f"deferral:{deferral_id}:in_effect", actor=actor, now=now)
            return self._view(session, row)

    def revoke(self, deferral_id: int, *, actor: str, reason: str) -> DeferralView:
        reason = reason.strip()
        if not reason:
            raise DeferralRefused("a reason is required")
        actor = self._require_board(actor)
        now = self._clock.now()
        with self._sessions.begin() as session:
            row = self._open(session, deferral_id)
            row.revoked_at, row.revoked_by, row.revoke_reason = now, actor, reason
            audit.record(
                session,
                at=now,
                actor=actor,
                action="deferral.revoked",
                target=_target(row),
                details={"deferral": deferral_id, "reason": reason},
            )
            if row.effective_at is not None:
                request_sweep(session, cause=f"deferral:{deferral_id}:revoked", actor=actor, now=now)
            return self._view(session, row)

    def all(self) -> list[DeferralView]:
        """Every deferral, newest first."""
        with self._sessions() as session:
            rows = session.execute(select(Deferral).order_by(Deferral.id.desc())).scalars().all()
            return [self._view(session, row) for row in rows]

    def get(self, deferral_id: int) -> DeferralView:
        with self._sessions() as session:
            row = session.get(Deferral, deferral_id)
            if row is None:
                raise DeferralRefused(f"no deferral {deferral_id}")
            return self._view(session, row)

    # --- pieces

    def _require_board(self, actor: str) -> str:
        """The actor's forum username if they are on the Board; refused otherwise (or with no forum)."""
        name = actor.strip()
        if not name:
            raise DeferralRefused("--as must name a Board member")
        if self._forum is None:
            raise DeferralRefused(
                "no forum is configured (forum.url): Board membership is checked on the forum"
            )
        group = self._settings.board_group
        try:
            board = self._forum.group_members(group)
        except NotFound:
            raise DeferralRefused(f"the Board group {group!r} does not exist on the forum") from None
        for member in board:
            if member.username.lower() == name.lower():
                return member.username
        raise DeferralRefused(f"{name!r} is not a member of the Board group {group!r} on the forum")

    def _open(self, session: Session, deferral_id: int) -> Deferral:
        row = session.get(Deferral, deferral_id, with_for_update=True)
        if row is None:
            raise DeferralRefused(f"no deferral {deferral_id}")
        today = self._clock.now().date()
        if row.revoked_at is not None:
            raise DeferralRefused(f"deferral {deferral_id} was revoked by {row.revoked_by}")
        if today > row.until:
            raise DeferralRefused(f"deferral {deferral_id} expired on {row.until.isoformat()}")
        return row

    def _approval_count(self, session: Session, deferral_id: int) -> int:
        return len(self._approvals(session, deferral_id))

    def _approvals(self, session: Session, deferral_id: int) -> list[tuple[str, datetime]]:
        rows = session.execute(
            select(DeferralApproval.username, DeferralApproval.at)
            .where(DeferralApproval.deferral_id == deferral_id)
            .order_by(DeferralApproval.at, DeferralApproval.username)
        )
        return [(name, at) for name, at in rows]

    def _view(self, session: Session, row: Deferral) -> DeferralView:
        approvals = self._approvals(session, row.id)
        required = self._settings.deferral_approvals
        return DeferralView(
            id=row.id,
            member_number=row.member_number,
            org_id=row.org_id,
            reason=row.reason,
            resolution=row.resolution,
            until=row.until,
            requested_by=row.requested_by,
            requested_at=row.requested_at,
            approvals=tuple(approvals),
            required_approvals=required,
            status=status_of(row, len(approvals), required, self._clock.now().date()),
            effective_at=row.effective_at,
            revoked_by=row.revoked_by,
            revoked_at=row.revoked_at,
            revoke_reason=row.revoke_reason,
        )


def _member_known(session: Session, member_number: str) -> bool:
    return session.get(Member, member_number) is not None or session.get(Standing, member_number) is not None


def _target(row: Deferral) -> str:
    return f"member:{row.member_number}" if row.member_number is not None else f"organization:{row.org_id}"
