"""Organizations and members as frozen values: what decisions are made from, never ORM rows.

Registration, the termination sweep and the import all decide from these records, so the decisions stay
pure functions that tests can call without a database.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


class OrganizationStatus(enum.StrEnum):
    ACTIVE = "active"
    LAPSED = "lapsed"  # dues or agreement lapsed; its members are not eligible until it is active again
    TERMINATED = "terminated"


class MemberStatus(enum.StrEnum):
    """The member lifecycle of DESIGN.md: ``pending → active → grace → terminated``, plus ``deferred``."""

    PENDING = "pending"  # known to the association, not yet admitted
    ACTIVE = "active"
    GRACE = "grace"  # set by staff or the sweep while dues are overdue; dates still decide eligibility
    TERMINATED = "terminated"
    DEFERRED = "deferred"  # a Board deferral holds the member's termination


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """An organization; ``domains`` lowercased and sorted; ``paid_through`` None until dues are paid."""

    org_id: str
    name: str
    status: OrganizationStatus
    paid_through: date | None
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member; ``org_id`` None is an individual membership, whose own ``paid_through`` decides dues.

    ``emails`` are normalized (trimmed, lowercased) and sorted, so two records of the same member compare
    equal whatever order a file listed the addresses in.
    """

    member_number: str
    org_id: str | None
    name: str
    status: MemberStatus
    paid_through: date | None
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class MembershipSnapshot:
    """The whole membership database as records, keyed: what an import is checked and compared against."""

    organizations: Mapping[str, OrganizationRecord]
    members: Mapping[str, MemberRecord]

    def organization_of(self, member: MemberRecord) -> OrganizationRecord | None:
        return None if member.org_id is None else self.organizations.get(member.org_id)
