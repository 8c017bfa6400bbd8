"""The registration decision, rule by rule, and properties over generated applicants."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sidecar.registration.decide import Applicant, Candidate, Decision, Ineligible, Rules, Verdict, decide

RULES = Rules(api_username="system")


def applicant(**changes: object) -> Applicant:
    values: dict[str, object] = {
        "user_id": 10,
        "username": "erin",
        "emails": frozenset({"erin@acme.example"}),
        "active": True,
        "approved": False,
        "staff": False,
        "staged": False,
        "member_number": None,
    }
    values.update(changes)
    return Applicant(**values)  # type: ignore[arg-type]


ERIN = Candidate("M-1", frozenset({"erin@acme.example"}), eligible=True, reason="eligible")
LAPSED = Candidate("M-2", frozenset({"erin@acme.example"}), eligible=False, reason="dues_unpaid")
OTHER = Candidate("M-3", frozenset({"someone@else.example"}), eligible=True, reason="eligible")


def run(
    a: Applicant,
    *,
    by_email: Candidate | None = None,
    by_number: Candidate | None = None,
    domain: str | None = None,
    rules: Rules = RULES,
) -> Decision:
    return decide(a, by_email=by_email, by_number=by_number, domain_organization=domain, rules=rules)


@pytest.mark.parametrize(
    ("a", "reason"),
    [
        (applicant(username="System"), "api_user"),
        (applicant(staff=True), "staff"),
        (applicant(staged=True), "staged"),
    ],
)
def test_some_accounts_are_left_alone(a: Applicant, reason: str) -> None:
    assert run(a, by_email=LAPSED, rules=Rules("system", Ineligible.REJECT)) == Decision(
        Verdict.LEAVE_ALONE, reason
    )


def test_an_eligible_member_is_approved_once_confirmed() -> None:
    assert run(applicant(active=False), by_email=ERIN) == Decision(
        Verdict.AWAIT_CONFIRMATION, "email_unverified", "M-1"
    )
    assert run(applicant(), by_email=ERIN) == Decision(Verdict.APPROVE, "eligible_member", "M-1")
    assert run(applicant(approved=True), by_email=ERIN) == Decision(
        Verdict.LINK_APPROVED, "eligible_member", "M-1"
    )


def test_ineligible_members_are_held_or_refused_as_configured() -> None:
    assert run(applicant(), by_email=LAPSED) == Decision(Verdict.HOLD, "dues_unpaid", "M-2")
    refusing = Rules("system", Ineligible.REJECT)
    assert run(applicant(), by_email=LAPSED, rules=refusing) == Decision(Verdict.REJECT, "dues_unpaid", "M-2")
    assert run(applicant(), rules=refusing) == Decision(Verdict.REJECT, "member_not_found")


def test_an_account_approved_by_hand_is_reported_never_refused() -> None:
    refusing = Rules("system", Ineligible.REJECT)
    assert run(applicant(approved=True), by_email=LAPSED, rules=refusing).verdict == Verdict.MISMATCH
    assert run(applicant(approved=True), rules=refusing) == Decision(Verdict.MISMATCH, "member_not_found")


def test_a_domain_match_is_evidence_for_staff_not_an_approval() -> None:
    assert run(applicant(), domain="ACME") == Decision(
        Verdict.HOLD, "organization_domain_match", None, "ACME"
    )
    by_domain = Rules("system", approve_on_domain=True)
    assert run(applicant(), domain="ACME", rules=by_domain) == Decision(
        Verdict.APPROVE, "organization_domain", None, "ACME"
    )
    assert run(applicant(active=False), domain="ACME", rules=by_domain).verdict == Verdict.AWAIT_CONFIRMATION


def test_a_member_number_counts_only_with_a_matching_email() -> None:
    a = applicant(member_number="M-3")
    assert run(a, by_number=OTHER) == Decision(Verdict.HOLD, "member_number_email_mismatch", "M-3")
    approved = applicant(member_number="M-3", approved=True)
    assert run(approved, by_number=OTHER) == Decision(Verdict.MISMATCH, "member_number_email_mismatch", "M-3")
    assert run(applicant(member_number="M-1"), by_number=ERIN) == Decision(
        Verdict.APPROVE, "eligible_member", "M-1"
    )
    # A number the data does not know falls back to the emails.
    assert run(applicant(member_number="M-999"), by_email=ERIN) == Decision(
        Verdict.APPROVE, "eligible_member", "M-1"
    )
    assert run(applicant(member_number="M-999")) == Decision(Verdict.HOLD, "member_not_found")


candidates = st.none() | st.builds(
    Candidate,
    member_number=st.sampled_from(["M-1", "M-2"]),
    emails=st.frozensets(st.sampled_from(["erin@acme.example", "x@y.example"]), min_size=1),
    eligible=st.booleans(),
    reason=st.sampled_from(["eligible", "dues_unpaid", "member_terminated"]),
)
applicants = st.builds(
    Applicant,
    user_id=st.integers(1, 100),
    username=st.sampled_from(["erin", "system", "bob"]),
    emails=st.frozensets(st.sampled_from(["erin@acme.example", "x@y.example", "z@acme.example"])),
    active=st.booleans(),
    approved=st.none() | st.booleans(),
    staff=st.booleans(),
    staged=st.booleans(),
    member_number=st.none() | st.sampled_from(["M-1", "M-2"]),
)
rules = st.builds(
    Rules,
    api_username=st.just("system"),
    ineligible=st.sampled_from(Ineligible),
    approve_on_domain=st.booleans(),
)


@given(a=applicants, by_email=candidates, by_number=candidates, domain=st.none() | st.just("ACME"), r=rules)
def test_properties(
    a: Applicant, by_email: Candidate | None, by_number: Candidate | None, domain: str | None, r: Rules
) -> None:
    # The caller finds by_email from the account's own addresses, and both from one database: one member
    # number is one member, the same candidate either way.
    assume(by_email is None or bool(by_email.emails & a.emails))
    assume(
        by_email is None
        or by_number is None
        or by_email.member_number != by_number.member_number
        or by_email == by_number
    )
    d = run(a, by_email=by_email, by_number=by_number, domain=domain, rules=r)
    # Nobody is approved before the forum says their email is confirmed.
    if d.verdict == Verdict.APPROVE:
        assert a.active
        assert not a.approved
    # Nobody approved by the forum is ever refused, and staff are never touched.
    if a.approved:
        assert d.verdict != Verdict.REJECT
    if a.staff or a.staged:
        assert d.verdict == Verdict.LEAVE_ALONE
    # A refusal happens only when the rules say so, and only for someone who is not an eligible member.
    if d.verdict == Verdict.REJECT:
        assert r.ineligible == Ineligible.REJECT
    # Approval on a domain alone happens only when configured.
    if (
        d.verdict in (Verdict.APPROVE, Verdict.LINK_APPROVED, Verdict.AWAIT_CONFIRMATION)
        and d.member_number is None
    ):
        assert r.approve_on_domain
    # An approval names a member whose emails include one of the account's.
    if d.member_number is not None and d.verdict in (Verdict.APPROVE, Verdict.LINK_APPROVED):
        named = (
            by_number
            if by_number is not None
            and by_number.member_number == d.member_number
            and by_number.emails & a.emails
            else by_email
        )
        assert named is not None
        assert named.eligible
        assert named.emails & a.emails
