"""Who may use the forum: one pure function of a member, its organization, the rules and a date.

``decide`` reads no clock and no database, so registration, the termination sweep, the import's report and
``members show`` all give the same answer for the same facts, and tests can state every case.

The rules apply in this order; the first that matches gives the reason:

1. ``email_unverified``: the address that found the record is not proven yet. Nothing about the record is
   trusted (or told) before the person shows they own the address; decide again once it is verified.
2. ``member_not_found``: no member record.
3. ``member_terminated``: a terminated member is never eligible, whatever ``accepted_statuses`` says.
4. ``member_pending`` / ``status_not_accepted``: the member's status is not in ``accepted_statuses``
   (``member_pending`` when the status is ``pending``). Accepting ``pending`` is allowed and makes pending
   members go on to the checks below.
5. ``individual_not_allowed``: an individual membership (no organization) while
   ``individual_memberships`` is off.
6. For a member of an organization, the organization's standing, then its dues:
   ``organization_missing`` (the record names an organization that is not there),
   ``organization_terminated``, ``organization_lapsed``. The status wins over the dates: a lapsed
   organization's members are ineligible even with dues paid ahead.
7. Dues, from the organization's ``paid_through`` for its members and from the member's own for an
   individual (a member-level date on an organization member is ignored):
   - no ``paid_through`` at all: ``dues_unpaid``;
   - ``today <= paid_through``: ``eligible``;
   - ``today <= paid_through + grace_days``: ``in_grace``, still eligible;
   - later: ``dues_unpaid``.

Only ``eligible`` and ``in_grace`` are eligible. Everything but step 7 is independent of the date, and step
7 only ever turns eligible into ineligible as days pass: with the same facts, a member ineligible today is
ineligible on every later day.

The ``grace`` member status and the ``in_grace`` reason are different things: the status is a lifecycle
mark staff or the sweep set; the reason is computed from dates. A ``deferred`` member goes through the same
checks: a Board deferral delays termination (the sweep leaves deferred members alone), it does not vouch
for dues, so a deferred member whose dues lapsed is still reported ineligible here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus


class Reason(enum.StrEnum):
    ELIGIBLE = "eligible"
    IN_GRACE = "in_grace"  # eligible: within grace_days after paid_through
    EMAIL_UNVERIFIED = "email_unverified"
    MEMBER_NOT_FOUND = "member_not_found"
    MEMBER_TERMINATED = "member_terminated"
    MEMBER_PENDING = "member_pending"
    STATUS_NOT_ACCEPTED = "status_not_accepted"
    INDIVIDUAL_NOT_ALLOWED = "individual_not_allowed"
    ORGANIZATION_MISSING = "organization_missing"
    ORGANIZATION_TERMINATED = "organization_terminated"
    ORGANIZATION_LAPSED = "organization_lapsed"
    DUES_UNPAID = "dues_unpaid"


ELIGIBLE_REASONS = frozenset({Reason.ELIGIBLE, Reason.IN_GRACE})


@dataclass(frozen=True, slots=True)
class Eligibility:
    eligible: bool
    reason: Reason

    def describe(self) -> str:
        return f"{'eligible' if self.eligible else 'not eligible'} ({self.reason})"


@dataclass(frozen=True, slots=True)
class MembershipRules:
    """The ``[membership]`` rules ``decide`` applies (``from_settings`` builds them from the config)."""

    accepted_statuses: frozenset[MemberStatus] = frozenset(
        {MemberStatus.ACTIVE, MemberStatus.GRACE, MemberStatus.DEFERRED}
    )
    grace_days: int = 30
    individual_memberships: bool = True

    def __post_init__(self) -> None:
        if self.grace_days < 0:
            raise ValueError("grace_days must not be negative")

    @classmethod
    def from_settings(
        cls, *, accepted_statuses: Iterable[str], grace_days: int, individual_memberships: bool
    ) -> MembershipRules:
        return cls(
            accepted_statuses=frozenset(MemberStatus(s) for s in accepted_statuses),
            grace_days=grace_days,
            individual_memberships=individual_memberships,
        )


# One instance per outcome: decide runs for every member in sweeps and reports.
_OUTCOMES = {reason: Eligibility(reason in ELIGIBLE_REASONS, reason) for reason in Reason}


def decide(
    member: MemberRecord | None,
    organization: OrganizationRecord | None,
    rules: MembershipRules,
    today: date,
    *,
    email_verified: bool = True,
) -> Eligibility:
    """Whether ``member`` is eligible on ``today`` (see the module docstring for the order of the rules).

    ``organization`` is the member's organization (None for an individual, or when it cannot be found).
    Passing an organization other than the member's is a programming error.
    """
    if not email_verified:
        return _OUTCOMES[Reason.EMAIL_UNVERIFIED]
    if member is None:
        return _OUTCOMES[Reason.MEMBER_NOT_FOUND]
    if member.status is MemberStatus.TERMINATED:
        return _OUTCOMES[Reason.MEMBER_TERMINATED]
    if member.status not in rules.accepted_statuses:
        if member.status is MemberStatus.PENDING:
            return _OUTCOMES[Reason.MEMBER_PENDING]
        return _OUTCOMES[Reason.STATUS_NOT_ACCEPTED]
    if member.org_id is None:
        if not rules.individual_memberships:
            return _OUTCOMES[Reason.INDIVIDUAL_NOT_ALLOWED]
        return _dues(member.paid_through, rules.grace_days, today)
    if organization is None:
        return _OUTCOMES[Reason.ORGANIZATION_MISSING]
    if organization.org_id != member.org_id:
        raise ValueError(
            f"member {member.member_number} belongs to {member.org_id!r}, not {organization.org_id!r}"
        )
    if organization.status is OrganizationStatus.TERMINATED:
        return _OUTCOMES[Reason.ORGANIZATION_TERMINATED]
    if organization.status is OrganizationStatus.LAPSED:
        return _OUTCOMES[Reason.ORGANIZATION_LAPSED]
    return _dues(organization.paid_through, rules.grace_days, today)


def _dues(paid_through: date | None, grace_days: int, today: date) -> Eligibility:
    if paid_through is None:
        return _OUTCOMES[Reason.DUES_UNPAID]
    if today <= paid_through:
        return _OUTCOMES[Reason.ELIGIBLE]
    if (today - paid_through).days <= grace_days:
        return _OUTCOMES[Reason.IN_GRACE]
    return _OUTCOMES[Reason.DUES_UNPAID]
