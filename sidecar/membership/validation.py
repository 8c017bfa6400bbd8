"""Checks of records against each other and against the database, before anything is written.

A row that parses may still be wrong in company: a key twice in a file, a member of an organization nobody
knows, an address or a domain that already belongs to someone else. The final state (the database with the
file's records laid over it) must hold one owner per email address and per domain, because registration
looks members and organizations up by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.provenance import Located, Origin, Problem
from sidecar.membership.records import MemberRecord, MembershipSnapshot, OrganizationRecord
from sidecar.membership.source import SourceBatch

T = TypeVar("T")


def check(batch: SourceBatch, snapshot: MembershipSnapshot, rules: MembershipRules) -> list[Problem]:
    """Every problem of the batch (those found while reading included), in file and line order."""
    problems = [
        *batch.problems,
        *_check_organizations(batch, snapshot),
        *_check_members(batch, snapshot, rules),
    ]
    order = dict.fromkeys([*batch.sources, *(p.source for p in problems)])
    rank = {source: i for i, source in enumerate(order)}
    return sorted(problems, key=lambda p: (rank[p.source], p.line))


def _owner(key: str, origin: Origin | None) -> str:
    where = f"line {origin.line}" if origin is not None else "in the database, not in this import"
    return f"{key} ({where})"


def _first_rows(records: Iterable[Located[T]], key: str, problems: list[Problem]) -> dict[str, Origin]:
    first: dict[str, Origin] = {}
    for loc in records:
        value: str = getattr(loc.record, key)
        if value in first:
            problems.append(Problem.at(loc.origin, key, f"{value!r} is already on line {first[value].line}"))
        else:
            first[value] = loc.origin
    return first


def _check_organizations(batch: SourceBatch, snapshot: MembershipSnapshot) -> list[Problem]:
    problems: list[Problem] = []
    first = _first_rows(batch.organizations, "org_id", problems)
    replaced = first.keys() | batch.invalid_org_ids
    owners: dict[str, tuple[str, Origin | None]] = {}
    for kept in snapshot.organizations.values():
        if kept.org_id not in replaced:
            owners.update((domain, (kept.org_id, None)) for domain in kept.domains)
    for loc in batch.organizations:
        org: OrganizationRecord = loc.record
        if first[org.org_id] is not loc.origin:
            continue  # a duplicate row, reported above
        for domain in org.domains:
            owner = owners.setdefault(domain, (org.org_id, loc.origin))
            if owner[0] != org.org_id:
                problems.append(
                    Problem.at(
                        loc.origin, "domains", f"{domain} is also a domain of organization {_owner(*owner)}"
                    )
                )
    return problems


def _check_members(batch: SourceBatch, snapshot: MembershipSnapshot, rules: MembershipRules) -> list[Problem]:
    problems: list[Problem] = []
    first = _first_rows(batch.members, "member_number", problems)
    known_orgs = (
        snapshot.organizations.keys()
        | {loc.record.org_id for loc in batch.organizations}
        | batch.invalid_org_ids
    )
    replaced = first.keys() | batch.invalid_member_numbers
    owners: dict[str, tuple[str, Origin | None]] = {}
    for kept in snapshot.members.values():
        if kept.member_number not in replaced:
            owners.update((email, (kept.member_number, None)) for email in kept.emails)
    for loc in batch.members:
        member: MemberRecord = loc.record
        if first[member.member_number] is not loc.origin:
            continue  # a duplicate row, reported above
        if member.org_id is None:
            if not rules.individual_memberships:
                problems.append(
                    Problem.at(
                        loc.origin,
                        "org_id",
                        "is empty, but individual memberships are off (membership.individual_memberships)",
                    )
                )
        else:
            if member.org_id not in known_orgs:
                problems.append(
                    Problem.at(
                        loc.origin,
                        "org_id",
                        f"no organization {member.org_id!r} in the organizations file or the database",
                    )
                )
            if member.paid_through is not None:
                problems.append(
                    Problem.at(
                        loc.origin,
                        "paid_through",
                        f"must be empty for a member of an organization ({member.org_id}'s decides dues)",
                    )
                )
        for email in member.emails:
            owner = owners.setdefault(email, (member.member_number, loc.origin))
            if owner[0] != member.member_number:
                problems.append(
                    Problem.at(loc.origin, "email", f"{email} is also an address of member {_owner(*owner)}")
                )
    return problems
