"""Board deferrals against the simulated forum: who may request, approve and revoke, what is refused, the
status a deferral goes through, the sweeps it asks for and the audit trail it leaves.

The Board is the simulator's "board" group (alice, bob, carol); dave has a forum account but is not on it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from sidecar.clock import FixedClock
from sidecar.db.models import AuditEntry, Deferral, DeferralApproval, Standing, Sweep
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.membership.records import MemberRecord, MemberStatus
from sidecar.runtime import Runtime
from sidecar.termination.deferrals import DeferralRefused, DeferralService, DeferralStatus
from tests.termination.conftest import audit_actions, background_members, deferral_service, import_records

DAY = 86400


@pytest.fixture
def members(runtime: Runtime, clock: FixedClock) -> None:
    """BIGCO and its members (paid far ahead), and M1, an individual member whose dues lapsed."""
    today = clock.now().date()
    org, others = background_members(today)
    ann = MemberRecord(
        "M1", None, "Ann Example", MemberStatus.ACTIVE, today - timedelta(days=60), ("ann@example.org",)
    )
    import_records(runtime, [org], [ann, *others])


@pytest.fixture
def service(runtime: Runtime, forum: DiscourseForum, members: None) -> DeferralService:
    return deferral_service(runtime, forum)


def requested(
    service: DeferralService,
    clock: FixedClock,
    *,
    actor: str = "alice",
    days: int = 30,
    member_number: str | None = "M1",
    org_id: str | None = None,
) -> int:
    view = service.request(
        member_number=member_number,
        org_id=org_id,
        reason="Paying by instalments",
        resolution="BR-2026-14",
        until=clock.now().date() + timedelta(days=days),
        actor=actor,
    )
    return view.id


def sweeps_requested(runtime: Runtime) -> list[tuple[str, str, str]]:
    """(status, cause, actor) of every ``sweeps`` row, oldest first."""
    with runtime.sessions() as session:
        rows = session.execute(select(Sweep.status, Sweep.cause, Sweep.actor).order_by(Sweep.id)).all()
        return [(status, cause, actor) for status, cause, actor in rows]


def stored(runtime: Runtime) -> tuple[int, int, int, int]:
    """How many deferrals, approvals, deferral audit entries and sweeps rows there are."""
    with runtime.sessions() as session:
        return (
            session.execute(select(func.count()).select_from(Deferral)).scalar_one(),
            session.execute(select(func.count()).select_from(DeferralApproval)).scalar_one(),
            session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("deferral.%"))
            ).scalar_one(),
            session.execute(select(func.count()).select_from(Sweep)).scalar_one(),
        )


NOTHING = (0, 0, 0, 0)


# --- requesting ------------------------------------------------------------------------------------------


def test_a_board_member_requests_a_deferral_of_a_member(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    now = clock.now()
    until = now.date() + timedelta(days=30)
    view = service.request(
        member_number="M1",
        reason="  Paying by instalments  ",
        resolution=" BR-2026-14 ",
        until=until,
        actor="  ALICE ",  # the forum's spelling of the name is the one recorded
    )
    assert view.member_number == "M1"
    assert view.org_id is None
    assert view.target == "member:M1"
    assert view.reason == "Paying by instalments"
    assert view.resolution == "BR-2026-14"
    assert view.until == until
    assert view.requested_by == "alice"
    assert view.requested_at == now
    assert view.approvals == ()  # the request is not an approval
    assert view.required_approvals == 2
    assert view.status is DeferralStatus.AWAITING_APPROVAL
    assert view.effective_at is None
    assert (view.revoked_by, view.revoked_at, view.revoke_reason) == (None, None, None)
    assert service.get(view.id) == view
    assert service.all() == [view]
    assert audit_actions(runtime, "deferral.") == [
        (
            "alice",
            "deferral.requested",
            "member:M1",
            {
                "deferral": view.id,
                "reason": "Paying by instalments",
                "resolution": "BR-2026-14",
                "until": until.isoformat(),
            },
        )
    ]
    assert sweeps_requested(runtime) == []  # a request alone changes no one's standing


def test_a_board_member_requests_a_deferral_of_an_organization(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock, actor="Carol", member_number=None, org_id="BIGCO")
    view = service.get(deferral_id)
    assert (view.member_number, view.org_id, view.target) == (None, "BIGCO", "organization:BIGCO")
    assert view.requested_by == "carol"
    assert view.to_json() == {
        "id": deferral_id,
        "member_number": None,
        "organization": "BIGCO",
        "reason": "Paying by instalments",
        "resolution": "BR-2026-14",
        "until": (clock.now().date() + timedelta(days=30)).isoformat(),
        "status": "awaiting_approval",
        "requested_by": "carol",
        "requested_at": clock.now().isoformat(),
        "approvals": [],
        "required_approvals": 2,
        "effective_at": None,
        "revoked_by": None,
        "revoked_at": None,
        "revoke_reason": None,
    }
    assert [(who, action, target) for who, action, target, _ in audit_actions(runtime, "deferral.")] == [
        ("carol", "deferral.requested", "organization:BIGCO")
    ]


def test_a_member_known_only_by_a_standing_may_be_deferred(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    # Removed from the membership database; the standing the sweep recorded is still there.
    with runtime.sessions.begin() as session:
        session.add(Standing(member_number="M9", state="active", reason="eligible", since=clock.now()))
    deferral_id = requested(service, clock, member_number="M9")
    assert service.get(deferral_id).target == "member:M9"


@pytest.mark.parametrize("days", [0, 180])
def test_until_may_be_today_or_exactly_max_deferral_days_ahead(
    service: DeferralService, clock: FixedClock, days: int
) -> None:
    deferral_id = requested(service, clock, days=days)
    assert service.get(deferral_id).until == clock.now().date() + timedelta(days=days)


def test_max_deferral_days_is_the_configured_one(
    runtime: Runtime, forum: DiscourseForum, clock: FixedClock, members: None
) -> None:
    service = deferral_service(runtime, forum, max_deferral_days=10)
    assert service.get(requested(service, clock, days=10)).status is DeferralStatus.AWAITING_APPROVAL
    latest = clock.now().date() + timedelta(days=10)
    with pytest.raises(DeferralRefused) as refused:
        requested(service, clock, days=11)
    assert str(refused.value) == (
        f"--until {(latest + timedelta(days=1)).isoformat()} is more than termination.max_deferral_days (10)"
        f" ahead: the latest allowed is {latest.isoformat()}"
    )


Request = Callable[[DeferralService, date], Any]


def _request(**changes: Any) -> Request:
    def call(service: DeferralService, today: date) -> Any:
        arguments: dict[str, Any] = {
            "member_number": "M1",
            "reason": "Paying by instalments",
            "resolution": "BR-2026-14",
            "until": today + timedelta(days=30),
            "actor": "alice",
        }
        arguments.update(changes)
        if callable(arguments["until"]):
            arguments["until"] = arguments["until"](today)
        return service.request(**arguments)

    return call


REFUSED_REQUESTS = [
    pytest.param(
        _request(actor="dave"), "'dave' is not a member of the Board group 'board' on the forum", id="dave"
    ),
    pytest.param(
        _request(actor="nobody"), "'nobody' is not a member of the Board group 'board'", id="unknown"
    ),
    pytest.param(_request(actor="  "), "--as must name a Board member", id="no-actor"),
    pytest.param(_request(reason="  "), "a reason is required", id="empty-reason"),
    pytest.param(
        _request(resolution=" "), "the Board resolution reference is required", id="empty-resolution"
    ),
    pytest.param(
        _request(resolution="R" * 201),
        "the Board resolution reference is longer than 200",
        id="long-resolution",
    ),
    pytest.param(
        _request(until=lambda today: today - timedelta(days=1)),
        "--until 2026-11-27 is in the past",
        id="past",
    ),
    pytest.param(
        _request(until=lambda today: today + timedelta(days=181)),
        "--until 2027-05-28 is more than termination.max_deferral_days (180) ahead:"
        " the latest allowed is 2027-05-27",
        id="too-far",
    ),
    pytest.param(
        _request(org_id="BIGCO"), "a deferral names either a member or an organization", id="both-targets"
    ),
    pytest.param(
        _request(member_number=None), "a deferral names either a member or an organization", id="no-target"
    ),
    pytest.param(_request(member_number="M404"), "no member M404", id="unknown-member"),
    pytest.param(
        _request(member_number=None, org_id="NOPE"), "no organization NOPE", id="unknown-organization"
    ),
]


@pytest.mark.parametrize(("call", "message"), REFUSED_REQUESTS)
def test_a_refused_request_stores_nothing(
    service: DeferralService, runtime: Runtime, clock: FixedClock, call: Request, message: str
) -> None:
    with pytest.raises(DeferralRefused) as refused:
        call(service, clock.now().date())
    assert message in str(refused.value)
    assert stored(runtime) == NOTHING
    assert service.all() == []


def test_refused_when_the_board_group_is_not_on_the_forum(
    runtime: Runtime, forum: DiscourseForum, clock: FixedClock, members: None
) -> None:
    service = deferral_service(runtime, forum, board_group="nope")
    with pytest.raises(DeferralRefused, match="the Board group 'nope' does not exist on the forum"):
        _request()(service, clock.now().date())
    assert stored(runtime) == NOTHING


def test_refused_without_a_forum(runtime: Runtime, clock: FixedClock, members: None) -> None:
    service = deferral_service(runtime, None)
    with pytest.raises(DeferralRefused, match=r"no forum is configured \(forum.url\)"):
        _request()(service, clock.now().date())
    assert stored(runtime) == NOTHING


def test_the_board_is_asked_of_the_forum_every_time(
    service: DeferralService, sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock, actor="bob")
    with pytest.raises(DeferralRefused, match="'dave' is not a member of the Board group"):
        service.approve(deferral_id, actor="dave")
    with pytest.raises(DeferralRefused, match="'dave' is not a member of the Board group"):
        service.revoke(deferral_id, actor="dave", reason="not mine to revoke")
    assert stored(runtime) == (1, 0, 1, 0)
    assert service.get(deferral_id).status is DeferralStatus.AWAITING_APPROVAL

    # Dave joins the Board on the forum: the next action sees it.
    dave = sim.find_user(username="dave")
    assert dave is not None
    sim.add_group_members("board", [dave])
    view = service.approve(deferral_id, actor="Dave")
    assert [name for name, _ in view.approvals] == ["dave"]


# --- approving -------------------------------------------------------------------------------------------


def test_two_distinct_board_members_put_a_deferral_in_effect(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock)
    first_at = clock.now()
    first = service.approve(deferral_id, actor="alice")  # the requester may approve it too
    assert first.status is DeferralStatus.AWAITING_APPROVAL
    assert first.approvals == (("alice", first_at),)
    assert first.effective_at is None
    assert sweeps_requested(runtime) == []

    with pytest.raises(DeferralRefused, match=f"alice has approved deferral {deferral_id} already"):
        service.approve(deferral_id, actor="Alice")
    assert stored(runtime) == (1, 1, 2, 0)

    clock.advance(60)
    second_at = clock.now()
    second = service.approve(deferral_id, actor="BOB")
    assert second.status is DeferralStatus.IN_EFFECT
    assert second.approvals == (("alice", first_at), ("bob", second_at))
    assert second.effective_at == second_at
    assert sweeps_requested(runtime) == [("requested", f"deferral:{deferral_id}:in_effect", "bob")]

    # A third approval counts, but the deferral took effect already: nothing more is asked.
    clock.advance(60)
    third = service.approve(deferral_id, actor="carol")
    assert third.status is DeferralStatus.IN_EFFECT
    assert [name for name, _ in third.approvals] == ["alice", "bob", "carol"]
    assert third.effective_at == second_at
    assert len(sweeps_requested(runtime)) == 1

    until = (first_at.date() + timedelta(days=30)).isoformat()
    assert audit_actions(runtime, "deferral.") == [
        (
            "alice",
            "deferral.requested",
            "member:M1",
            {
                "deferral": deferral_id,
                "reason": "Paying by instalments",
                "resolution": "BR-2026-14",
                "until": until,
            },
        ),
        ("alice", "deferral.approved", "member:M1", {"deferral": deferral_id, "approvals": 1}),
        ("bob", "deferral.approved", "member:M1", {"deferral": deferral_id, "approvals": 2}),
        ("bob", "deferral.in_effect", "member:M1", {"deferral": deferral_id, "approvals": 2, "until": until}),
        ("carol", "deferral.approved", "member:M1", {"deferral": deferral_id, "approvals": 3}),
    ]


def test_with_one_approval_required_the_first_approval_puts_it_in_effect(
    runtime: Runtime, forum: DiscourseForum, clock: FixedClock, members: None
) -> None:
    service = deferral_service(runtime, forum, deferral_approvals=1)
    deferral_id = requested(service, clock, member_number=None, org_id="BIGCO")
    view = service.approve(deferral_id, actor="carol")
    assert view.status is DeferralStatus.IN_EFFECT
    assert view.required_approvals == 1
    assert view.effective_at == clock.now()
    assert sweeps_requested(runtime) == [("requested", f"deferral:{deferral_id}:in_effect", "carol")]
    assert [(who, action, target) for who, action, target, _ in audit_actions(runtime, "deferral.")] == [
        ("alice", "deferral.requested", "organization:BIGCO"),
        ("carol", "deferral.approved", "organization:BIGCO"),
        ("carol", "deferral.in_effect", "organization:BIGCO"),
    ]


def test_approving_an_unknown_deferral_is_refused(service: DeferralService, runtime: Runtime) -> None:
    with pytest.raises(DeferralRefused, match="no deferral 999"):
        service.approve(999, actor="alice")
    with pytest.raises(DeferralRefused, match="no deferral 999"):
        service.revoke(999, actor="alice", reason="gone")
    with pytest.raises(DeferralRefused, match="no deferral 999"):
        service.get(999)
    assert stored(runtime) == NOTHING


def test_a_deferral_holds_through_its_last_day_then_expires(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock, days=3)
    until = clock.now().date() + timedelta(days=3)
    service.approve(deferral_id, actor="alice")
    assert service.approve(deferral_id, actor="bob").status is DeferralStatus.IN_EFFECT

    clock.advance(3 * DAY)  # the last day
    assert clock.now().date() == until
    assert service.get(deferral_id).status is DeferralStatus.IN_EFFECT

    clock.advance(DAY)  # the day after
    assert service.get(deferral_id).status is DeferralStatus.EXPIRED
    assert [v.status for v in service.all()] == [DeferralStatus.EXPIRED]
    before = stored(runtime)
    with pytest.raises(DeferralRefused, match=f"deferral {deferral_id} expired on {until.isoformat()}"):
        service.approve(deferral_id, actor="carol")
    with pytest.raises(DeferralRefused, match=f"deferral {deferral_id} expired on {until.isoformat()}"):
        service.revoke(deferral_id, actor="carol", reason="too late")
    assert stored(runtime) == before
    assert service.get(deferral_id).revoked_at is None


def test_a_deferral_never_approved_expires_too(service: DeferralService, clock: FixedClock) -> None:
    deferral_id = requested(service, clock, days=0)
    assert service.get(deferral_id).status is DeferralStatus.AWAITING_APPROVAL
    clock.advance(DAY)
    assert service.get(deferral_id).status is DeferralStatus.EXPIRED
    with pytest.raises(DeferralRefused, match="expired"):
        service.approve(deferral_id, actor="alice")


# --- revoking --------------------------------------------------------------------------------------------


def test_revoking_needs_a_reason(service: DeferralService, runtime: Runtime, clock: FixedClock) -> None:
    deferral_id = requested(service, clock)
    with pytest.raises(DeferralRefused, match="a reason is required"):
        service.revoke(deferral_id, actor="alice", reason="   ")
    assert service.get(deferral_id).status is DeferralStatus.AWAITING_APPROVAL
    assert stored(runtime) == (1, 0, 1, 0)


def test_revoking_a_deferral_in_effect_asks_for_a_sweep(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock, member_number=None, org_id="BIGCO")
    service.approve(deferral_id, actor="alice")
    service.approve(deferral_id, actor="bob")
    clock.advance(DAY)
    revoked_at = clock.now()
    view = service.revoke(deferral_id, actor="Carol", reason="  Instalments missed  ")
    assert view.status is DeferralStatus.REVOKED
    assert (view.revoked_by, view.revoked_at, view.revoke_reason) == (
        "carol",
        revoked_at,
        "Instalments missed",
    )
    assert service.get(deferral_id) == view
    assert sweeps_requested(runtime) == [
        ("requested", f"deferral:{deferral_id}:in_effect", "bob"),
        ("requested", f"deferral:{deferral_id}:revoked", "carol"),
    ]
    assert audit_actions(runtime, "deferral.revoked") == [
        (
            "carol",
            "deferral.revoked",
            "organization:BIGCO",
            {"deferral": deferral_id, "reason": "Instalments missed"},
        )
    ]

    # Revoked is final: neither approved nor revoked again.
    before = stored(runtime)
    with pytest.raises(DeferralRefused, match=f"deferral {deferral_id} was revoked by carol"):
        service.approve(deferral_id, actor="carol")
    with pytest.raises(DeferralRefused, match=f"deferral {deferral_id} was revoked by carol"):
        service.revoke(deferral_id, actor="alice", reason="again")
    assert stored(runtime) == before
    assert service.get(deferral_id).revoked_by == "carol"


def test_revoking_a_deferral_that_never_took_effect_asks_for_nothing(
    service: DeferralService, runtime: Runtime, clock: FixedClock
) -> None:
    deferral_id = requested(service, clock)
    service.approve(deferral_id, actor="alice")
    view = service.revoke(deferral_id, actor="alice", reason="Paid in full after all")
    assert view.status is DeferralStatus.REVOKED
    assert view.effective_at is None
    assert sweeps_requested(runtime) == []
    assert [(who, action, target) for who, action, target, _ in audit_actions(runtime, "deferral.")] == [
        ("alice", "deferral.requested", "member:M1"),
        ("alice", "deferral.approved", "member:M1"),
        ("alice", "deferral.revoked", "member:M1"),
    ]
    with pytest.raises(DeferralRefused, match="was revoked by alice"):
        service.approve(deferral_id, actor="bob")
    assert sweeps_requested(runtime) == []


def test_all_lists_deferrals_newest_first_each_with_its_own_status(
    service: DeferralService, clock: FixedClock
) -> None:
    waiting = requested(service, clock)
    effective = requested(service, clock, member_number=None, org_id="BIGCO")
    revoked = requested(service, clock, member_number="B001")
    service.approve(effective, actor="alice")
    service.approve(effective, actor="bob")
    service.revoke(revoked, actor="bob", reason="withdrawn")
    assert [(v.id, v.status) for v in service.all()] == [
        (revoked, DeferralStatus.REVOKED),
        (effective, DeferralStatus.IN_EFFECT),
        (waiting, DeferralStatus.AWAITING_APPROVAL),
    ]
