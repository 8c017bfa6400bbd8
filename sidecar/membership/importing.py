"""Importing membership data: plan against the database, refuse or apply, audit.

``import_membership`` runs in the caller's transaction: it loads the database as records once, plans
(``plan.plan_import``, which validates everything first), and then, unless this is a dry run, writes every
change in batched executemany statements (``bulkwrite``) and adds one audit entry. Either all of it commits
or none of it does. No ORM object is made per row: an import of 100,000 members is a few dozen statements,
not 100,000 round trips.

Imports upsert by key and never delete (see ``plan``). An import that would make more than
``membership.import_max_ineligible_share`` of the existing members ineligible is refused unless forced
(DESIGN.md decision 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from sidecar import audit
from sidecar.membership.bulkwrite import BulkWriter
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.errors import TooManyIneligible
from sidecar.membership.plan import ImportPlan, plan_import
from sidecar.membership.repository import (
    MEMBER_EMAILS,
    MEMBERS,
    ORGANIZATION_DOMAINS,
    ORGANIZATIONS,
    load_snapshot,
)
from sidecar.membership.source import SourceBatch

ACTION = "members.import"
TARGET = "membership"


@dataclass(frozen=True)
class ImportReport:
    plan: ImportPlan
    provenance: Mapping[str, Any]
    dry_run: bool
    forced: bool
    max_ineligible_share: float
    audit_entry_id: int | None = None

    @property
    def over_limit(self) -> bool:
        return self.plan.ineligible_share > self.max_ineligible_share

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "dry_run": self.dry_run,
            "as_of": plan.as_of.isoformat(),
            "organizations": plan.organizations.to_json(),
            "members": plan.members.to_json(),
            "new_members_eligible": plan.new_members_eligible,
            "eligibility_changes": [c.to_json() for c in plan.eligibility_changes],
            "newly_eligible": plan.newly_eligible,
            "newly_ineligible": plan.newly_ineligible,
            "existing_members": plan.existing_members,
            "max_ineligible_share": self.max_ineligible_share,
            "over_limit": self.over_limit,
            "forced": self.forced,
            "files": dict(self.provenance),
            "audit_entry": self.audit_entry_id,
        }


def import_membership(
    session: Session,
    batch: SourceBatch,
    *,
    rules: MembershipRules,
    today: date,
    now: datetime,
    actor: str,
    max_ineligible_share: float,
    dry_run: bool = False,
    force: bool = False,
) -> ImportReport:
    """Import ``batch`` in ``session``'s transaction and report what changed (or, dry, would change).

    Raises ImportRefused (nothing written) when the batch has any problem, and TooManyIneligible (nothing
    written) when it would make too many existing members ineligible and ``force`` is not set.
    """
    plan = plan_import(batch, load_snapshot(session), rules, today)
    report = ImportReport(
        plan=plan,
        provenance=batch.provenance,
        dry_run=dry_run,
        forced=force,
        max_ineligible_share=max_ineligible_share,
    )
    if dry_run:
        return report
    if report.over_limit and not force:
        raise TooManyIneligible(plan.newly_ineligible, plan.existing_members, max_ineligible_share)
    apply_plan(session.connection(), plan, now)
    entry = audit.record(
        session,
        at=now,
        actor=actor,
        action=ACTION,
        target=TARGET,
        details={
            "as_of": plan.as_of.isoformat(),
            "organizations": plan.organizations.to_json(),
            "members": plan.members.to_json(),
            "eligibility_changes": len(plan.eligibility_changes),
            "newly_ineligible": plan.newly_ineligible,
            "forced": force,
            "files": dict(batch.provenance),
        },
    )
    return replace(report, audit_entry_id=entry.id)


ORGANIZATION_COLUMNS = ("org_id", "name", "status", "paid_through", "created_at", "updated_at")
MEMBER_COLUMNS = ("member_number", "org_id", "name", "status", "paid_through", "created_at", "updated_at")


def apply_plan(conn: Connection, plan: ImportPlan, now: datetime) -> None:
    """Write the plan. Old addresses and domains go first, so one can move to another record in one import."""
    writer = BulkWriter(conn)
    moved_orgs = [after for before, after in plan.changed_organizations if before.domains != after.domains]
    moved_members = [after for before, after in plan.changed_members if before.emails != after.emails]
    writer.delete_where_in(ORGANIZATION_DOMAINS, "org_id", [o.org_id for o in moved_orgs])
    writer.delete_where_in(MEMBER_EMAILS, "member_number", [m.member_number for m in moved_members])

    org_day = writer.ready_date(ORGANIZATIONS, "paid_through")
    org_stamp = writer.ready_time(ORGANIZATIONS, "created_at", now)
    writer.insert(
        ORGANIZATIONS,
        ORGANIZATION_COLUMNS,
        (
            (o.org_id, o.name, o.status.value, org_day(o.paid_through), org_stamp, org_stamp)
            for o in plan.new_organizations
        ),
    )
    writer.update(
        ORGANIZATIONS,
        "org_id",
        (
            {
                "org_id": o.org_id,
                "name": o.name,
                "status": o.status.value,
                "paid_through": o.paid_through,
                "updated_at": now,
            }
            for _, o in plan.changed_organizations
        ),
    )
    writer.insert(
        ORGANIZATION_DOMAINS,
        ("domain", "org_id"),
        ((d, o.org_id) for o in (*plan.new_organizations, *moved_orgs) for d in o.domains),
    )

    member_day = writer.ready_date(MEMBERS, "paid_through")
    member_stamp = writer.ready_time(MEMBERS, "created_at", now)
    writer.insert(
        MEMBERS,
        MEMBER_COLUMNS,
        (
            (
                m.member_number,
                m.org_id,
                m.name,
                m.status.value,
                member_day(m.paid_through),
                member_stamp,
                member_stamp,
            )
            for m in plan.new_members
        ),
    )
    writer.update(
        MEMBERS,
        "member_number",
        (
            {
                "member_number": m.member_number,
                "org_id": m.org_id,
                "name": m.name,
                "status": m.status.value,
                "paid_through": m.paid_through,
                "updated_at": now,
            }
            for _, m in plan.changed_members
        ),
    )
    writer.insert(
        MEMBER_EMAILS,
        ("email", "member_number"),
        ((e, m.member_number) for m in (*plan.new_members, *moved_members) for e in m.emails),
    )
