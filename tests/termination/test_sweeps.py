"""Sweeps under pressure: the mass-termination limits, interruptions that resume without repeating or
skipping a forum action, refusals by the forum, and the worker's periodic jobs that run the sweeps."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from sidecar.cli import periodic_jobs
from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.db.models import StepStatus, Sweep, SweepStep
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.jobs.periodic import Scheduler
from sidecar.membership.records import MemberRecord, MemberStatus
from sidecar.runtime import Runtime
from sidecar.termination.sweeps import request_sweep
from tests.forum.conftest import ClockSleeper, make_forum
from tests.termination.conftest import (
    admit,
    audit_actions,
    background_members,
    days_later,
    forum_writes,
    groups_of,
    import_records,
    link,
    request_count,
    standing,
    suspended,
    termination_service,
)


def individual(number: str, email: str, paid_through: object) -> MemberRecord:
    return MemberRecord(number, None, f"Member {number}", MemberStatus.ACTIVE, paid_through, (email,))  # type: ignore[arg-type]


def three_members_lapsing(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> list[int]:
    """Ann, Ben and Cy with forum accounts, dues lapsing in 5 days, among 40 paid-up members."""
    today = clock.now().date()
    org, others = background_members(today)
    people = [("M1", "ann"), ("M2", "ben"), ("M3", "cy")]
    members = [individual(n, f"{u}@example.org", today + timedelta(days=5)) for n, u in people]
    import_records(runtime, [org], [*members, *others])
    ids = [admit(sim, forum, runtime, u, f"{u}@example.org") for _, u in people]
    termination_service(runtime, forum).sweep(cause="test")  # records everyone's standing
    return ids


def successful_writes(sim: DiscourseSimulator, since: int) -> list[tuple[str, str]]:
    return [(m, p) for m, p, status in forum_writes(sim, since) if status == 200]


# --- limits ----------------------------------------------------------------------------------------------


def test_an_import_that_would_terminate_many_is_stopped_before_any_forum_action(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    sweeps = termination_service(runtime, forum)
    # A broken file: BIGCO's dues vanish, and with them 40 of 43 members' eligibility.
    today = clock.now().date()
    org, others = background_members(today)
    broken = dataclasses.replace(org, paid_through=None)
    import_records(runtime, [broken], others, force=True)
    with runtime.sessions.begin() as session:
        request_sweep(session, cause="import:test", actor="test", now=clock.now())

    before = request_count(sim)
    result = sweeps.run_requested(cause="job:test")
    assert result is not None
    assert result.blocked is not None
    assert "termination.max_share" in result.blocked
    assert result.plan is not None
    assert result.plan.terminations == 40
    assert forum_writes(sim, before) == []
    assert standing(runtime, "B000") == "active"  # nothing recorded either
    assert not any(suspended(sim, i) for i in ids)
    blocked = audit_actions(runtime, "termination.sweep_blocked")
    assert len(blocked) == 1
    assert blocked[0][3]["terminations"] == 40
    # The request was answered (by stopping): the follow-up job does not try again and again.
    assert sweeps.run_requested(cause="job:test") is None

    # max_count stops it too, whatever the share.
    strict = termination_service(runtime, forum, max_share=1.0, max_count=39)
    result = strict.sweep(cause="test")
    assert result.blocked is not None
    assert "termination.max_count (39)" in result.blocked

    # Forced, it goes ahead, and says so in the audit log.
    result = sweeps.sweep(cause="cli:test", actor="treasurer", force=True)
    assert result.forced
    assert result.plan is not None
    assert result.plan.terminations == 40
    assert standing(runtime, "B000") == "terminated"
    forced = audit_actions(runtime, "termination.sweep_forced")
    assert [(who, details["terminations"]) for who, _, _, details in forced] == [("treasurer", 40)]


def test_a_dry_run_plans_without_changing_anything(
    sim: DiscourseSimulator, forum: DiscourseForum, runtime: Runtime, clock: FixedClock
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    days_later(clock, 40)
    before = request_count(sim)
    result = termination_service(runtime, None).sweep(cause="test", dry_run=True)
    assert [t["to"] for t in result.to_json()] == ["terminated"] * 3
    assert [a["action"] for a in result.to_json()[0]["forum_actions"]] == ["remove_groups", "suspend"]
    assert request_count(sim) == before
    assert standing(runtime, "M1") == "active"
    assert not suspended(sim, ids[0])


# --- interruptions ---------------------------------------------------------------------------------------


def test_a_sweep_interrupted_by_the_rate_limit_resumes_without_repeating_or_skipping(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum, forum_config: Config
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    impatient = make_forum(
        runtime,
        forum_config,
        clock,
        ClockSleeper(clock),
        rate_limit=10_000,
        rate_burst=5_000,
        max_wait_seconds=0.0,
    )
    days_later(clock, 40)
    sim.configure_rate_limit(4, 60.0)  # the forum takes 4 calls a minute: the sweep needs 10
    before = request_count(sim)
    sweeps = termination_service(runtime, impatient)
    result = sweeps.sweep(cause="test")
    assert result.interrupted is not None
    assert result.pending_steps > 0
    assert [standing(runtime, n) for n in ("M1", "M2", "M3")] == ["terminated"] * 3  # recorded first
    assert any(status == 429 for _, _, status in forum_writes(sim, before)) or result.pending_steps

    # The next run, a minute later, finishes the pending steps first and plans nothing new.
    while result.interrupted:
        clock.advance(61)
        result = sweeps.sweep(cause="test")
    members_group = f"/groups/{sim.group('members').id}/members.json"
    done = successful_writes(sim, before)
    for user_id in ids:
        assert done.count(("PUT", f"/admin/users/{user_id}/suspend.json")) == 1
        assert suspended(sim, user_id)
        assert groups_of(sim, user_id) == set()
        assert link(runtime, user_id).imposed_suspension is True
    assert done.count(("DELETE", members_group)) == 3
    assert len(done) == 6
    with runtime.sessions() as session:
        steps = session.execute(select(SweepStep.status)).scalars().all()
        sweeps_done = session.execute(select(Sweep.status).where(Sweep.status == "running")).all()
    assert sorted(steps) == ["done"] * 6
    assert sweeps_done == []


def test_a_suspension_sent_just_before_a_crash_is_still_known_as_the_sidecars(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum, forum_config: Config
) -> None:
    """The residue of a crash between the suspend call and its record: the step is pending, attempted once,
    and the account is suspended. The resumed step must not suspend again, and the suspension must still
    count as the sidecar's (so a reinstatement lifts it)."""
    today = clock.now().date()
    org, others = background_members(today)
    import_records(runtime, [org], [individual("M1", "ann@example.org", today + timedelta(days=5)), *others])
    user_id = admit(sim, forum, runtime, "ann", "ann@example.org")
    sweeps = termination_service(runtime, forum)
    sweeps.sweep(cause="test")
    days_later(clock, 40)
    impatient = make_forum(
        runtime,
        forum_config,
        clock,
        ClockSleeper(clock),
        rate_limit=10_000,
        rate_burst=5_000,
        max_wait_seconds=0.0,
    )
    # Reads and the group removal go through; the suspend is refused by the rate limit.
    sim.configure_rate_limit(3, 60.0)
    result = termination_service(runtime, impatient).sweep(cause="test")
    assert result.interrupted is not None
    with runtime.sessions() as session:
        pending = (
            session.execute(select(SweepStep).where(SweepStep.status == StepStatus.PENDING)).scalars().all()
        )
        assert [(s.action, s.attempts) for s in pending] == [("suspend", 1)]
    # ... as if that call had reached the forum before the process died:
    sim.suspend_user(user_id, clock.now() + timedelta(days=36500), runtime.config.termination.suspend_reason)
    clock.advance(61)
    before = request_count(sim)
    result = sweeps.sweep(cause="test")
    assert result.interrupted is None
    assert [(s.action, s.status) for s in result.steps] == [("suspend", "already_done")]
    assert successful_writes(sim, before) == []
    assert link(runtime, user_id).imposed_suspension is True

    # Dues paid: the reinstatement lifts it.
    today = clock.now().date()
    org, others = background_members(today)
    import_records(
        runtime, [org], [individual("M1", "ann@example.org", today + timedelta(days=365)), *others]
    )
    sim.configure_rate_limit(60, 60.0)
    assert sweeps.sweep(cause="test").interrupted is None
    assert not suspended(sim, user_id)
    assert groups_of(sim, user_id) == {"members"}


