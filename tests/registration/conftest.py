"""Registration test helpers: a membership data set imported through the real import, and readers of what
the sidecar recorded (registrations, forum links, consent, audit entries, forum actions)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from sidecar.audit import details_of
from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.db.models import AuditEntry, ConsentEvent, ForumAction, ForumLink, Registration
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.importing import import_membership
from sidecar.membership.provenance import Located, Origin
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.source import SourceBatch
from sidecar.registration.service import RegistrationService
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY, ClockSleeper, make_forum

# Who is who in the membership data every registration test imports.
ANN = ("ann", "ann@acme.test", "M1")  # member of ACME (active, dues paid): eligible
IVAN = ("ivan", "ivan@example.net", "M2")  # individual membership, paid: eligible
TERRY = ("terry", "terry@acme.test", "M3")  # terminated member of ACME
GUS = ("gus", "gus@globex.test", "M4")  # member of GLOBEX, whose membership lapsed
UNA = ("una", "una@acme.test", "M5")  # eligible, never confirms her email in the scenarios
DORA = ("dora", "dora@acme.test", None)  # no member, but ACME's domain
ZED = ("zed", "zed@nowhere.test", None)  # nobody the association knows


def membership_records(paid_through: date) -> tuple[list[OrganizationRecord], list[MemberRecord]]:
    organizations = [
        OrganizationRecord("ACME", "Acme Corp", OrganizationStatus.ACTIVE, paid_through, ("acme.test",)),
        OrganizationRecord("GLOBEX", "Globex", OrganizationStatus.LAPSED, paid_through, ("globex.test",)),
    ]
    members = [
        MemberRecord("M1", "ACME", "Ann Example", MemberStatus.ACTIVE, None, ("ann@acme.test",)),
        MemberRecord("M2", None, "Ivan Individual", MemberStatus.ACTIVE, paid_through, ("ivan@example.net",)),
        MemberRecord("M3", "ACME", "Terry Gone", MemberStatus.TERMINATED, None, ("terry@acme.test",)),
        MemberRecord("M4", "GLOBEX", "Gus Lapsed", MemberStatus.ACTIVE, None, ("gus@globex.test",)),
        MemberRecord("M5", "ACME", "Una Slow", MemberStatus.ACTIVE, None, ("una@acme.test",)),
        # Pat: a terminated membership at ACME (old job) and a paid individual membership now.
        MemberRecord("M7", "ACME", "Pat at Acme", MemberStatus.TERMINATED, None, ("pat@acme.test",)),
        MemberRecord("M8", None, "Pat Private", MemberStatus.ACTIVE, paid_through, ("pat@home.test",)),
    ]
    return organizations, members


def import_standard_membership(runtime: Runtime) -> None:
    """Import the data set above through the real import (planned, validated, audited)."""
    today = runtime.clock.now().date()
    organizations, members = membership_records(today + timedelta(days=365))
    batch = SourceBatch(
        organizations=[Located(o, Origin("orgs.csv", n + 2)) for n, o in enumerate(organizations)],
        members=[Located(m, Origin("members.csv", n + 2)) for n, m in enumerate(members)],
        sources=["orgs.csv", "members.csv"],
    )
    settings = runtime.config.membership
    rules = MembershipRules.from_settings(
        accepted_statuses=settings.accepted_statuses,
        grace_days=settings.grace_days,
        individual_memberships=settings.individual_memberships,
    )
    with runtime.sessions.begin() as session:
        import_membership(
            session,
            batch,
            rules=rules,
            today=today,
            now=runtime.clock.now(),
            actor="test",
            max_ineligible_share=1.0,
        )


# --- what the sidecar recorded ---------------------------------------------------------------------------


def registrations(runtime: Runtime) -> dict[str, Registration]:
    with runtime.sessions() as session:
        return {r.username: r for r in session.execute(select(Registration)).scalars()}


def statuses(runtime: Runtime) -> dict[str, tuple[str, str, str | None, str | None]]:
    """username -> (status, reason, member number, suggested organization)."""
    return {
        name: (r.status, r.reason, r.member_number, r.suggested_org)
        for name, r in registrations(runtime).items()
    }


def links(runtime: Runtime) -> dict[str, tuple[str | None, str]]:
    """username -> (member number, granted groups as stored)."""
    with runtime.sessions() as session:
        return {
            link.username: (link.member_number, link.granted_groups)
            for link in session.execute(select(ForumLink)).scalars()
        }


def consents(runtime: Runtime) -> list[ConsentEvent]:
    with runtime.sessions() as session:
        return list(session.execute(select(ConsentEvent).order_by(ConsentEvent.id)).scalars())


def registration_audit(runtime: Runtime) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(actor, action, target, details) of every registration entry, oldest first."""
    with runtime.sessions() as session:
        entries = session.execute(
            select(AuditEntry).where(AuditEntry.action.like("registration.%")).order_by(AuditEntry.id)
        ).scalars()
        return [(e.actor, e.action, e.target, details_of(e)) for e in entries]


def forum_actions(runtime: Runtime) -> list[tuple[str, str, str, str | None]]:
    """(action, target, outcome, cause) of every logged forum write, oldest first."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(ForumAction.action, ForumAction.target, ForumAction.outcome, ForumAction.cause).order_by(
                ForumAction.id
            )
        ).all()
    return [(a, t, o, c) for a, t, o, c in rows]


def writes(sim: DiscourseSimulator) -> list[tuple[str, str, int]]:
    """Every request the simulated forum received that could change something."""
    with sim.lock:
        return [(r.method, r.path, r.status) for r in sim.requests if r.method != "GET"]


# --- in-process: the simulator under ``responses`` and the adapter pointed at it ---------------------------


@pytest.fixture
def sim(clock: FixedClock) -> DiscourseSimulator:
    forum = DiscourseSimulator(clock=clock, api_key=API_KEY, must_approve_users=True)
    forum.create_group("members")
    return forum


@pytest.fixture
def mocked_sim(sim: DiscourseSimulator) -> Iterator[DiscourseSimulator]:
    with sim.mocked():
        yield sim


@pytest.fixture
def forum_config(config: Config, sim: DiscourseSimulator) -> Config:
    forum = dataclasses.replace(config.forum, url=sim.base_url, api_key=API_KEY, api_username="system")
    return dataclasses.replace(config, forum=forum)


@pytest.fixture
def forum(
    runtime: Runtime, forum_config: Config, clock: FixedClock, mocked_sim: DiscourseSimulator
) -> DiscourseForum:
    return make_forum(runtime, forum_config, clock, ClockSleeper(clock), rate_limit=10_000, rate_burst=5_000)


def service_for(
    runtime: Runtime,
    forum: DiscourseForum,
    *,
    registration: dict[str, Any] | None = None,
    cause: str = "test",
) -> RegistrationService:
    """A service on the runtime's database and clock, with ``[registration]`` settings replaced."""
    config = runtime.config
    if registration:
        config = dataclasses.replace(
            config, registration=dataclasses.replace(config.registration, **registration)
        )
    return RegistrationService(
        sessions=runtime.sessions, clock=runtime.clock, config=config, forum=forum.with_cause(cause)
    )
