"""``plan_sweep``: the pure termination planner, case by case, then properties over generated inputs.

Every case states the whole outcome: ``(member, before, after, reason, forum steps)`` with the deferral and
the end of grace where they apply. The rules are the defaults (active, grace and deferred accepted; 30 days
of grace; individual memberships allowed) unless a case says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.records import (
    MemberRecord,
    MembershipSnapshot,
    MemberStatus,
    OrganizationRecord,
    OrganizationStatus,
)
from sidecar.termination.plan import (
    Action,
    DeferralRecord,
    Enrolment,
    ForumStep,
    LinkedAccount,
    StandingRecord,
    State,
    SweepInputs,
    SweepPlan,
    Transition,
    plan_sweep,
)

TODAY = date(2026, 11, 28)
RULES = MembershipRules()  # active, grace, deferred accepted; 30 days of grace; individuals allowed
GRACE_DAYS = RULES.grace_days

PAID_AHEAD = TODAY + timedelta(days=200)
IN_GRACE = TODAY - timedelta(days=5)  # overdue, within the grace days
LAPSED = TODAY - timedelta(days=GRACE_DAYS + 1)  # the grace days are over

ACME = OrganizationRecord("ACME", "Acme", OrganizationStatus.ACTIVE, PAID_AHEAD, ("acme.test",))
GLOBEX = OrganizationRecord("GLOBEX", "Globex", OrganizationStatus.ACTIVE, PAID_AHEAD, ("globex.test",))

# Two accounts of one member, given out of forum_user_id order: steps come in forum_user_id order.
ANN_MAIN = LinkedAccount(11, "ann", granted_groups=("members", "voice"))
ANN_OLD = LinkedAccount(7, "ann_old")  # granted nothing


def individual(
    number: str = "M1", paid_through: date | None = PAID_AHEAD, status: MemberStatus = MemberStatus.ACTIVE
) -> MemberRecord:
    return MemberRecord(number, None, f"Member {number}", status, paid_through)


def employee(number: str, org_id: str = "ACME", paid_through: date | None = None) -> MemberRecord:
    """A member of an organization (whose own ``paid_through`` the rules ignore)."""
    return MemberRecord(number, org_id, f"Member {number}", MemberStatus.ACTIVE, paid_through)


def snapshot(
    members: Sequence[MemberRecord], organizations: Sequence[OrganizationRecord] = ()
) -> MembershipSnapshot:
    return MembershipSnapshot(
        organizations={o.org_id: o for o in organizations}, members={m.member_number: m for m in members}
    )


def standing(state: State, reason: str = "eligible", deferral_id: int | None = None) -> StandingRecord:
    return StandingRecord(state, reason, deferral_id)


def deferral(
    id: int = 1,
    *,
    member: str | None = "M1",
    org: str | None = None,
    until: date = TODAY + timedelta(days=10),
    approvals: int = 2,
    revoked: bool = False,
) -> DeferralRecord:
    return DeferralRecord(id, None if org is not None else member, org, until, approvals, revoked)


def plan(
    members: Sequence[MemberRecord],
    organizations: Sequence[OrganizationRecord] = (),
    *,
    standings: Mapping[str, StandingRecord] | None = None,
    accounts: Mapping[str, Sequence[LinkedAccount]] | None = None,
    deferrals: Sequence[DeferralRecord] = (),
    rules: MembershipRules = RULES,
    today: date = TODAY,
    required_approvals: int = 2,
    grace_message: bool = True,
) -> SweepPlan:
    inputs = SweepInputs(
        snapshot=snapshot(members, organizations),
        standings=standings or {},
        accounts=accounts or {},
        deferrals=tuple(deferrals),
    )
    return plan_sweep(
        inputs, rules, today, required_approvals=required_approvals, grace_message=grace_message
    )


def terminated_steps(*accounts: LinkedAccount) -> tuple[ForumStep, ...]:
    """What ``→ terminated`` does for ``accounts`` (given in forum_user_id order)."""
    steps: list[ForumStep] = []
    for a in accounts:
        if a.granted_groups:
            steps.append(ForumStep(Action.REMOVE_GROUPS, a.forum_user_id, a.username, a.granted_groups))
        steps.append(ForumStep(Action.SUSPEND, a.forum_user_id, a.username))
    return tuple(steps)


# --- active → grace ------------------------------------------------------------------------------------


def test_active_to_grace_sends_a_grace_message_to_each_account() -> None:
    result = plan(
        [individual(paid_through=IN_GRACE)],
        standings={"M1": standing(State.ACTIVE)},
        accounts={"M1": [ANN_MAIN, ANN_OLD]},
    )
    assert result.transitions == [
        Transition(
            "M1",
            State.ACTIVE,
            State.GRACE,
            "in_grace",
            (ForumStep(Action.GRACE_MESSAGE, 7, "ann_old"), ForumStep(Action.GRACE_MESSAGE, 11, "ann")),
            grace_ends=IN_GRACE + timedelta(days=GRACE_DAYS),
        )
    ]
    assert result.enrolments == []
    assert result.with_access == 1
    assert result.terminations == 0
    assert result.forum_steps == 2


def test_active_to_grace_without_a_message_when_grace_message_is_off() -> None:
    result = plan(
        [individual(paid_through=IN_GRACE)],
        standings={"M1": standing(State.ACTIVE)},
        accounts={"M1": [ANN_MAIN]},
        grace_message=False,
    )
    assert result.transitions == [
        Transition("M1", State.ACTIVE, State.GRACE, "in_grace", (), grace_ends=TODAY + timedelta(days=25))
    ]


def test_grace_ends_for_an_organization_member_is_the_organizations_paid_through_plus_grace() -> None:
    # The member's own date is ignored for a member of an organization.
    org_paid = TODAY - timedelta(days=12)
    result = plan(
        [employee("M1", paid_through=PAID_AHEAD), employee("M2")],
        [replace(ACME, paid_through=org_paid)],
        standings={"M1": standing(State.ACTIVE), "M2": standing(State.ACTIVE)},
        accounts={"M2": [LinkedAccount(20, "bea")]},
        rules=replace(RULES, grace_days=14),
    )
    ends = org_paid + timedelta(days=14)
    assert ends == TODAY + timedelta(days=2)
    assert result.transitions == [
        Transition("M1", State.ACTIVE, State.GRACE, "in_grace", (), grace_ends=ends),
        Transition(
            "M2",
            State.ACTIVE,
            State.GRACE,
            "in_grace",
            (ForumStep(Action.GRACE_MESSAGE, 20, "bea"),),
            grace_ends=ends,
        ),
    ]


def test_the_last_day_of_grace_is_still_grace_and_the_next_day_terminates() -> None:
    paid = TODAY - timedelta(days=GRACE_DAYS)
    standings = {"M1": standing(State.GRACE, "in_grace")}
    accounts = {"M1": [ANN_MAIN]}
    assert plan([individual(paid_through=paid)], standings=standings, accounts=accounts).transitions == []
    later = plan(
        [individual(paid_through=paid)],
        standings=standings,
        accounts=accounts,
        today=TODAY + timedelta(days=1),
    )
    assert later.transitions == [
        Transition("M1", State.GRACE, State.TERMINATED, "dues_unpaid", terminated_steps(ANN_MAIN))
    ]


def test_grace_to_active_when_dues_are_paid_does_nothing_on_the_forum() -> None:
    result = plan(
        [individual()], standings={"M1": standing(State.GRACE, "in_grace")}, accounts={"M1": [ANN_MAIN]}
    )
    assert result.transitions == [Transition("M1", State.GRACE, State.ACTIVE, "eligible")]


def test_an_unchanged_standing_is_no_transition() -> None:
    result = plan(
        [individual("M1"), individual("M2", paid_through=IN_GRACE), individual("M3", paid_through=LAPSED)],
        standings={
            "M1": standing(State.ACTIVE),
            "M2": standing(State.GRACE, "in_grace"),
            "M3": standing(State.TERMINATED, "dues_unpaid"),
        },
        accounts={"M1": [ANN_MAIN], "M2": [LinkedAccount(20, "bea")], "M3": [LinkedAccount(30, "cy")]},
    )
    assert result.transitions == []
    assert result.enrolments == []
    assert result.with_access == 2


# --- → terminated ----------------------------------------------------------------------------------------


INELIGIBLE: list[tuple[str, list[MemberRecord], list[OrganizationRecord], str]] = [
    ("dues unpaid", [individual(paid_through=LAPSED)], [], "dues_unpaid"),
    ("no dues ever", [individual(paid_through=None)], [], "dues_unpaid"),
    (
        "member terminated",
        [individual(status=MemberStatus.TERMINATED)],
        [],
        "member_terminated",
    ),
    (
        "organization terminated",
        [employee("M1")],
        [replace(ACME, status=OrganizationStatus.TERMINATED)],
        "organization_terminated",
    ),
    (
        "organization lapsed",
        [employee("M1")],
        [replace(ACME, status=OrganizationStatus.LAPSED)],
        "organization_lapsed",
    ),
    ("organization dues unpaid", [employee("M1")], [replace(ACME, paid_through=LAPSED)], "dues_unpaid"),
]


@pytest.mark.parametrize("before", [State.ACTIVE, State.GRACE])
@pytest.mark.parametrize(
    ("members", "organizations", "reason"),
    [pytest.param(m, o, r, id=case) for case, m, o, r in INELIGIBLE],
)
def test_to_terminated_removes_granted_groups_then_suspends_each_account(
    before: State, members: list[MemberRecord], organizations: list[OrganizationRecord], reason: str
) -> None:
    result = plan(
        members,
        organizations,
        standings={"M1": standing(before)},
        accounts={"M1": [ANN_MAIN, ANN_OLD]},
    )
    assert result.transitions == [
        Transition(
            "M1",
            before,
            State.TERMINATED,
            reason,
            (
                ForumStep(Action.SUSPEND, 7, "ann_old"),
                ForumStep(Action.REMOVE_GROUPS, 11, "ann", ("members", "voice")),
                ForumStep(Action.SUSPEND, 11, "ann"),
            ),
        )
    ]
    assert result.terminations == 1
    assert result.with_access == 1


def test_termination_without_linked_accounts_has_no_forum_steps() -> None:
    result = plan([individual(paid_through=LAPSED)], standings={"M1": standing(State.ACTIVE)})
    assert result.transitions == [Transition("M1", State.ACTIVE, State.TERMINATED, "dues_unpaid")]


def test_a_member_gone_from_the_database_is_terminated_as_member_not_found() -> None:
    result = plan(
        [individual("M2")],
        standings={
            "M1": standing(State.GRACE, "in_grace"),
            "M2": standing(State.ACTIVE),
            "M3": standing(State.TERMINATED, "dues_unpaid"),  # already ended: nothing more
            "M4": standing(State.PENDING, "member_pending"),  # never admitted: nothing to end
        },
        accounts={"M1": [ANN_MAIN], "M3": [LinkedAccount(30, "cy")]},
    )
    assert result.transitions == [
        Transition("M1", State.GRACE, State.TERMINATED, "member_not_found", terminated_steps(ANN_MAIN))
    ]
    assert result.enrolments == []
    assert result.with_access == 2


def test_transitions_come_in_member_number_order() -> None:
    result = plan(
        [individual(n, paid_through=LAPSED) for n in ("M3", "M10", "M1", "M2")],
        standings={n: standing(State.ACTIVE) for n in ("M3", "M10", "M1", "M2")},
    )
    assert [t.member_number for t in result.transitions] == ["M1", "M10", "M2", "M3"]


# --- terminated → access (reinstatement) -------------------------------------------------------------


REINSTATED_ACCOUNTS = [
    LinkedAccount(40, "d_both", withheld_groups=("members",), imposed_suspension=True),
    LinkedAccount(10, "a_neither"),  # a moderator's suspension, no groups taken: nothing to give back
    LinkedAccount(30, "c_groups_only", withheld_groups=("members", "voice")),
    LinkedAccount(20, "b_suspension_only", granted_groups=("members",), imposed_suspension=True),
]
REINSTATEMENT_STEPS = (
    ForumStep(Action.UNSUSPEND, 20, "b_suspension_only"),
    ForumStep(Action.RESTORE_GROUPS, 30, "c_groups_only", ("members", "voice")),
    ForumStep(Action.UNSUSPEND, 40, "d_both"),
    ForumStep(Action.RESTORE_GROUPS, 40, "d_both", ("members",)),
)


def test_reinstatement_lifts_only_imposed_suspensions_and_restores_only_withheld_groups() -> None:
    result = plan(
        [individual()],
        standings={"M1": standing(State.TERMINATED, "dues_unpaid")},
        accounts={"M1": REINSTATED_ACCOUNTS},
    )
    assert result.transitions == [
        Transition("M1", State.TERMINATED, State.ACTIVE, "eligible", REINSTATEMENT_STEPS)
    ]
    assert result.with_access == 0  # terminated before the sweep: no access
    assert result.terminations == 0


def test_terminated_to_grace_when_back_in_grace_reinstates_without_a_grace_message() -> None:
    result = plan(
        [individual(paid_through=IN_GRACE)],
        standings={"M1": standing(State.TERMINATED, "member_terminated")},
        accounts={"M1": REINSTATED_ACCOUNTS},
    )
    assert result.transitions == [
        Transition(
            "M1",
            State.TERMINATED,
            State.GRACE,
            "in_grace",
            REINSTATEMENT_STEPS,
            grace_ends=IN_GRACE + timedelta(days=GRACE_DAYS),
        )
    ]


# --- deferrals ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "required", "today", "expected"),
    [
        pytest.param(deferral(approvals=2), 2, TODAY, True, id="approved"),
        pytest.param(deferral(approvals=3), 2, TODAY, True, id="more-approvals-than-required"),
        pytest.param(deferral(approvals=1), 2, TODAY, False, id="awaiting-approval"),
        pytest.param(deferral(approvals=1), 1, TODAY, True, id="one-approval-required"),
        pytest.param(deferral(approvals=0), 0, TODAY, True, id="no-approval-required"),
        pytest.param(deferral(revoked=True), 2, TODAY, False, id="revoked"),
        pytest.param(deferral(until=TODAY), 2, TODAY, True, id="last-day"),
        pytest.param(deferral(until=TODAY), 2, TODAY + timedelta(days=1), False, id="day-after"),
        pytest.param(deferral(until=TODAY), 2, TODAY - timedelta(days=30), True, id="before"),
    ],
)
def test_a_deferral_is_in_effect(record: DeferralRecord, required: int, today: date, expected: bool) -> None:
    assert record.in_effect(today, required) is expected


@pytest.mark.parametrize("before", [State.ACTIVE, State.GRACE])
def test_a_member_deferral_in_effect_defers_instead_of_terminating(before: State) -> None:
    result = plan(
        [individual(paid_through=LAPSED)],
        standings={"M1": standing(before)},
        accounts={"M1": [ANN_MAIN, ANN_OLD]},
        deferrals=[deferral(5)],
    )
    assert result.transitions == [Transition("M1", before, State.DEFERRED, "dues_unpaid", (), deferral_id=5)]
    assert result.terminations == 0


def test_an_organization_deferral_defers_each_of_its_members_and_no_one_else() -> None:
    result = plan(
        [employee("M1"), employee("M2"), employee("M3", "GLOBEX"), individual("M4", paid_through=LAPSED)],
        [replace(ACME, status=OrganizationStatus.LAPSED), replace(GLOBEX, status=OrganizationStatus.LAPSED)],
        standings={
            "M1": standing(State.ACTIVE),
            "M2": standing(State.TERMINATED, "organization_lapsed"),
            "M3": standing(State.ACTIVE),
            "M4": standing(State.ACTIVE),
        },
        accounts={"M2": REINSTATED_ACCOUNTS},
        deferrals=[deferral(8, org="ACME")],
    )
    assert result.transitions == [
        Transition("M1", State.ACTIVE, State.DEFERRED, "organization_lapsed", (), deferral_id=8),
        Transition(
            "M2", State.TERMINATED, State.DEFERRED, "organization_lapsed", REINSTATEMENT_STEPS, deferral_id=8
        ),
        Transition("M3", State.ACTIVE, State.TERMINATED, "organization_lapsed"),
        Transition("M4", State.ACTIVE, State.TERMINATED, "dues_unpaid"),
    ]


def test_a_deferral_of_a_terminated_member_gives_the_account_back_while_it_holds() -> None:
    result = plan(
        [individual(paid_through=LAPSED)],
        standings={"M1": standing(State.TERMINATED, "dues_unpaid")},
        accounts={"M1": REINSTATED_ACCOUNTS},
        deferrals=[deferral(3)],
    )
    assert result.transitions == [
        Transition("M1", State.TERMINATED, State.DEFERRED, "dues_unpaid", REINSTATEMENT_STEPS, deferral_id=3)
    ]


@pytest.mark.parametrize(
    ("record", "required"),
    [
        pytest.param(deferral(approvals=1), 2, id="awaiting-approval"),
        pytest.param(deferral(revoked=True), 2, id="revoked"),
        pytest.param(deferral(until=TODAY - timedelta(days=1)), 2, id="expired-yesterday"),
        pytest.param(deferral(member="M2"), 2, id="another-member"),
        pytest.param(deferral(org="ACME"), 2, id="an-organization-not-the-members"),
    ],
)
def test_a_deferral_not_in_effect_for_the_member_does_not_hold_the_termination(
    record: DeferralRecord, required: int
) -> None:
    result = plan(
        [individual(paid_through=LAPSED)],
        standings={"M1": standing(State.ACTIVE)},
        accounts={"M1": [ANN_MAIN]},
        deferrals=[record],
        required_approvals=required,
    )
    assert result.transitions == [
        Transition("M1", State.ACTIVE, State.TERMINATED, "dues_unpaid", terminated_steps(ANN_MAIN))
    ]


def test_a_deferral_holds_through_its_last_day_and_ends_the_day_after() -> None:
    until = TODAY + timedelta(days=3)
    members = [individual(paid_through=LAPSED)]
    accounts = {"M1": [ANN_MAIN]}
    deferrals = [deferral(4, until=until)]
    on_last_day = plan(
        members,
        standings={"M1": standing(State.DEFERRED, "dues_unpaid", 4)},
        accounts=accounts,
        deferrals=deferrals,
        today=until,
    )
    assert on_last_day.transitions == []
    assert on_last_day.with_access == 1
    day_after = plan(
        members,
        standings={"M1": standing(State.DEFERRED, "dues_unpaid", 4)},
        accounts=accounts,
        deferrals=deferrals,
        today=until + timedelta(days=1),
    )
    assert day_after.transitions == [
        Transition("M1", State.DEFERRED, State.TERMINATED, "dues_unpaid", terminated_steps(ANN_MAIN))
    ]
    # Deferred on the last day when it was active before.
    assert plan(
        members, standings={"M1": standing(State.ACTIVE)}, deferrals=deferrals, today=until
    ).transitions == [Transition("M1", State.ACTIVE, State.DEFERRED, "dues_unpaid", deferral_id=4)]


def test_deferred_to_active_when_eligible_again_does_nothing_on_the_forum() -> None:
    result = plan(
        [individual(), individual("M2", paid_through=IN_GRACE)],
        standings={
            "M1": standing(State.DEFERRED, "dues_unpaid", 1),
            "M2": standing(State.DEFERRED, "dues_unpaid", 2),
        },
        accounts={"M1": [ANN_MAIN], "M2": [LinkedAccount(20, "bea")]},
        deferrals=[deferral(1), deferral(2, member="M2")],
    )
    assert result.transitions == [
        Transition("M1", State.DEFERRED, State.ACTIVE, "eligible"),
        Transition("M2", State.DEFERRED, State.GRACE, "in_grace", grace_ends=IN_GRACE + timedelta(days=30)),
    ]


def test_the_longest_deferral_holds_and_a_members_own_comes_before_the_organizations() -> None:
    result = plan(
        [employee("M1"), employee("M2")],
        [replace(ACME, status=OrganizationStatus.LAPSED)],
        standings={"M1": standing(State.ACTIVE), "M2": standing(State.ACTIVE)},
        deferrals=[
            deferral(1, until=TODAY + timedelta(days=5)),
            deferral(2, until=TODAY + timedelta(days=9)),
            deferral(3, until=TODAY + timedelta(days=7)),
            deferral(4, org="ACME", until=TODAY + timedelta(days=60)),
            deferral(5, org="ACME", until=TODAY + timedelta(days=90), approvals=1),  # not approved
        ],
    )
    assert result.transitions == [
        Transition("M1", State.ACTIVE, State.DEFERRED, "organization_lapsed", deferral_id=2),
        Transition("M2", State.ACTIVE, State.DEFERRED, "organization_lapsed", deferral_id=4),
    ]


def test_pending_members_are_never_deferred() -> None:
    members = [individual("M1", status=MemberStatus.PENDING), individual("M2", paid_through=LAPSED)]
    deferrals = [deferral(1), deferral(2, member="M2")]
    result = plan(members, standings={"M1": standing(State.PENDING, "member_pending")}, deferrals=deferrals)
    assert result.transitions == []
    assert result.enrolments == [Enrolment("M2", State.PENDING, "dues_unpaid")]
    assert result.with_access == 0


# --- first meeting --------------------------------------------------------------------------------------


def test_members_met_for_the_first_time_without_an_account_are_enrolled_without_transitions() -> None:
    result = plan(
        [
            individual("M1"),
            individual("M2", paid_through=IN_GRACE),
            individual("M3", paid_through=LAPSED),
            individual("M4", status=MemberStatus.PENDING),
        ],
        deferrals=[deferral(1, member="M3")],
    )
    assert result.transitions == []
    assert result.enrolments == [
        Enrolment("M1", State.ACTIVE, "eligible"),
        Enrolment("M2", State.GRACE, "in_grace"),
        Enrolment("M3", State.PENDING, "dues_unpaid"),
        Enrolment("M4", State.PENDING, "member_pending"),
    ]
    assert result.with_access == 0


def test_a_member_met_for_the_first_time_with_a_linked_account_comes_from_active() -> None:
    result = plan(
        [individual("M1"), individual("M2", paid_through=LAPSED), individual("M3", paid_through=LAPSED)],
        accounts={"M1": [LinkedAccount(1, "one")], "M2": [ANN_MAIN, ANN_OLD], "M3": [LinkedAccount(3, "x")]},
        deferrals=[deferral(9, member="M3")],
    )
    assert result.transitions == [
        Transition("M2", State.ACTIVE, State.TERMINATED, "dues_unpaid", terminated_steps(ANN_OLD, ANN_MAIN)),
        Transition("M3", State.ACTIVE, State.DEFERRED, "dues_unpaid", deferral_id=9),
    ]
    assert result.enrolments == [Enrolment("M1", State.ACTIVE, "eligible")]
    assert result.with_access == 3


def test_a_member_met_for_the_first_time_with_a_linked_account_in_grace_is_warned() -> None:
    # The docstring: an admitted member met in grace gets active -> grace with its message, so nobody loses
    # access without the warning, even on the first sweep after installation.
    result = plan([individual("M1", paid_through=IN_GRACE)], accounts={"M1": [ANN_MAIN]})
    assert [(t.member_number, t.before, t.after, t.reason) for t in result.transitions] == [
        ("M1", State.ACTIVE, State.GRACE, "in_grace")
    ]
    assert [s.action for s in result.transitions[0].steps] == [Action.GRACE_MESSAGE]
    assert result.enrolments == []
    assert result.with_access == 1


# --- limits ----------------------------------------------------------------------------------------------


def limited_plan(terminations: int, with_access: int) -> SweepPlan:
    transitions = [
        Transition(f"M{n}", State.ACTIVE, State.TERMINATED, "dues_unpaid") for n in range(terminations)
    ]
    transitions.append(Transition("G1", State.ACTIVE, State.GRACE, "in_grace"))  # not a termination
    return SweepPlan(TODAY, transitions, [], with_access)


@pytest.mark.parametrize("count", [0, 1, 5])
def test_exactly_max_count_terminations_pass(count: int) -> None:
    assert limited_plan(count, 1000).over_limit(max_share=1.0, max_count=count) is None


def test_one_more_than_max_count_fails_naming_the_setting() -> None:
    reason = limited_plan(6, 1000).over_limit(max_share=1.0, max_count=5)
    assert reason == "it would terminate 6 members, more than termination.max_count (5)"


# 0.29 * 100 and 0.57 * 100 are just under 29 and 57 in floating point: at the limit must still pass.
@pytest.mark.parametrize(
    ("max_share", "with_access", "at_limit"),
    [(0.10, 10, 1), (0.10, 250, 25), (0.5, 3, 1), (0.29, 100, 29), (0.57, 100, 57), (1.0, 7, 7)],
)
def test_exactly_max_share_passes_and_one_more_fails(
    max_share: float, with_access: int, at_limit: int
) -> None:
    assert limited_plan(at_limit, with_access).over_limit(max_share=max_share, max_count=10_000) is None
    over = limited_plan(at_limit + 1, with_access).over_limit(max_share=max_share, max_count=10_000)
    assert over is not None
    assert f"it would terminate {at_limit + 1} of {with_access} members with forum access" in over
    assert f"more than termination.max_share ({max_share:.1%})" in over


def test_the_max_share_message_states_the_share() -> None:
    reason = limited_plan(2, 10).over_limit(max_share=0.1, max_count=100)
    assert reason == (
        "it would terminate 2 of 10 members with forum access (20.0%),"
        " more than termination.max_share (10.0%)"
    )


def test_no_member_with_access_and_no_termination_is_within_the_limits() -> None:
    assert SweepPlan(TODAY, [], [], 0).over_limit(max_share=0.0, max_count=0) is None


def test_with_access_counts_active_grace_and_deferred_standings_and_linked_members_without_one() -> None:
    result = plan(
        [individual(n) for n in ("M1", "M2", "M3", "M4", "M5", "M6", "M7")],
        standings={
            "M1": standing(State.ACTIVE),
            "M2": standing(State.GRACE, "in_grace"),
            "M3": standing(State.DEFERRED, "dues_unpaid", 1),
            "M4": standing(State.TERMINATED, "dues_unpaid"),
            "M5": standing(State.PENDING, "member_pending"),
            "M9": standing(State.ACTIVE),  # gone from the database: counted, then terminated
        },
        accounts={"M6": [LinkedAccount(6, "six")]},  # M7: no standing, no account
    )
    assert result.with_access == 5
    assert result.terminations == 1
    # One termination of five: exactly 20% passes, 19% does not.
    assert result.over_limit(max_share=0.2, max_count=1) is None
    assert result.over_limit(max_share=0.19, max_count=1) is not None
    assert result.over_limit(max_share=1.0, max_count=0) is not None


# --- JSON ------------------------------------------------------------------------------------------------


def test_transition_to_json_for_a_termination() -> None:
    transition = Transition(
        "M1", State.GRACE, State.TERMINATED, "dues_unpaid", terminated_steps(ANN_OLD, ANN_MAIN)
    )
    assert transition.to_json() == {
        "member_number": "M1",
        "from": "grace",
        "to": "terminated",
        "reason": "dues_unpaid",
        "forum_actions": [
            {"action": "suspend", "forum_user_id": 7, "username": "ann_old"},
            {
                "action": "remove_groups",
                "forum_user_id": 11,
                "username": "ann",
                "groups": ["members", "voice"],
            },
            {"action": "suspend", "forum_user_id": 11, "username": "ann"},
        ],
    }


def test_transition_to_json_with_a_deferral_and_with_the_end_of_grace() -> None:
    deferred = Transition("M1", State.ACTIVE, State.DEFERRED, "organization_lapsed", deferral_id=12)
    assert deferred.to_json() == {
        "member_number": "M1",
        "from": "active",
        "to": "deferred",
        "reason": "organization_lapsed",
        "forum_actions": [],
        "deferral": 12,
    }
    grace = Transition(
        "M2",
        State.ACTIVE,
        State.GRACE,
        "in_grace",
        (ForumStep(Action.GRACE_MESSAGE, 3, "bea"),),
        grace_ends=date(2026, 12, 23),
    )
    assert grace.to_json() == {
        "member_number": "M2",
        "from": "active",
        "to": "grace",
        "reason": "in_grace",
        "forum_actions": [{"action": "grace_message", "forum_user_id": 3, "username": "bea"}],
        "grace_ends": "2026-12-23",
    }


def test_the_summary_counts_by_kind() -> None:
    result = plan(
        [individual("M1", paid_through=LAPSED), individual("M2", paid_through=LAPSED), individual("M3")],
        standings={
            "M1": standing(State.ACTIVE),
            "M2": standing(State.GRACE, "in_grace"),
            "M3": standing(State.TERMINATED, "dues_unpaid"),
        },
        accounts={"M1": [ANN_MAIN], "M3": [REINSTATED_ACCOUNTS[0]]},
    )
    assert result.summary() == {
        "as_of": "2026-11-28",
        "transitions": 3,
        "by_kind": {"active->terminated": 1, "grace->terminated": 1, "terminated->active": 1},
        "terminations": 2,
        "with_access": 2,
        "enrolled": 0,
        "forum_actions": 4,
    }


# --- properties ----------------------------------------------------------------------------------------

NUMBERS = ("M1", "M2", "M3", "M4", "M5")
ORGS = ("ACME", "GLOBEX", "GONE")  # GONE is named by members but never in the snapshot
offsets = st.integers(min_value=-45, max_value=45)
# Weighted towards eligibility, so every kind of transition is drawn.
member_statuses = st.sampled_from([MemberStatus.ACTIVE] * 3 + list(MemberStatus))
organization_statuses = st.sampled_from([OrganizationStatus.ACTIVE] * 3 + list(OrganizationStatus))
accepted = st.just(RULES.accepted_statuses) | st.sets(st.sampled_from(MemberStatus)).map(frozenset)


def _date_or_none() -> st.SearchStrategy[date | None]:
    dates = offsets.map(lambda d: TODAY + timedelta(days=d))
    return st.one_of(dates, dates, dates, st.none())


@st.composite
def sweep_inputs(draw: st.DrawFn) -> tuple[SweepInputs, MembershipRules, int, bool]:
    organizations = {
        org_id: OrganizationRecord(org_id, org_id.title(), draw(organization_statuses), draw(_date_or_none()))
        for org_id in draw(st.sampled_from([ORGS[:2], ORGS[:2], ORGS[:1], ()]))
    }
    members = {
        number: MemberRecord(
            number,
            draw(st.sampled_from([None, None, *ORGS])),
            number,
            draw(member_statuses),
            draw(_date_or_none()),
        )
        for number in draw(st.sets(st.sampled_from(NUMBERS), min_size=3))
    }
    standings = {
        number: StandingRecord(draw(st.sampled_from(State)), "recorded")
        for number in draw(st.sets(st.sampled_from(NUMBERS)))
    }
    accounts: dict[str, list[LinkedAccount]] = {}
    next_id = 1
    for number in draw(st.sets(st.sampled_from(NUMBERS))):
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            groups = st.lists(st.sampled_from(("members", "voice")), unique=True).map(tuple)
            accounts.setdefault(number, []).append(
                LinkedAccount(
                    next_id,
                    f"user{next_id}",
                    draw(groups),
                    draw(groups),
                    imposed_suspension=draw(st.booleans()),
                )
            )
            next_id += 1
    deferrals = [
        DeferralRecord(
            n,
            number if org is None else None,
            org,
            TODAY + timedelta(days=draw(st.integers(min_value=-3, max_value=3))),
            draw(st.integers(min_value=0, max_value=3)),
            draw(st.booleans()),
        )
        for n, (number, org) in enumerate(
            draw(
                st.lists(st.tuples(st.sampled_from(NUMBERS), st.none() | st.sampled_from(ORGS)), max_size=4)
            ),
            start=1,
        )
    ]
    rules = MembershipRules(
        accepted_statuses=draw(accepted),
        grace_days=draw(st.integers(min_value=0, max_value=40)),
        individual_memberships=draw(st.booleans()),
    )
    inputs = SweepInputs(
        snapshot(list(members.values()), list(organizations.values())), standings, accounts, deferrals
    )
    return inputs, rules, draw(st.integers(min_value=0, max_value=3)), draw(st.booleans())


def _applied(inputs: SweepInputs, result: SweepPlan) -> SweepInputs:
    """The inputs after recording the plan's standings (what ``store.record_standings`` writes)."""
    standings = dict(inputs.standings)
    for e in result.enrolments:
        standings[e.member_number] = StandingRecord(e.state, e.reason)
    for t in result.transitions:
        standings[t.member_number] = StandingRecord(t.after, t.reason, t.deferral_id)
    return replace(inputs, standings=standings)


@given(sweep_inputs())
def test_planning_is_deterministic_and_a_second_sweep_the_same_day_does_nothing(
    case: tuple[SweepInputs, MembershipRules, int, bool],
) -> None:
    inputs, rules, required, grace_message = case
    first = plan_sweep(inputs, rules, TODAY, required_approvals=required, grace_message=grace_message)
    again = plan_sweep(inputs, rules, TODAY, required_approvals=required, grace_message=grace_message)
    assert first == again
    assert all(t.before != t.after for t in first.transitions)
    assert [t.member_number for t in first.transitions] == sorted(t.member_number for t in first.transitions)
    assert first.terminations <= first.with_access

    second = plan_sweep(
        _applied(inputs, first), rules, TODAY, required_approvals=required, grace_message=grace_message
    )
    assert second.transitions == []
    assert second.enrolments == []
