"""Lookups for registration: by number, by address, by domain, whatever the case and spacing given."""

from __future__ import annotations

from datetime import date

import pytest

from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.repository import (
    find_member,
    find_member_by_email,
    find_organization_by_domain,
    find_organization_for_email,
    get_organization,
)
from sidecar.runtime import Runtime
from tests.membership.conftest import MEMBER_HEADER, ORG_HEADER, Run, Write

ACME = OrganizationRecord(
    "ACME", "Acme Corp", OrganizationStatus.ACTIVE, date(2026, 12, 31), ("acme.com", "acme.org")
)
ANN = MemberRecord("M1", "ACME", "Ann", MemberStatus.ACTIVE, None, ("ann@acme.com", "ann@home.net"))


@pytest.fixture(autouse=True)
def loaded(run: Run, write: Write) -> None:
    orgs = write("orgs.csv", ORG_HEADER, "ACME,Acme Corp,active,2026-12-31,acme.org;ACME.com")
    people = write("members.csv", MEMBER_HEADER, "M1,ACME,Ann,Ann@Acme.com;ann@home.net,active,")
    assert run("import", "--organizations", str(orgs), "--members", str(people)).exit_code == 0


def test_members_by_number_and_by_address(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert find_member(session, "M1") == ANN
        assert find_member(session, " M1 ") == ANN
        assert find_member(session, "M2") is None
        assert find_member_by_email(session, "  ANN@acme.COM ") == ANN
        assert find_member_by_email(session, "ann@home.net") == ANN
        assert find_member_by_email(session, "bob@acme.com") is None


def test_organizations_by_id_domain_and_address(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert get_organization(session, "ACME") == ACME
        assert get_organization(session, "acme") is None  # keys are exact
        assert find_organization_by_domain(session, " Acme.COM") == ACME
        assert find_organization_by_domain(session, "mail.acme.com") is None  # no subdomain matching
        assert find_organization_for_email(session, "Bob@ACME.org") == ACME
        assert find_organization_for_email(session, "bob@example.net") is None
        assert find_organization_for_email(session, "no-address") is None
