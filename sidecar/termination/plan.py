"""The termination sweep as a plan: whose standing changes today, why, and what it does on the forum.

Pure: a function of the membership (records), the standings the sidecar recorded, the forum accounts
linked to members, the Board deferrals, the rules and a date. It reads no clock, database or forum, so a
dry run shows exactly what a sweep does, and tests can state every case.

A member's standing is the lifecycle of DESIGN.md, recorded by the sidecar in ``standings`` (apart from
``members.status``, the association's own record that imports overwrite):

- ``active`` / ``grace``: may use the forum. ``grace`` is "eligible, dues overdue but inside the grace
  period" (eligibility reason ``in_grace``).
- ``terminated``: ineligible; linked forum accounts are suspended and lose the groups the sidecar granted.
- ``deferred``: ineligible, but a Board deferral in effect holds the termination (the account keeps access).
- ``pending``: never admitted (the sweep met the member ineligible, with no forum account).

The transitions, for a member whose eligibility today (``eligibility.decide``) says:

- eligible: ``→ active`` (``→ grace`` when the reason is ``in_grace``) from any standing; from
  ``terminated`` that is a reinstatement.
- ineligible, a deferral in effect for the member or their organization: ``active``/``grace``/``terminated``
  ``→ deferred`` (a deferral of an already terminated member gives the account back while it holds).
- ineligible, no deferral: ``active``/``grace``/``deferred`` ``→ terminated``.
- a standing whose member is no longer in the database is ineligible (``member_not_found``), so it ends.

A member the sweep meets for the first time (no standing) is recorded without a transition: ``active`` or
``grace`` when eligible, else ``pending``; but one who already has a linked forum account was admitted, and
is treated as coming from ``active``: an ineligible one is terminated like anyone else, one in grace gets
the ``active → grace`` transition with its message (nobody loses access without that warning, even on the
first sweep after installation), and one eligible outright is recorded as it is.

Forum steps, for every forum account linked to the member:

- ``→ terminated`` (from a standing with access): remove the groups the sidecar granted, then suspend.
- ``terminated →`` a standing with access: lift the suspension if the sidecar imposed it, then give back
  the groups the termination took away.
- ``active → grace``: a private message, when ``[termination] grace_message`` is set.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sidecar.membership.eligibility import Eligibility, MembershipRules, Reason, decide
from sidecar.membership.records import MemberRecord, MembershipSnapshot, MemberStatus, OrganizationRecord

State = MemberStatus
WITH_ACCESS = frozenset({State.ACTIVE, State.GRACE, State.DEFERRED})


class Action(enum.StrEnum):
    REMOVE_GROUPS = "remove_groups"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    RESTORE_GROUPS = "restore_groups"
    GRACE_MESSAGE = "grace_message"


@dataclass(frozen=True, slots=True)
class StandingRecord:
    state: State
    reason: str
    deferral_id: int | None = None


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """A forum account linked to a member, with what the sidecar granted, took away or imposed."""

    forum_user_id: int
    username: str
    granted_groups: tuple[str, ...] = ()
    withheld_groups: tuple[str, ...] = ()
    imposed_suspension: bool = False


@dataclass(frozen=True, slots=True)
class DeferralRecord:
    id: int
    member_number: str | None
    org_id: str | None
    until: date  # in effect through this day
    approvals: int
    revoked: bool = False

    def in_effect(self, today: date, required_approvals: int) -> bool:
        return not self.revoked and self.approvals >= required_approvals and today <= self.until


@dataclass(frozen=True, slots=True)
class ForumStep:
    action: Action
    forum_user_id: int
    username: str
    groups: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "action": self.action.value,
            "forum_user_id": self.forum_user_id,
            "username": self.username,
        }
        if self.groups:
            out["groups"] = list(self.groups)
        return out


@dataclass(frozen=True, slots=True)
class Transition:
    member_number: str
    before: State
    after: State
    reason: str  # the eligibility reason (``dues_unpaid``, ``eligible``, ...)
    steps: tuple[ForumStep, ...] = ()
    deferral_id: int | None = None
    grace_ends: date | None = None  # for ``→ grace``: the last day of access

    @property
    def terminates(self) -> bool:
        return self.after is State.TERMINATED

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "member_number": self.member_number,
            "from": self.before.value,
            "to": self.after.value,
            "reason": self.reason,
            "forum_actions": [s.to_json() for s in self.steps],
        }
        if self.deferral_id is not None:
            out["deferral"] = self.deferral_id
        if self.grace_ends is not None:
            out["grace_ends"] = self.grace_ends.isoformat()
        return out


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A member met for the first time, recorded as ``state`` without a transition."""

    member_number: str
    state: State
    reason: str


@dataclass(frozen=True)
class SweepPlan:
    today: date
    transitions: Sequence[Transition]
    enrolments: Sequence[Enrolment]
    with_access: int  # members whose standing gave forum access before the sweep (active, grace, deferred)

    @property
    def terminations(self) -> int:
        return sum(1 for t in self.transitions if t.terminates)

    @property
    def forum_steps(self) -> int:
        return sum(len(t.steps) for t in self.transitions)

    def over_limit(self, *, max_share: float, max_count: int) -> str | None:
        """Why this plan terminates too many members to go ahead unforced; None when it does not."""
        count = self.terminations
        if count > max_count:
            return f"it would terminate {count} members, more than termination.max_count ({max_count})"
        # Rounded first: 0.29 * 100 is 28.999999999999996 in floating point, and 29 of 100 is at the limit.
        if count > math.floor(round(max_share * self.with_access, 9)):
            share = count / self.with_access if self.with_access else 1.0
            return (
                f"it would terminate {count} of {self.with_access} members with forum access ({share:.1%}),"
                f" more than termination.max_share ({max_share:.1%})"
            )
        return None

    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, int] = {}
        for t in self.transitions:
            key = f"{t.before.value}->{t.after.value}"
            by_kind[key] = by_kind.get(key, 0) + 1
        return {
            "as_of": self.today.isoformat(),
            "transitions": len(self.transitions),
            "by_kind": dict(sorted(by_kind.items())),
            "terminations": self.terminations,
            "with_access": self.with_access,
            "enrolled": len(self.enrolments),
            "forum_actions": self.forum_steps,
        }


