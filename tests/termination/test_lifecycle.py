"""A member's whole life against the simulated forum, travelling in time with the shared fixed clock:
active, dues lapse, grace (private message), terminated (suspended with the renewal message, group
removed), a Board deferral requested and approved (deferred: account back), the deferral expires
(terminated again), dues paid (reinstated: unsuspended, group back). And the moderator's own suspension,
which no reinstatement lifts.
"""

from __future__ import annotations

from datetime import timedelta

from sidecar.clock import FixedClock
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.membership.records import MemberRecord, MemberStatus
from sidecar.runtime import Runtime
from tests.termination.conftest import (
    admit,
    audit_actions,
    background_members,
    days_later,
    deferral_service,
    forum_reads,
    forum_writes,
    groups_of,
    import_records,
    link,
    request_count,
    standing,
    suspended,
    termination_service,
)


def ann(paid_through: object) -> MemberRecord:
    return MemberRecord("M1", None, "Ann Example", MemberStatus.ACTIVE, paid_through, ("ann@example.org",))  # type: ignore[arg-type]


def test_a_member_from_active_through_termination_deferral_and_reinstatement(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> None:
    today = clock.now().date()
    org, others = background_members(today)
    import_records(runtime, [org], [ann(today + timedelta(days=5)), *others])
    user_id = admit(sim, forum, runtime, "ann", "ann@example.org")
    assert groups_of(sim, user_id) == {"members"}
    sweeps = termination_service(runtime, forum)

    # Day 0: everyone eligible. The first sweep records standings and changes nothing on the forum.
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert result.transitions == []
    assert result.blocked is None
    assert standing(runtime, "M1") == "active"
    assert standing(runtime, "B000") == "active"
    assert forum_writes(sim, before) == []

    # Day 6: dues lapsed yesterday; inside the 30 grace days. One private message, nothing else.
    days_later(clock, 6)
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert [(t.member_number, t.before, t.after, t.reason) for t in result.transitions] == [
        ("M1", "active", "grace", "in_grace")
    ]
    assert standing(runtime, "M1") == "grace"
    messages = sim.private_messages(to="ann")
    assert len(messages) == 1
    assert messages[0].title == runtime.config.termination.grace_message_title
    raw = sim.first_post(messages[0].id).raw
    assert (today + timedelta(days=35)).isoformat() in raw  # paid_through + 30 grace days
    assert [w[:2] for w in forum_writes(sim, before)] == [("POST", "/posts.json")]
    assert not suspended(sim, user_id)
    assert groups_of(sim, user_id) == {"members"}

    # Still in grace a week later: nothing new.
    days_later(clock, 7)
    before = request_count(sim)
    assert sweeps.sweep(cause="test").transitions == []
    assert forum_writes(sim, before) == []

    # Day 36: grace is over. Group taken away, account suspended with the renewal message.
    days_later(clock, 23)
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert [(t.before, t.after, t.reason) for t in result.transitions] == [
        ("grace", "terminated", "dues_unpaid")
    ]
    assert standing(runtime, "M1") == "terminated"
    assert suspended(sim, user_id)
    user = sim.user(user_id)
    assert user.suspend_reason == runtime.config.termination.suspend_reason
    assert groups_of(sim, user_id) == set()
    notices = [e for e in sim.emails if e.user_id == user_id and e.kind == "account_suspended"]
    assert len(notices) == 1
    assert notices[0].body is not None
    assert "dues have not been paid" in notices[0].body
    assert "renew" in notices[0].body
    writes = forum_writes(sim, before)
    assert [(m, p) for m, p, _ in writes] == [
        ("DELETE", f"/groups/{sim.group('members').id}/members.json"),
        ("PUT", f"/admin/users/{user_id}/suspend.json"),
    ]
    assert all(status == 200 for _, _, status in writes)
    reads = forum_reads(sim, before)
    assert reads.count(f"/admin/users/{user_id}.json") == 1
    assert not any(path.endswith("/emails.json") for path in reads)  # state alone: no address lookups
    row = link(runtime, user_id)
    assert row.imposed_suspension is True
    assert row.withheld_groups == '["members"]'

    # A second sweep the same day finds nothing to do.
    before = request_count(sim)
    assert sweeps.sweep(cause="test").transitions == []
    assert forum_writes(sim, before) == []

    # The Board defers the termination: requested, approved by two distinct Board members.
    deferrals = deferral_service(runtime, forum)
    until = clock.now().date() + timedelta(days=20)
    view = deferrals.request(
        member_number="M1",
        reason="Paying by instalments",
        resolution="BR-2026-14",
        until=until,
        actor="alice",
    )
    assert view.status == "awaiting_approval"
    assert deferrals.approve(view.id, actor="alice").status == "awaiting_approval"
    assert sweeps.sweep(cause="test").transitions == []  # one approval holds nothing yet
    assert standing(runtime, "M1") == "terminated"
    assert deferrals.approve(view.id, actor="Bob").status == "in_effect"

    # The follow-up job runs the sweep the deferral asked for: the account is back while it holds.
    result = sweeps.run_requested(cause="test")
    assert result is not None
    assert [(t.before, t.after, t.deferral_id) for t in result.transitions] == [
        ("terminated", "deferred", view.id)
    ]
    assert standing(runtime, "M1") == "deferred"
    assert not suspended(sim, user_id)
    assert groups_of(sim, user_id) == {"members"}
    assert sweeps.run_requested(cause="test") is None  # answered: nothing asked any more

    # Deferred and still ineligible: days pass, nothing happens.
    days_later(clock, 20)
    assert sweeps.sweep(cause="test").transitions == []

    # The deferral's last day has passed: terminated again.
    days_later(clock, 1)
    result = sweeps.sweep(cause="test")
    assert [(t.before, t.after) for t in result.transitions] == [("deferred", "terminated")]
    assert suspended(sim, user_id)
    assert groups_of(sim, user_id) == set()
    assert [d.status for d in deferrals.all()] == ["expired"]

    # Dues paid for a year: reinstated, suspension lifted, group back.
    today = clock.now().date()
    org, others = background_members(today)
    import_records(runtime, [org], [ann(today + timedelta(days=365)), *others])
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert [(t.before, t.after, t.reason) for t in result.transitions] == [
        ("terminated", "active", "eligible")
    ]
    assert not suspended(sim, user_id)
    assert groups_of(sim, user_id) == {"members"}
    assert [(m, p) for m, p, _ in forum_writes(sim, before)] == [
        ("PUT", f"/admin/users/{user_id}/unsuspend.json"),
        ("PUT", f"/groups/{sim.group('members').id}/members.json"),
    ]
    row = link(runtime, user_id)
    assert row.imposed_suspension is False
    assert row.withheld_groups == "[]"

    # Every standing change and every deferral step is in the audit log.
    assert [(a, t) for _, a, t, _ in audit_actions(runtime, "standing.")] == [
        ("standing.grace", "member:M1"),
        ("standing.terminated", "member:M1"),
        ("standing.deferred", "member:M1"),
        ("standing.terminated", "member:M1"),
        ("standing.active", "member:M1"),
    ]
    assert [(who, a) for who, a, _, _ in audit_actions(runtime, "deferral.")] == [
        ("alice", "deferral.requested"),
        ("alice", "deferral.approved"),
        ("bob", "deferral.approved"),
        ("bob", "deferral.in_effect"),
    ]


def test_a_suspension_a_moderator_imposed_is_not_lifted_by_reinstatement(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> None:
    today = clock.now().date()
    org, others = background_members(today)
    import_records(runtime, [org], [ann(today + timedelta(days=5)), *others])
    user_id = admit(sim, forum, runtime, "ann", "ann@example.org")
    sweeps = termination_service(runtime, forum, grace_message="")
    sweeps.sweep(cause="test")

    # A moderator suspends Ann for her conduct, for a year.
    moderator = sim.find_user(username="mod")
    assert moderator is not None
    sim.suspend_user(user_id, clock.now() + timedelta(days=365), "Repeated spam", actor=moderator)

    days_later(clock, 40)  # dues lapsed, grace over
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert [(t.before, t.after) for t in result.transitions] == [("active", "terminated")]
    assert [s.status for s in result.steps] == ["done", "already_done"]  # groups removed; suspended already
    assert [p for _, p, _ in forum_writes(sim, before)] == [f"/groups/{sim.group('members').id}/members.json"]
    assert link(runtime, user_id).imposed_suspension is False

    today = clock.now().date()
    org, others = background_members(today)
    import_records(runtime, [org], [ann(today + timedelta(days=365)), *others])
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert [(t.before, t.after) for t in result.transitions] == [("terminated", "active")]
    # The group comes back; the moderator's suspension stays.
    assert groups_of(sim, user_id) == {"members"}
    assert suspended(sim, user_id)
    assert sim.user(user_id).suspend_reason == "Repeated spam"
    assert not any("unsuspend" in p for _, p, _ in forum_writes(sim, before))
