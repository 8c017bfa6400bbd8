"""Termination test helpers: a membership imported through the real import, forum accounts admitted through
the real registration service, Board members on the simulated forum, and readers of what was recorded.

Time travels with the fixed clock the simulator and the sidecar share (``days_later``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from sidecar.audit import details_of
from sidecar.clock import FixedClock
from sidecar.db.models import AuditEntry, ForumLink, Standing
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.importing import import_membership
from sidecar.membership.provenance import Located, Origin
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.source import SourceBatch
from sidecar.registration.service import RegistrationService
from sidecar.runtime import Runtime
from sidecar.termination.deferrals import DeferralService
from sidecar.termination.sweeps import TerminationService
from tests.forum.conftest import API_KEY
from tests.registration import conftest as registration

BOARD = ("alice", "bob", "carol")
BACKGROUND = 40  # members of BIGCO, paid far ahead: three terminations are 3 in 43, under the 10% limit


def background_members(today: date) -> tuple[OrganizationRecord, list[MemberRecord]]:
    org = OrganizationRecord(
        "BIGCO", "Big Co", OrganizationStatus.ACTIVE, today + timedelta(days=900), ("big.test",)
    )
    members = [
        MemberRecord(f"B{n:03d}", "BIGCO", f"Big {n}", MemberStatus.ACTIVE, None, (f"b{n}@big.test",))
        for n in range(BACKGROUND)
    ]
    return org, members


def import_records(
    runtime: Runtime,
    organizations: Sequence[OrganizationRecord],
    members: Sequence[MemberRecord],
    *,
    force: bool = True,
) -> Any:
    """Import through the real import (planned, validated, audited), as of the clock's today."""
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
        return import_membership(
            session,
            batch,
            rules=rules,
            today=runtime.clock.now().date(),
            now=runtime.clock.now(),
            actor="test",
            max_ineligible_share=1.0 if force else settings.import_max_ineligible_share,
            force=force,
        )


def days_later(clock: FixedClock, days: int) -> None:
    clock.advance(days * 86400)


# --- what was recorded -------------------------------------------------------------------------------------


def standing(runtime: Runtime, member_number: str) -> str | None:
    with runtime.sessions() as session:
        row = session.get(Standing, member_number)
        return None if row is None else row.state


def link(runtime: Runtime, forum_user_id: int) -> ForumLink:
    with runtime.sessions() as session:
        row = session.get(ForumLink, forum_user_id)
        assert row is not None
        session.expunge(row)
        return row


def audit_actions(runtime: Runtime, prefix: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(actor, action, target, details) of entries whose action starts with ``prefix``, oldest first."""
    with runtime.sessions() as session:
        entries = session.execute(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id)
        ).scalars()
        return [(e.actor, e.action, e.target, details_of(e)) for e in entries]


def forum_writes(sim: DiscourseSimulator, since: int = 0) -> list[tuple[str, str, int]]:
    """(method, path, status) of every request after the first ``since`` that could change something."""
    with sim.lock:
        return [(r.method, r.path, r.status) for r in sim.requests[since:] if r.method != "GET"]


def forum_reads(sim: DiscourseSimulator, since: int = 0) -> list[str]:
    with sim.lock:
        return [r.path for r in sim.requests[since:] if r.method == "GET"]


def request_count(sim: DiscourseSimulator) -> int:
    with sim.lock:
        return len(sim.requests)


# --- the simulated forum and the services on it ----------------------------------------------------------


@pytest.fixture
def sim(clock: FixedClock) -> DiscourseSimulator:
    forum = DiscourseSimulator(clock=clock, api_key=API_KEY, must_approve_users=True)
    forum.create_group("members")
    forum.create_group("board")
    for name in BOARD:
        user = forum.create_user(name, f"{name}@board.test", emit=False)
        forum.add_group_members("board", [user])
    forum.create_user("mod", "mod@mug.test", moderator=True, emit=False)
    forum.create_user("dave", "dave@board.test", emit=False)  # not on the Board
    return forum


# The simulator under ``responses`` and the adapter on it, as the registration tests have them (they use
# this directory's ``sim``).
mocked_sim = registration.mocked_sim
forum_config = registration.forum_config
forum = registration.forum


def termination_service(
    runtime: Runtime,
    forum: DiscourseForum | None,
    *,
    runner: str = "test",
    time_budget: float | None = None,
    **termination: Any,
) -> TerminationService:
    """A service on the runtime's database and clock, with ``[termination]`` settings replaced."""
    config = runtime.config
    if termination:
        config = dataclasses.replace(
            config, termination=dataclasses.replace(config.termination, **termination)
        )
    return TerminationService(
        sessions=runtime.sessions,
        clock=runtime.clock,
        config=config,
        forum=forum,
        runner=runner,
        time_budget=time_budget,
    )


def deferral_service(runtime: Runtime, forum: DiscourseForum | None, **termination: Any) -> DeferralService:
    settings = dataclasses.replace(runtime.config.termination, **termination)
    return DeferralService(sessions=runtime.sessions, clock=runtime.clock, settings=settings, forum=forum)


def admit(sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, username: str, email: str) -> int:
    """Sign up, confirm and let the registration service approve the account (linked, added to members)."""
    user = sim.sign_up(username, email)
    sim.confirm_email(user.id)
    service = RegistrationService(
        sessions=runtime.sessions, clock=runtime.clock, config=runtime.config, forum=forum.with_cause("test")
    )
    outcome = service.evaluate(user.id, cause="test")
    assert outcome is not None
    assert outcome.status == "approved", outcome
    return user.id


def groups_of(sim: DiscourseSimulator, user_id: int) -> set[str]:
    return {g.name for g in sim.groups_of(sim.user(user_id)) if not g.automatic}


def suspended(sim: DiscourseSimulator, user_id: int) -> bool:
    return sim.user(user_id).is_suspended(sim.clock.now())