@dataclass(frozen=True)
class SweepInputs:
    snapshot: MembershipSnapshot
    standings: Mapping[str, StandingRecord]
    accounts: Mapping[str, Sequence[LinkedAccount]]  # by member number
    deferrals: Sequence[DeferralRecord] = field(default_factory=tuple)


def plan_sweep(
    inputs: SweepInputs,
    rules: MembershipRules,
    today: date,
    *,
    required_approvals: int,
    grace_message: bool,
) -> SweepPlan:
    """Every transition due ``today``, in member-number order (see the module docstring for the rules)."""
    by_member, by_org = _deferrals_in_effect(inputs.deferrals, today, required_approvals)
    snapshot = inputs.snapshot
    transitions: list[Transition] = []
    enrolments: list[Enrolment] = []
    with_access = 0
    numbers = snapshot.members.keys() | inputs.standings.keys()
    for number in sorted(numbers):
        member = snapshot.members.get(number)
        standing = inputs.standings.get(number)
        accounts = inputs.accounts.get(number, ())
        organization = snapshot.organization_of(member) if member is not None else None
        eligibility = decide(member, organization, rules, today)
        deferral = by_member.get(number)
        if deferral is None and member is not None and member.org_id is not None:
            deferral = by_org.get(member.org_id)
        if standing is None and not accounts:
            state = _first_state(eligibility)
            enrolments.append(Enrolment(number, state, eligibility.reason.value))
            continue
        before = standing.state if standing is not None else State.ACTIVE
        if before in WITH_ACCESS:
            with_access += 1
        after = _next_state(before, eligibility, deferral)
        if after == before:
            if standing is None:  # an admitted member met for the first time, unchanged
                enrolments.append(Enrolment(number, after, eligibility.reason.value))
            continue
        deferral_id = deferral.id if after is State.DEFERRED and deferral is not None else None
        grace_ends = None
        if after is State.GRACE:
            grace_ends = _grace_ends(member, organization, rules)
        transitions.append(
            Transition(
                member_number=number,
                before=before,
                after=after,
                reason=eligibility.reason.value,
                steps=_steps(before, after, accounts, grace_message=grace_message),
                deferral_id=deferral_id,
                grace_ends=grace_ends,
            )
        )
    return SweepPlan(today, transitions, enrolments, with_access)


def _deferrals_in_effect(
    deferrals: Iterable[DeferralRecord], today: date, required: int
) -> tuple[dict[str, DeferralRecord], dict[str, DeferralRecord]]:
    """The deferral holding each member and organization today (the one lasting longest, if several)."""
    by_member: dict[str, DeferralRecord] = {}
    by_org: dict[str, DeferralRecord] = {}
    for d in deferrals:
        if not d.in_effect(today, required):
            continue
        index, key = (by_member, d.member_number) if d.member_number is not None else (by_org, d.org_id)
        assert key is not None  # a deferral names a member or an organization (a table constraint)
        held = index.get(key)
        if held is None or (d.until, d.id) > (held.until, held.id):
            index[key] = d
    return by_member, by_org


def _first_state(eligibility: Eligibility) -> State:
    if not eligibility.eligible:
        return State.PENDING
    return State.GRACE if eligibility.reason is Reason.IN_GRACE else State.ACTIVE


def _next_state(before: State, eligibility: Eligibility, deferral: DeferralRecord | None) -> State:
    if eligibility.eligible:
        return State.GRACE if eligibility.reason is Reason.IN_GRACE else State.ACTIVE
    if before is State.PENDING:
        return before  # never admitted: nothing to end or to defer
    if deferral is not None:
        return State.DEFERRED
    return State.TERMINATED


def _grace_ends(
    member: MemberRecord | None, organization: OrganizationRecord | None, rules: MembershipRules
) -> date | None:
    """The last day a member in grace keeps access: the dues date that counts, plus the grace days."""
    if member is None:
        return None
    if member.org_id is None:
        paid_through = member.paid_through
    else:
        paid_through = organization.paid_through if organization is not None else None
    return paid_through + timedelta(days=rules.grace_days) if paid_through is not None else None


def _steps(
    before: State, after: State, accounts: Sequence[LinkedAccount], *, grace_message: bool
) -> tuple[ForumStep, ...]:
    steps: list[ForumStep] = []
    for account in sorted(accounts, key=lambda a: a.forum_user_id):
        user, name = account.forum_user_id, account.username
        if after is State.TERMINATED and before in WITH_ACCESS:
            if account.granted_groups:
                steps.append(ForumStep(Action.REMOVE_GROUPS, user, name, account.granted_groups))
            steps.append(ForumStep(Action.SUSPEND, user, name))
        elif before is State.TERMINATED and after in WITH_ACCESS:
            if account.imposed_suspension:
                steps.append(ForumStep(Action.UNSUSPEND, user, name))
            if account.withheld_groups:
                steps.append(ForumStep(Action.RESTORE_GROUPS, user, name, account.withheld_groups))
        elif before is State.ACTIVE and after is State.GRACE and grace_message:
            steps.append(ForumStep(Action.GRACE_MESSAGE, user, name))
    return tuple(steps)
