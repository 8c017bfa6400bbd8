"""``decide``: every reason from a case that gives it, then properties over generated facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidecar.membership.eligibility import ELIGIBLE_REASONS, Eligibility, MembershipRules, Reason, decide
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus

TODAY = date(2026, 11, 28)
RULES = MembershipRules()  # active, grace, deferred; 30 days of grace; individuals allowed
ACME = OrganizationRecord("ACME", "Acme", OrganizationStatus.ACTIVE, date(2026, 12, 31), ("acme.com",))
ANN = MemberRecord("M1", "ACME", "Ann", MemberStatus.ACTIVE, None, ("ann@acme.com",))
IVAN = MemberRecord("M2", None, "Ivan", MemberStatus.ACTIVE, date(2026, 12, 31), ("ivan@example.net",))


Case = tuple[MemberRecord | None, OrganizationRecord | None, MembershipRules, bool, Reason]
CASES: list[Case] = [
    (ANN, ACME, RULES, True, Reason.ELIGIBLE),
    (IVAN, None, RULES, True, Reason.ELIGIBLE),
    (ANN, replace(ACME, paid_through=date(2026, 11, 1)), RULES, True, Reason.IN_GRACE),
    (replace(IVAN, paid_through=date(2026, 11, 1)), None, RULES, True, Reason.IN_GRACE),
    (ANN, ACME, RULES, False, Reason.EMAIL_UNVERIFIED),
    (None, None, RULES, True, Reason.MEMBER_NOT_FOUND),
    (replace(ANN, status=MemberStatus.TERMINATED), ACME, RULES, True, Reason.MEMBER_TERMINATED),
    (replace(ANN, status=MemberStatus.PENDING), ACME, RULES, True, Reason.MEMBER_PENDING),
    (
        replace(ANN, status=MemberStatus.DEFERRED),
        ACME,
        replace(RULES, accepted_statuses=frozenset({MemberStatus.ACTIVE})),
        True,
        Reason.STATUS_NOT_ACCEPTED,
    ),
    (IVAN, None, replace(RULES, individual_memberships=False), True, Reason.INDIVIDUAL_NOT_ALLOWED),
    (ANN, None, RULES, True, Reason.ORGANIZATION_MISSING),
    (
        ANN,
        replace(ACME, status=OrganizationStatus.TERMINATED),
        RULES,
        True,
        Reason.ORGANIZATION_TERMINATED,
    ),
    (ANN, replace(ACME, status=OrganizationStatus.LAPSED), RULES, True, Reason.ORGANIZATION_LAPSED),
    (ANN, replace(ACME, paid_through=None), RULES, True, Reason.DUES_UNPAID),
    (ANN, replace(ACME, paid_through=date(2026, 10, 28)), RULES, True, Reason.DUES_UNPAID),
    (replace(IVAN, paid_through=None), None, RULES, True, Reason.DUES_UNPAID),
]


@pytest.mark.parametrize(("member", "organization", "rules", "verified", "expected"), CASES)
def test_each_reason(
    member: MemberRecord | None,
    organization: OrganizationRecord | None,
    rules: MembershipRules,
    verified: bool,
    expected: Reason,
) -> None:
    assert decide(member, organization, rules, TODAY, email_verified=verified) == Eligibility(
        expected in ELIGIBLE_REASONS, expected
    )


def test_every_reason_has_a_case_above() -> None:
    assert {case[-1] for case in CASES} == set(Reason)


def test_pending_can_be_accepted_and_then_goes_on_to_the_dues() -> None:
    pending = replace(ANN, status=MemberStatus.PENDING)
    rules = replace(RULES, accepted_statuses=frozenset({MemberStatus.PENDING}))
    assert decide(pending, ACME, rules, TODAY).reason is Reason.ELIGIBLE
    assert decide(pending, replace(ACME, paid_through=None), rules, TODAY).reason is Reason.DUES_UNPAID


def test_status_outranks_dates() -> None:
    # A lapsed organization paid ahead: its status decides. A terminated member of a paid one: theirs.
    assert decide(ANN, replace(ACME, status=OrganizationStatus.LAPSED), RULES, TODAY).reason is (
        Reason.ORGANIZATION_LAPSED
    )
    terminated = replace(ANN, status=MemberStatus.TERMINATED)
    assert decide(terminated, ACME, RULES, TODAY).reason is Reason.MEMBER_TERMINATED


def test_an_organization_member_s_own_paid_through_is_ignored() -> None:
    paid_long_ago = replace(ANN, paid_through=date(2000, 1, 1))
    assert decide(paid_long_ago, ACME, RULES, TODAY).reason is Reason.ELIGIBLE


def test_the_wrong_organization_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="belongs to 'ACME'"):
        decide(ANN, replace(ACME, org_id="OTHER"), RULES, TODAY)


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="grace_days"):
        MembershipRules(grace_days=-1)


def test_rules_from_settings() -> None:
    rules = MembershipRules.from_settings(
        accepted_statuses=("active", "deferred"), grace_days=7, individual_memberships=False
    )
    assert rules == MembershipRules(
        frozenset({MemberStatus.ACTIVE, MemberStatus.DEFERRED}), grace_days=7, individual_memberships=False
    )


# --- properties -------------------------------------------------------------------------------------------

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
rules_strategy = st.builds(
    MembershipRules,
    # Any set, terminated included: the code must never let a terminated member through, whatever the
    # config validation in front of it does.
    accepted_statuses=st.frozensets(st.sampled_from(MemberStatus)),
    grace_days=st.integers(min_value=0, max_value=400),
    individual_memberships=st.booleans(),
)
organizations = st.builds(
    OrganizationRecord,
    org_id=st.just("ORG"),
    name=st.just("Org"),
    status=st.sampled_from(OrganizationStatus),
    paid_through=st.none() | days,
)
members = st.builds(
    MemberRecord,
    member_number=st.just("M"),
    org_id=st.none() | st.just("ORG"),
    name=st.just("Member"),
    status=st.sampled_from(MemberStatus),
    paid_through=st.none() | days,
)


@st.composite
def facts(draw: st.DrawFn) -> tuple[MemberRecord | None, OrganizationRecord | None, MembershipRules]:
    member = draw(st.none() | members)
    organization = draw(st.none() | organizations) if member is not None and member.org_id else None
    return member, organization, draw(rules_strategy)


Facts = tuple[MemberRecord | None, OrganizationRecord | None, MembershipRules]


@given(facts(), days, st.booleans())
def test_eligible_exactly_for_the_eligible_reasons(case: Facts, today: date, verified: bool) -> None:
    member, organization, rules = case
    result = decide(member, organization, rules, today, email_verified=verified)
    assert result.eligible == (result.reason in ELIGIBLE_REASONS)


@given(facts(), days)
def test_never_eligible_when_terminated(case: Facts, today: date) -> None:
    member, organization, rules = case
    if member is not None:
        terminated = replace(member, status=MemberStatus.TERMINATED)
        assert decide(terminated, organization, rules, today).reason is Reason.MEMBER_TERMINATED
    if organization is not None:
        gone = replace(organization, status=OrganizationStatus.TERMINATED)
        assert not decide(member, gone, rules, today).eligible


@given(facts(), days)
def test_an_unverified_email_is_never_eligible(case: Facts, today: date) -> None:
    member, organization, rules = case
    result = decide(member, organization, rules, today, email_verified=False)
    assert result == Eligibility(False, Reason.EMAIL_UNVERIFIED)


@given(facts(), days, st.integers(min_value=0, max_value=3000))
def test_monotonic_in_time(case: Facts, today: date, later_by: int) -> None:
    member, organization, rules = case
    earlier = decide(member, organization, rules, today)
    later = decide(member, organization, rules, today + timedelta(days=later_by))
    if not earlier.eligible:
        assert not later.eligible
    if earlier.reason is not Reason.ELIGIBLE and earlier.reason is not Reason.IN_GRACE:
        # Only the dues depend on the date, and once unpaid they stay unpaid.
        assert later.reason is earlier.reason


@given(
    days,
    st.integers(min_value=0, max_value=400),
    st.sampled_from([MemberStatus.ACTIVE, MemberStatus.GRACE, MemberStatus.DEFERRED]),
    st.booleans(),
)
def test_the_grace_boundary_is_exact(
    paid_through: date, grace_days: int, status: MemberStatus, individual: bool
) -> None:
    rules = replace(RULES, grace_days=grace_days)
    if individual:
        member, organization = replace(IVAN, status=status, paid_through=paid_through), None
    else:
        member, organization = replace(ANN, status=status), replace(ACME, paid_through=paid_through)
    last = paid_through + timedelta(days=grace_days)
    assert decide(member, organization, rules, paid_through).reason is Reason.ELIGIBLE
    on_last_day = decide(member, organization, rules, last)
    assert on_last_day.eligible
    assert on_last_day.reason is (Reason.IN_GRACE if grace_days else Reason.ELIGIBLE)
    assert decide(member, organization, rules, last + timedelta(days=1)) == Eligibility(
        False, Reason.DUES_UNPAID
    )
