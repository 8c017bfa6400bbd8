"""What to do with a forum sign-up: a pure function of the applicant, what the membership data says about
them, and the registration rules.

Order of the rules (the first that applies wins):
1. The API user's own account, staff and staged accounts are left alone.
2. A member number given in the configured user field names the member, but only when one of the account's
   emails is that member's: a number alone proves nothing (anyone can type one), so a mismatch is held for
   staff, never refused. Without a number, or with one the data does not know, the emails name the member.
3. An eligible member is approved once the forum says the account is active (its email is confirmed);
   until then the decision is to wait. An account approved already is linked (and its groups ensured).
4. No member, but the email's domain belongs to an active organization: held for staff with the
   organization suggested, unless ``approve_on_domain`` (then treated as eligible, linked to no member).
5. Otherwise the account is not eligible: held or refused (the pending account deleted) as configured,
   with the reason. An account the forum approved already is never refused here: that mismatch is
   reported for staff, not silently reverted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    LEAVE_ALONE = "leave_alone"
    AWAIT_CONFIRMATION = "await_confirmation"
    APPROVE = "approve"
    LINK_APPROVED = "link_approved"  # eligible and approved already: link and ensure groups
    HOLD = "hold"
    REJECT = "reject"
    MISMATCH = "mismatch"  # approved on the forum, not eligible here: report it


class Ineligible(enum.StrEnum):
    HOLD = "hold"
    REJECT = "reject"


@dataclass(frozen=True)
class Applicant:
    """The forum account as the forum shows it now (never the webhook's stale snapshot)."""

    user_id: int
    username: str
    emails: frozenset[str]  # normalized: trimmed, lower case
    active: bool
    approved: bool | None  # None: the forum does not require approval
    staff: bool
    staged: bool
    member_number: str | None  # from the configured user field, if any


@dataclass(frozen=True)
class Candidate:
    """A member the membership data holds, with their eligibility today."""

    member_number: str
    emails: frozenset[str]
    eligible: bool
    reason: str


@dataclass(frozen=True)
class Rules:
    api_username: str
    ineligible: Ineligible = Ineligible.HOLD
    approve_on_domain: bool = False


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    member_number: str | None = None
    suggested_organization: str | None = None


def normalize_email(email: str) -> str:
    return email.strip().lower()


def decide(
    applicant: Applicant,
    *,
    by_email: Candidate | None,
    by_number: Candidate | None,
    domain_organization: str | None,
    rules: Rules,
) -> Decision:
    if applicant.username.lower() == rules.api_username.lower():
        return Decision(Verdict.LEAVE_ALONE, "api_user")
    if applicant.staff:
        return Decision(Verdict.LEAVE_ALONE, "staff")
    if applicant.staged:
        return Decision(Verdict.LEAVE_ALONE, "staged")

    member = by_email
    if applicant.member_number and by_number is not None:
        if not (by_number.emails & applicant.emails):
            verdict = Verdict.MISMATCH if applicant.approved else Verdict.HOLD
            return Decision(verdict, "member_number_email_mismatch", member_number=by_number.member_number)
        member = by_number
    # An unknown number falls back to the emails (a typo must not cost an eligible member the approval).

    if member is not None:
        if member.eligible:
            return _eligible(applicant, member.member_number, "eligible_member")
        return _ineligible(applicant, rules, member.reason, member.member_number)

    if domain_organization is not None:
        if rules.approve_on_domain:
            decision = _eligible(applicant, None, "organization_domain")
            return Decision(decision.verdict, decision.reason, None, domain_organization)
        if applicant.approved:
            return Decision(Verdict.MISMATCH, "organization_domain_match", None, domain_organization)
        return Decision(Verdict.HOLD, "organization_domain_match", None, domain_organization)
    return _ineligible(applicant, rules, "member_not_found")


def _eligible(applicant: Applicant, member_number: str | None, reason: str) -> Decision:
    if applicant.approved:
        return Decision(Verdict.LINK_APPROVED, reason, member_number)
    if not applicant.active:
        return Decision(Verdict.AWAIT_CONFIRMATION, "email_unverified", member_number)
    return Decision(Verdict.APPROVE, reason, member_number)


def _ineligible(
    applicant: Applicant, rules: Rules, reason: str, member_number: str | None = None
) -> Decision:
    if applicant.approved:
        return Decision(Verdict.MISMATCH, reason, member_number)
    if rules.ineligible == Ineligible.REJECT:
        return Decision(Verdict.REJECT, reason, member_number)
    return Decision(Verdict.HOLD, reason, member_number)
