"""Reading the membership tables into records: single lookups for registration, bulk loads for imports.

Lookups normalize what they are given the way it was stored (trimmed, lowercased), so ``Ann@Acme.com ``
finds ``ann@acme.com``. The bulk loads read each table once with Core (no ORM objects), because an import
or a sweep over 100,000 members must not cost a query per member. The session belongs to the caller.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from sidecar.db.models import Base
from sidecar.membership.addresses import domain_of, normalize_domain, normalize_email
from sidecar.membership.records import (
    MemberRecord,
    MembershipSnapshot,
    MemberStatus,
    OrganizationRecord,
    OrganizationStatus,
)

ORGANIZATIONS: Table = Base.metadata.tables["organizations"]
ORGANIZATION_DOMAINS: Table = Base.metadata.tables["organization_domains"]
MEMBERS: Table = Base.metadata.tables["members"]
MEMBER_EMAILS: Table = Base.metadata.tables["member_emails"]

_ORGANIZATION_COLUMNS = (
    ORGANIZATIONS.c.org_id,
    ORGANIZATIONS.c.name,
    ORGANIZATIONS.c.status,
    ORGANIZATIONS.c.paid_through,
)
_MEMBER_COLUMNS = (
    MEMBERS.c.member_number,
    MEMBERS.c.org_id,
    MEMBERS.c.name,
    MEMBERS.c.status,
    MEMBERS.c.paid_through,
)


_ORGANIZATION_STATUSES = {s.value: s for s in OrganizationStatus}
_MEMBER_STATUSES = {s.value: s for s in MemberStatus}


def _organization(row: Sequence[Any], domains: Iterable[str]) -> OrganizationRecord:
    org_id, name, status, paid_through = row
    return OrganizationRecord(
        org_id, name, _ORGANIZATION_STATUSES[status], paid_through, tuple(sorted(domains))
    )


def get_organization(session: Session, org_id: str) -> OrganizationRecord | None:
    row = session.execute(select(*_ORGANIZATION_COLUMNS).where(ORGANIZATIONS.c.org_id == org_id)).first()
    if row is None:
        return None
    domains = session.execute(
        select(ORGANIZATION_DOMAINS.c.domain).where(ORGANIZATION_DOMAINS.c.org_id == org_id)
    ).scalars()
    return _organization(row, list(domains))


def find_organization_by_domain(session: Session, domain: str) -> OrganizationRecord | None:
    """The organization that owns exactly this domain (``acme.com`` does not match ``mail.acme.com``)."""
    org_id = session.execute(
        select(ORGANIZATION_DOMAINS.c.org_id).where(ORGANIZATION_DOMAINS.c.domain == normalize_domain(domain))
    ).scalar()
    return None if org_id is None else get_organization(session, org_id)


def find_organization_for_email(session: Session, email: str) -> OrganizationRecord | None:
    """The organization owning the address's domain: evidence for staff, never approval by itself
    (DESIGN.md decision 3)."""
    domain = domain_of(email)
    return find_organization_by_domain(session, domain) if domain else None


def find_member(session: Session, member_number: str) -> MemberRecord | None:
    row = session.execute(
        select(*_MEMBER_COLUMNS).where(MEMBERS.c.member_number == member_number.strip())
    ).first()
    if row is None:
        return None
    emails = session.execute(
        select(MEMBER_EMAILS.c.email).where(MEMBER_EMAILS.c.member_number == row.member_number)
    ).scalars()
    return _member(row, list(emails))


def find_member_by_email(session: Session, email: str) -> MemberRecord | None:
    number = session.execute(
        select(MEMBER_EMAILS.c.member_number).where(MEMBER_EMAILS.c.email == normalize_email(email))
    ).scalar()
    return None if number is None else find_member(session, number)


def _member(row: Sequence[Any], emails: Iterable[str]) -> MemberRecord:
    number, org_id, name, status, paid_through = row
    return MemberRecord(number, org_id, name, _MEMBER_STATUSES[status], paid_through, tuple(sorted(emails)))


def load_organizations(session: Session) -> dict[str, OrganizationRecord]:
    domains: defaultdict[str, list[str]] = defaultdict(list)
    query = select(ORGANIZATION_DOMAINS.c.org_id, ORGANIZATION_DOMAINS.c.domain)
    for org_id, domain in session.execute(query.order_by(ORGANIZATION_DOMAINS.c.domain)).all():
        domains[org_id].append(domain)
    status_of = _ORGANIZATION_STATUSES
    return {
        org_id: OrganizationRecord(
            org_id, name, status_of[status], paid_through, tuple(domains.get(org_id, ()))
        )
        for org_id, name, status, paid_through in session.execute(select(*_ORGANIZATION_COLUMNS)).all()
    }


def load_members(session: Session) -> dict[str, MemberRecord]:
    # Fetched whole (fetchall) and built in one comprehension: this runs over every member.
    emails: defaultdict[str, list[str]] = defaultdict(list)
    query = select(MEMBER_EMAILS.c.member_number, MEMBER_EMAILS.c.email)
    for number, email in session.execute(query.order_by(MEMBER_EMAILS.c.email)).all():
        emails[number].append(email)
    status_of = _MEMBER_STATUSES
    return {
        number: MemberRecord(
            number, org_id, name, status_of[status], paid_through, tuple(emails.get(number, ()))
        )
        for number, org_id, name, status, paid_through in session.execute(select(*_MEMBER_COLUMNS)).all()
    }


def load_snapshot(session: Session) -> MembershipSnapshot:
    """Every organization and member, as records: what an import is validated and compared against."""
    return MembershipSnapshot(organizations=load_organizations(session), members=load_members(session))
