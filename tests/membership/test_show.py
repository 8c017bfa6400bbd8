"""``members show``: a member, their organization and eligibility, found by number or address; audited."""

from __future__ import annotations

import json

import pytest

from sidecar.audit import details_of, list_entries
from sidecar.runtime import Runtime
from tests.membership.conftest import MEMBER_HEADER, ORG_HEADER, Run, Write


@pytest.fixture
def loaded(run: Run, write: Write) -> None:
    orgs = write("orgs.csv", ORG_HEADER, "ACME,Acme Corp,active,2026-12-31,acme.com")
    people = write(
        "members.csv",
        MEMBER_HEADER,
        "M1,ACME,Ann Example,ann@acme.com;ann@home.net,active,",
        "M2,,Ivan,ivan@example.net,deferred,2026-11-01",
    )
    result = run("import", "--organizations", str(orgs), "--members", str(people))
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("loaded")
def test_show_by_number_as_text(run: Run, runtime: Runtime) -> None:
    result = run("show", "M1", "--as-of", "2026-11-28", "--as", "moderator")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "member        M1 Ann Example",
        "status        active",
        "emails        ann@acme.com, ann@home.net",
        "organization  ACME Acme Corp (active, paid through 2026-12-31; domains acme.com)",
        "eligibility   eligible (eligible) as of 2026-11-28",
    ]
    with runtime.sessions() as session:
        [entry] = list_entries(session, action="members.show")
    assert (entry.actor, entry.target, details_of(entry)) == ("moderator", "member:M1", {"by": "number"})


@pytest.mark.usefixtures("loaded")
def test_show_by_address_as_json(run: Run) -> None:
    result = run("show", " IVAN@Example.NET", "--as-of", "2026-12-15", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "member_number": "M2",
        "name": "Ivan",
        "status": "deferred",
        "paid_through": "2026-11-01",
        "emails": ["ivan@example.net"],
        "organization": None,
        "eligibility": {"eligible": False, "reason": "dues_unpaid", "as_of": "2026-12-15"},
    }
    text = run("show", "M2", "--as-of", "2026-11-28")
    assert "organization  none (individual membership)" in text.stdout
    assert "paid through  2026-11-01" in text.stdout
    assert "eligibility   eligible (in_grace) as of 2026-11-28" in text.stdout


@pytest.mark.usefixtures("loaded")
def test_show_unknown_member(run: Run, runtime: Runtime) -> None:
    result = run("show", "M404")
    assert result.exit_code == 1
    assert result.stderr == "error: no member M404\n"
    with runtime.sessions() as session:
        assert list_entries(session, action="members.show") == []
