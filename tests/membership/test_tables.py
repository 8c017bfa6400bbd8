"""The membership tables hold their own rules, whatever code writes to them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.exc import IntegrityError

from sidecar.membership.bulkwrite import BulkWriter
from sidecar.membership.repository import MEMBER_EMAILS, MEMBERS, ORGANIZATION_DOMAINS, ORGANIZATIONS
from sidecar.runtime import Runtime

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
Rows = list[tuple[Table, dict[str, Any]]]


def organization(org_id: str = "ACME", status: str = "active") -> tuple[Table, dict[str, Any]]:
    row = {"org_id": org_id, "name": "Acme", "status": status, "paid_through": None}
    return ORGANIZATIONS, {**row, "created_at": NOW, "updated_at": NOW}


def member(
    number: str = "M1", org_id: str | None = "ACME", status: str = "active"
) -> tuple[Table, dict[str, Any]]:
    row = {"member_number": number, "org_id": org_id, "name": "Ann", "status": status, "paid_through": None}
    return MEMBERS, {**row, "created_at": NOW, "updated_at": NOW}


def email(address: str, number: str) -> tuple[Table, dict[str, Any]]:
    return MEMBER_EMAILS, {"email": address, "member_number": number}


def domain(name: str, org_id: str) -> tuple[Table, dict[str, Any]]:
    return ORGANIZATION_DOMAINS, {"domain": name, "org_id": org_id}


def write(runtime: Runtime, rows: Rows) -> None:
    with runtime.sessions.begin() as session:
        for table, row in rows:
            session.execute(insert(table), row)


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([organization(status="bankrupt")], id="organization status"),
        pytest.param([organization(), member(status="zombie")], id="member status"),
        pytest.param([member(org_id="NOPE")], id="unknown organization"),
        pytest.param(
            [organization(), member("M1"), member("M2"), email("a@b.org", "M1"), email("a@b.org", "M2")],
            id="an address held twice",
        ),
        pytest.param(
            [organization("A"), organization("B"), domain("a.org", "A"), domain("a.org", "B")],
            id="a domain held twice",
        ),
    ],
)
def test_the_database_refuses_what_the_import_checks(runtime: Runtime, rows: Rows) -> None:
    write(runtime, rows[:-1])
    with pytest.raises(IntegrityError):
        write(runtime, rows[-1:])


def test_every_status_is_accepted(runtime: Runtime) -> None:
    statuses = ("pending", "active", "grace", "terminated", "deferred")
    orgs = [organization(s.upper(), s) for s in ("active", "lapsed", "terminated")]
    write(runtime, [*orgs, *(member(f"M-{s}", None, s) for s in statuses)])
    with runtime.sessions() as session:
        assert set(session.execute(select(MEMBERS.c.status)).scalars()) == set(statuses)


def test_deleting_a_member_deletes_their_addresses(runtime: Runtime) -> None:
    write(runtime, [organization(), member(), email("ann@acme.com", "M1"), domain("acme.com", "ACME")])
    with runtime.sessions.begin() as session:
        session.execute(delete(MEMBERS))
        session.execute(delete(ORGANIZATIONS))
    with runtime.sessions() as session:
        assert session.execute(select(MEMBER_EMAILS)).all() == []
        assert session.execute(select(ORGANIZATION_DOMAINS)).all() == []


def test_bulk_insert_takes_columns_in_any_order(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        writer = BulkWriter(session.connection())
        day = writer.ready_date(ORGANIZATIONS, "paid_through")
        stamp = writer.ready_time(ORGANIZATIONS, "updated_at", NOW)
        written = writer.insert(
            ORGANIZATIONS,
            ("updated_at", "paid_through", "status", "name", "org_id", "created_at"),
            [
                (stamp, day(date(2026, 12, 31)), "active", "Acme", "ACME", stamp),
                (stamp, day(None), "lapsed", "B", "B", stamp),
            ],
        )
        writer.insert(ORGANIZATION_DOMAINS, ("org_id", "domain"), [("ACME", "acme.com")])
    assert written == 2
    with runtime.sessions() as session:
        rows = session.execute(select(ORGANIZATIONS).order_by(ORGANIZATIONS.c.org_id)).all()
        domains = session.execute(select(ORGANIZATION_DOMAINS)).all()
    assert [(r.org_id, r.paid_through, r.status, r.created_at) for r in rows] == [
        ("ACME", date(2026, 12, 31), "active", NOW),
        ("B", None, "lapsed", NOW),
    ]
    assert [(d.domain, d.org_id) for d in domains] == [("acme.com", "ACME")]
