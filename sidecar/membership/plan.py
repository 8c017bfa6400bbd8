"""An import as a plan: what it creates, changes and leaves alone, and whose eligibility it changes.

Pure: a function of the records read, the database as records, the rules and a date. The same plan serves
``--dry-run`` (print it, stop) and the import (print it, apply it), so what a dry run shows is what an
import does.

An import upserts by key and never deletes: organizations and members absent from the files stay as they
are. Removing someone is the termination sweep's business, with its own plan, Board deferrals and limits;
a file that merely lacks a row must not end a membership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sidecar.membership.eligibility import Eligibility, MembershipRules, decide
from sidecar.membership.errors import ImportRefused
from sidecar.membership.records import MemberRecord, MembershipSnapshot, OrganizationRecord
from sidecar.membership.source import SourceBatch
from sidecar.membership.validation import check

R = TypeVar("R", OrganizationRecord, MemberRecord)


@dataclass(frozen=True)
class Counts:
    created: int
    updated: int
    unchanged: int

    def to_json(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True)
class EligibilityChange:
    member_number: str
    before: Eligibility
    after: Eligibility

    def to_json(self) -> dict[str, Any]:
        return {
            "member_number": self.member_number,
            "before": {"eligible": self.before.eligible, "reason": self.before.reason.value},
            "after": {"eligible": self.after.eligible, "reason": self.after.reason.value},
        }


@dataclass(frozen=True)
class ImportPlan:
    as_of: date
    new_organizations: list[OrganizationRecord]
    changed_organizations: list[tuple[OrganizationRecord, OrganizationRecord]]  # (before, after)
    unchanged_organizations: int
    new_members: list[MemberRecord]
    changed_members: list[tuple[MemberRecord, MemberRecord]]  # (before, after)
    unchanged_members: int
    # Existing members whose eligibility (or its reason) on ``as_of`` differs after the import, by number.
    eligibility_changes: list[EligibilityChange]
    new_members_eligible: int
    existing_members: int

    @property
    def organizations(self) -> Counts:
        return Counts(
            len(self.new_organizations), len(self.changed_organizations), self.unchanged_organizations
        )

    @property
    def members(self) -> Counts:
        return Counts(len(self.new_members), len(self.changed_members), self.unchanged_members)

    @property
    def newly_ineligible(self) -> int:
        return sum(1 for c in self.eligibility_changes if c.before.eligible and not c.after.eligible)

    @property
    def newly_eligible(self) -> int:
        return sum(1 for c in self.eligibility_changes if c.after.eligible and not c.before.eligible)

    @property
    def ineligible_share(self) -> float:
        """The share of the members already in the database that this import makes ineligible."""
        return self.newly_ineligible / self.existing_members if self.existing_members else 0.0


def plan_import(
    batch: SourceBatch, snapshot: MembershipSnapshot, rules: MembershipRules, today: date
) -> ImportPlan:
    """The plan of importing ``batch`` over ``snapshot``; raises ImportRefused listing every problem."""
    problems = check(batch, snapshot, rules)
    if problems:
        raise ImportRefused(problems)
    new_orgs, changed_orgs, same_orgs = _diff(
        (loc.record for loc in batch.organizations), snapshot.organizations, "org_id"
    )
    new_members, changed_members, same_members = _diff(
        (loc.record for loc in batch.members), snapshot.members, "member_number"
    )
    incoming_orgs = {loc.record.org_id: loc.record for loc in batch.organizations}

    def organization_after(member: MemberRecord) -> OrganizationRecord | None:
        if member.org_id is None:
            return None
        return incoming_orgs.get(member.org_id) or snapshot.organizations.get(member.org_id)

    # Only members whose record or whose organization changed can change eligibility.
    incoming_members = {after.member_number: after for _, after in changed_members}
    affected = set(incoming_members)
    changed_org_ids = {after.org_id for _, after in changed_orgs}
    if changed_org_ids:
        affected.update(n for n, m in snapshot.members.items() if m.org_id in changed_org_ids)
    changes = []
    for number in sorted(affected):
        was = snapshot.members[number]
        now = incoming_members.get(number, was)
        before = decide(was, snapshot.organization_of(was), rules, today)
        after = decide(now, organization_after(now), rules, today)
        if before != after:
            changes.append(EligibilityChange(number, before, after))
    return ImportPlan(
        as_of=today,
        new_organizations=new_orgs,
        changed_organizations=changed_orgs,
        unchanged_organizations=same_orgs,
        new_members=new_members,
        changed_members=changed_members,
        unchanged_members=same_members,
        eligibility_changes=changes,
        new_members_eligible=sum(
            1 for m in new_members if decide(m, organization_after(m), rules, today).eligible
        ),
        existing_members=len(snapshot.members),
    )


def _diff(
    incoming: Iterable[R], existing: Mapping[str, R], key: str
) -> tuple[list[R], list[tuple[R, R]], int]:
    created: list[R] = []
    changed: list[tuple[R, R]] = []
    unchanged = 0
    for record in incoming:
        before = existing.get(getattr(record, key))
        if before is None:
            created.append(record)
        elif before == record:
            unchanged += 1
        else:
            changed.append((before, record))
    return created, changed, unchanged
