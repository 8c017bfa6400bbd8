"""Reading what a sweep plans from, and writing what it decided, in the caller's session.

Loading is a handful of whole-table queries into records (no ORM object per member), so planning over
100,000 members costs a few statements; writing a plan is batched the same way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from sidecar.db.models import Deferral, DeferralApproval, ForumLink, Standing
from sidecar.membership.repository import load_snapshot
from sidecar.termination.plan import (
    DeferralRecord,
    Enrolment,
    LinkedAccount,
    StandingRecord,
    State,
    SweepInputs,
    Transition,
)

T = TypeVar("T")


def load_inputs(session: Session, today: date) -> SweepInputs:
    standings = {
        number: StandingRecord(State(state), reason, deferral_id)
        for number, state, reason, deferral_id in session.execute(
            select(Standing.member_number, Standing.state, Standing.reason, Standing.deferral_id)
        )
    }
    return SweepInputs(
        snapshot=load_snapshot(session),
        standings=standings,
        accounts=load_accounts(session),
        deferrals=load_deferrals(session, today),
    )


def load_accounts(session: Session) -> dict[str, list[LinkedAccount]]:
    accounts: dict[str, list[LinkedAccount]] = defaultdict(list)
    rows = session.execute(
        select(
            ForumLink.member_number,
            ForumLink.forum_user_id,
            ForumLink.username,
            ForumLink.granted_groups,
            ForumLink.withheld_groups,
            ForumLink.imposed_suspension,
        ).where(ForumLink.member_number.is_not(None))
    )
    for number, user_id, username, granted, withheld, imposed in rows:
        assert number is not None  # selected so
        accounts[number].append(
            LinkedAccount(
                forum_user_id=user_id,
                username=username,
                granted_groups=tuple(json.loads(granted or "[]")),
                withheld_groups=tuple(json.loads(withheld or "[]")),
                imposed_suspension=bool(imposed),
            )
        )
    return dict(accounts)


def load_deferrals(session: Session, today: date) -> list[DeferralRecord]:
    """The deferrals not revoked and not over by ``today``, with their approval counts."""
    approvals = (
        select(DeferralApproval.deferral_id, func.count().label("n"))
        .group_by(DeferralApproval.deferral_id)
        .subquery()
    )
    rows = session.execute(
        select(Deferral.id, Deferral.member_number, Deferral.org_id, Deferral.until, approvals.c.n)
        .outerjoin(approvals, approvals.c.deferral_id == Deferral.id)
        .where(Deferral.revoked_at.is_(None), Deferral.until >= today)
    )
    return [
        DeferralRecord(id=i, member_number=m, org_id=o, until=u, approvals=n or 0) for i, m, o, u, n in rows
    ]


def record_standings(
    session: Session, transitions: Sequence[Transition], enrolments: Iterable[Enrolment], now: datetime
) -> None:
    """Write the standings a plan decided: new rows for enrolments, replaced rows for transitions."""
    # Members met for the first time with a linked account have no row yet: replace rather than update.
    changed = [t.member_number for t in transitions]
    for numbers in _chunks(changed, 500):
        session.execute(delete(Standing).where(Standing.member_number.in_(numbers)))
    rows: list[dict[str, Any]] = [
        {"member_number": e.member_number, "state": e.state.value, "reason": e.reason, "since": now}
        | {"deferral_id": None}
        for e in enrolments
    ]
    rows += [
        {
            "member_number": t.member_number,
            "state": t.after.value,
            "reason": t.reason,
            "since": now,
            "deferral_id": t.deferral_id,
        }
        for t in transitions
    ]
    for chunk in _chunks(rows, 1000):
        session.execute(insert(Standing), list(chunk))


def set_link_state(
    session: Session,
    forum_user_id: int,
    *,
    imposed_suspension: bool | None = None,
    withheld_groups: Sequence[str] | None = None,
) -> None:
    values: dict[str, object] = {}
    if imposed_suspension is not None:
        values["imposed_suspension"] = imposed_suspension
    if withheld_groups is not None:
        values["withheld_groups"] = json.dumps(sorted(set(withheld_groups)))
    if values:
        session.execute(update(ForumLink).where(ForumLink.forum_user_id == forum_user_id).values(**values))


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
