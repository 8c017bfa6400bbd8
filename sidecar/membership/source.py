"""Where membership data comes from: the ``MembershipSource`` port and its CSV adapter.

The import only sees a ``SourceBatch``: records with their origin, and the problems found while reading.
Another system (the association's accounting database, say) becomes a source by implementing ``read``;
the validation, the plan, the report and the audit entry stay the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sidecar.membership import csvformat
from sidecar.membership.provenance import Located, Problem
from sidecar.membership.records import MemberRecord, OrganizationRecord


@dataclass(frozen=True)
class SourceBatch:
    """Everything one read of a source gave.

    ``invalid_org_ids`` and ``invalid_member_numbers`` are keys of rows that had problems: later checks
    treat them as present, so a member of an organization whose row had a bad date is not also reported
    as naming an unknown organization. ``sources`` names the sources in the order problems are listed
    in. ``provenance`` is what the audit entry records about the source (for files: names and sha256).
    """

    organizations: Sequence[Located[OrganizationRecord]] = ()
    members: Sequence[Located[MemberRecord]] = ()
    problems: Sequence[Problem] = ()
    invalid_org_ids: frozenset[str] = frozenset()
    invalid_member_numbers: frozenset[str] = frozenset()
    sources: Sequence[str] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)


class MembershipSource(Protocol):
    def read(self) -> SourceBatch:
        """Read the whole source once; problems are returned, not raised."""
        ...


class CsvSource:
    """The organizations and members CSV files (either may be left out)."""

    def __init__(self, *, organizations: Path | None = None, members: Path | None = None) -> None:
        if organizations is None and members is None:
            raise ValueError("a CSV source needs an organizations file, a members file, or both")
        self.organizations_path = organizations
        self.members_path = members

    def read(self) -> SourceBatch:
        problems: list[Problem] = []
        provenance: dict[str, Any] = {}
        organizations = csvformat.Parsed[OrganizationRecord]()
        members = csvformat.Parsed[MemberRecord]()
        if self.organizations_path is not None:
            text = self._read(self.organizations_path, "organizations", provenance, problems)
            if text is not None:
                organizations = csvformat.parse_organizations(str(self.organizations_path), text)
        if self.members_path is not None:
            text = self._read(self.members_path, "members", provenance, problems)
            if text is not None:
                members = csvformat.parse_members(str(self.members_path), text)
        return SourceBatch(
            organizations=organizations.records,
            members=members.records,
            problems=[*problems, *organizations.problems, *members.problems],
            invalid_org_ids=frozenset(organizations.invalid_keys),
            invalid_member_numbers=frozenset(members.invalid_keys),
            sources=[str(p) for p in (self.organizations_path, self.members_path) if p is not None],
            provenance=provenance,
        )

    @staticmethod
    def _read(path: Path, role: str, provenance: dict[str, Any], problems: list[Problem]) -> str | None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(str(path), 0, None, f"cannot be read: {exc.strerror}"))
            return None
        provenance[role] = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest()}
        return csvformat.decode(str(path), data, problems)