def test_a_forum_outage_leaves_the_steps_for_the_next_run(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    days_later(clock, 40)
    sweeps = termination_service(runtime, forum)
    sim.faults.fail_next = 1_000
    result = sweeps.sweep(cause="test")
    assert result.interrupted is not None
    assert result.pending_steps == 6
    sim.faults.clear()
    result = sweeps.sweep(cause="test")
    assert result.interrupted is None
    assert all(suspended(sim, i) for i in ids)


def test_refusals_and_vanished_accounts_are_recorded_and_the_rest_goes_on(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    sim.update_user(ids[0], moderator=True)  # staff cannot be suspended through the API (403)
    sim.destroy_user(ids[1])  # deleted meanwhile
    days_later(clock, 40)
    result = termination_service(runtime, forum).sweep(cause="test")
    assert result.interrupted is None
    by_user = {(s.forum_user_id, s.action): s.status for s in result.steps}
    assert by_user[(ids[0], "suspend")] == "failed"
    assert by_user[(ids[1], "remove_groups")] == "skipped"
    assert by_user[(ids[1], "suspend")] == "skipped"
    assert by_user[(ids[2], "suspend")] == "done"
    assert suspended(sim, ids[2])
    assert link(runtime, ids[0]).imposed_suspension is False
    done = audit_actions(runtime, "termination.sweep_done")
    assert done[-1][3]["steps"] == {"done": 3, "failed": 1, "skipped": 2}


def test_only_one_process_carries_out_a_sweep_at_a_time(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    days_later(clock, 40)
    sim.faults.fail_next = 1_000
    first = termination_service(runtime, forum, runner="host-a")
    assert first.sweep(cause="test").interrupted is not None
    sim.faults.clear()
    with runtime.sessions.begin() as session:  # host-a is still at it: its lease has not lapsed
        session.execute(
            Sweep.__table__.update().values(runner="host-a", lease_until=clock.now() + timedelta(minutes=5))
        )
    other = termination_service(runtime, forum, runner="host-b")
    result = other.sweep(cause="test")
    assert result.interrupted is not None
    assert "another process" in result.interrupted
    assert not any(suspended(sim, i) for i in ids)
    clock.advance(301)  # host-a died: its lease lapses and host-b takes over
    assert other.sweep(cause="test").interrupted is None
    assert all(suspended(sim, i) for i in ids)


# --- the worker's periodic jobs --------------------------------------------------------------------------


def test_the_worker_sweeps_daily_and_answers_requests_within_minutes(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum, forum_config: Config
) -> None:
    ids = three_members_lapsing(sim, forum, runtime, clock)
    jobs = {job.name: job for job in periodic_jobs(dataclasses.replace(runtime, config=forum_config), forum)}
    assert jobs["termination-sweep"].every_seconds == 24 * 3600
    assert jobs["termination-follow-up"].every_seconds == 60
    scheduler = Scheduler(runtime.sessions, clock, [jobs["termination-sweep"], jobs["termination-follow-up"]])

    days_later(clock, 40)
    assert set(scheduler.run_due()) == {"termination-sweep", "termination-follow-up"}
    assert all(suspended(sim, i) for i in ids)

    # Dues paid the same day: the import asks for a sweep; the follow-up job runs it a minute later.
    today = clock.now().date()
    org, others = background_members(today)
    people = [("M1", "ann"), ("M2", "ben"), ("M3", "cy")]
    import_records(
        runtime,
        [org],
        [*(individual(n, f"{u}@example.org", today + timedelta(days=365)) for n, u in people), *others],
    )
    with runtime.sessions.begin() as session:
        request_sweep(session, cause="import:test", actor="test", now=clock.now())
    clock.advance(60)
    assert scheduler.run_due() == ["termination-follow-up"]
    assert not any(suspended(sim, i) for i in ids)
    assert [standing(runtime, n) for n, _ in people] == ["active"] * 3


def test_a_worker_run_spends_its_time_budget_and_the_next_runs_go_on(
    sim: DiscourseSimulator, runtime: Runtime, clock: FixedClock, forum: DiscourseForum
) -> None:
    """The worker's jobs give a sweep a time budget per run (a budget of 0: one step a run here), so a
    sweep of thousands of calls never holds the deliveries for long; the steps still run once each."""
    ids = three_members_lapsing(sim, forum, runtime, clock)
    days_later(clock, 40)
    before = request_count(sim)
    sweeps = termination_service(runtime, forum, time_budget=0.0)
    result = sweeps.sweep(cause="job:test")
    assert result.interrupted is not None
    assert "spent" in result.interrupted
    assert [s.status for s in result.steps] == ["done"]
    assert result.pending_steps == 5
    runs = 1
    while result.interrupted:
        result = sweeps.run_requested(cause="job:test") or sweeps.resume(cause="job:test")
        runs += 1
    assert runs == 6
    assert all(suspended(sim, i) for i in ids)
    done = successful_writes(sim, before)
    assert len(done) == 6
    assert len(set(done)) == 4  # three suspends, one group endpoint used three times
