"""Sign-ups end to end over HTTP: the simulated forum sends its webhooks to the sidecar's intake, the
sidecar's worker (in a thread, built as ``make_worker`` builds it) acts on the forum through the adapter,
and the final state is checked on both sides.

The same sign-ups run clean, with duplicated and re-sent webhooks, out of order, through a forum outage
and with a lost webhook; every run must end in the same state. Real time throughout (the worker's retry
delays and the sweep's interval are shrunk); every wait polls with a deadline.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from sidecar.app import create_app
from sidecar.cli import periodic_jobs
from sidecar.config import Config
from sidecar.db.models import Delivery, DeliveryStatus, JobRun
from sidecar.forum.factory import build_forum
from sidecar.forum.simulator import DiscourseSimulator, RunningSimulator, start_background
from sidecar.forum.simulator.records import ApiRequest
from sidecar.jobs.periodic import Scheduler
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime, build_runtime
from tests.forum.conftest import API_KEY
from tests.integration.polling import retry_every_delivery, settle, wait_for
from tests.registration.conftest import (
    ANN,
    DORA,
    GUS,
    IVAN,
    TERRY,
    UNA,
    ZED,
    consents,
    forum_actions,
    import_standard_membership,
    links,
    registration_audit,
    statuses,
    writes,
)
from tests.support import SECRET
from webhooks.dispatch import make_processor
from webhooks.handlers import build_registry

TIMEOUT = 20.0
POLICY = "2026-11"
Person = tuple[str, str, str | None]

# The state every run must end in, whatever happened to the webhooks on the way (username -> status,
# reason, member number, suggested organization).
FINAL = {
    "ann": ("approved", "eligible_member", "M1", None),
    "ivan": ("approved", "eligible_member", "M2", None),
    "terry": ("held", "member_terminated", "M3", None),
    "gus": ("held", "organization_lapsed", "M4", None),
    "dora": ("held", "organization_domain_match", None, "ACME"),
    "zed": ("held", "member_not_found", None, None),
    "una": ("awaiting_confirmation", "email_unverified", "M5", None),
    "mod": ("left_alone", "staff", None, None),
    "stagey": ("left_alone", "staged", None, None),
}
MEMBERS = {"ann": "M1", "ivan": "M2"}


@dataclass
class Stack:
    """The simulated forum and the sidecar (intake served, worker running), wired to each other."""

    runtime: Runtime
    sim: DiscourseSimulator
    running: RunningSimulator
    ids: dict[str, int] = field(default_factory=dict)

    def sign_up(self, person: Person, *, confirm: bool = True) -> int:
        username, email, _ = person
        user = self.sim.sign_up(username, email)
        self.ids[username] = user.id
        if confirm:
            self.sim.confirm_email(user.id)
        return user.id

    def staff_and_staged(self) -> None:
        self.ids["mod"] = self.sim.create_user("mod", "mod@forum.test", moderator=True).id
        staged = self.sim.create_user("stagey", "stagey@acme.test", staged=True, active=False, approved=False)
        self.ids["stagey"] = staged.id

    def reach(self, expected: dict[str, tuple[str, str, str | None, str | None]]) -> None:
        """Wait until the registrations read ``expected``, then until nothing is left to deliver or do."""
        wait_for(
            lambda: statuses(self.runtime) == expected, timeout=TIMEOUT, what=f"registrations {expected}"
        )
        self.settle()

    def settle(self) -> None:
        """Nothing queued on the forum's side, nothing unfinished in the inbox, and it stays so."""
        settle(self.runtime, self.sim, timeout=TIMEOUT)

    def approvals(self) -> Counter[str]:
        """Approve requests the forum received, per username."""
        names = {f"/admin/users/{uid}/approve.json": name for name, uid in self.ids.items()}
        return Counter(
            names[path] for method, path, _ in writes(self.sim) if path in names and method == "PUT"
        )

    def deliveries(self) -> list[Delivery]:
        with self.runtime.sessions() as session:
            return list(session.execute(select(Delivery).order_by(Delivery.id)).scalars())


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(config: Config) -> Iterator[StackFactory]:
    stops: list[Callable[[], None]] = []

    def make(*, sweep: bool = False, **registration: Any) -> Stack:
        settings = dataclasses.replace(
            config,
            worker=dataclasses.replace(
                config.worker,
                retry_base_seconds=0.2,
                retry_max_seconds=1.0,
                poll_seconds=0.05,
                max_attempts=50,
            ),
            registration=dataclasses.replace(config.registration, policy_version=POLICY, **registration),
        )
        runtime = build_runtime(settings)  # the wall clock: retries and the sweep wait in real time
        stops.append(runtime.engine.dispose)
        import_standard_membership(runtime)

        intake = make_server("127.0.0.1", 0, create_app(runtime=runtime), threaded=True)
        serving = threading.Thread(target=intake.serve_forever, args=(0.05,), name="intake", daemon=True)
        serving.start()
        stops.append(lambda: (intake.shutdown(), serving.join(timeout=10)))

        sim = DiscourseSimulator(
            api_key=API_KEY,
            must_approve_users=True,
            webhook_url=f"http://127.0.0.1:{intake.server_port}/webhooks/discourse",
            webhook_secret=SECRET,
            rate_limit=100_000,
        )
        sim.create_group("members")
        running = start_background(sim)
        stops.append(running.stop)

        forum_settings = dataclasses.replace(
            settings.forum,
            url=running.url,
            api_key=API_KEY,
            rate_limit=100_000,
            rate_burst=50_000,
            retries=0,  # a 5xx fails the delivery at once: the worker's retries are under test
            read_timeout_seconds=10.0,
        )
        forum = build_forum(runtime, forum_settings)
        processor = make_processor(
            build_registry(), sessions=runtime.sessions, clock=runtime.clock, config=settings, forum=forum
        )
        scheduler = (
            Scheduler(runtime.sessions, runtime.clock, periodic_jobs(runtime, forum)) if sweep else None
        )
        worker = Worker(
            runtime.sessions,
            processor,
            settings=settings.worker,
            clock=runtime.clock,
            metrics=runtime.metrics,
            name="e2e-worker",
            scheduler=scheduler,
        )
        stop = threading.Event()
        working = threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True)
        working.start()
        stops.append(lambda: (stop.set(), working.join(timeout=30)))
        return Stack(runtime, sim, running)

    yield make
    for stop in reversed(stops):
        stop()


def assert_final_state(stack: Stack, expected: dict[str, tuple[str, str, str | None, str | None]]) -> None:
    """The forum and the sidecar's records agree with ``expected`` (a subset of FINAL)."""
    runtime, sim = stack.runtime, stack.sim
    assert statuses(runtime) == expected
    approved = {name for name, (status, *_) in expected.items() if status == "approved"}
    staff = {name for name, (_, reason, *_) in expected.items() if reason == "staff"}
    # On the forum: exactly the eligible accounts were approved (staff are approved anyway), once each,
    # and exactly they are in the member group.
    on_forum = {u.username for u in sim.real_users() if u.approved and u.username != "admin"}
    assert on_forum == approved | staff
    assert {u.username for u in sim.group_members("members")} == approved
    assert stack.approvals() == Counter(dict.fromkeys(approved, 1))
    # In the sidecar: links with the groups it granted, one consent each under the policy in force.
    assert links(runtime) == {name: (MEMBERS[name], '["members"]') for name in approved}
    given = consents(runtime)
    assert Counter(c.forum_user_id for c in given) == Counter(stack.ids[name] for name in approved)
    assert {(c.member_number, c.policy_version, c.purpose, c.choice) for c in given} == {
        (MEMBERS[name], POLICY, "registration", "given") for name in approved
    }
    # Every forum write is logged once, done, with the cause that made it.
    logged = forum_actions(runtime)
    assert Counter((a, t) for a, t, o, _ in logged if o == "done") == Counter(
        [("approve_user", f"user:{stack.ids[n]}") for n in approved]
        + [("add_group_members", f"group:members:{n}") for n in approved]
    )
    assert all(cause for *_, cause in logged)
    # The audit trail ends in each account's final status, with no entry for a decision that did not change.
    last: dict[str, str] = {}
    for actor, action, target, _ in registration_audit(runtime):
        assert actor == "sidecar"
        last[target] = action
    assert last == {f"forum_user:{stack.ids[n]}": f"registration.{s[0]}" for n, s in expected.items()}
    assert {d.status for d in stack.deliveries()} <= {DeliveryStatus.DONE, DeliveryStatus.IGNORED}


def audit_actions(stack: Stack, username: str) -> list[str]:
    target = f"forum_user:{stack.ids[username]}"
    return [action for _, action, t, _ in registration_audit(stack.runtime) if t == target]


# --- in order ----------------------------------------------------------------------------------------------


def test_sign_ups_approve_exactly_the_eligible_once_confirmed(make_stack: StackFactory) -> None:
    stack = make_stack()
    stack.staff_and_staged()
    for person in (ANN, IVAN, TERRY, GUS, DORA, ZED):
        stack.sign_up(person)
    stack.sign_up(UNA, confirm=False)
    stack.reach(FINAL)

    assert_final_state(stack, FINAL)
    # One entry per decision: a later event that decided the same (a confirmation, an echo) wrote none.
    for name in ("ann", "ivan", "terry", "gus", "dora", "zed", "una", "mod", "stagey"):
        assert len(audit_actions(stack, name)) == len(set(audit_actions(stack, name)))
    assert audit_actions(stack, "terry") == ["registration.held"]
    _, _, _, details = next(
        e for e in registration_audit(stack.runtime) if e[2] == f"forum_user:{stack.ids['dora']}"
    )
    assert details["suggested_organization"] == "ACME"
    assert not stack.sim.user(stack.ids["una"]).approved
    assert not stack.sim.user(stack.ids["stagey"]).approved
    # Each of the forum's events was stored once and handled: the user events, and the group events ignored.
    handled = Counter((d.event_name, d.status) for d in stack.deliveries())
    assert handled[("user_created", DeliveryStatus.DONE)] == 9
    assert handled[("user_confirmed_email", DeliveryStatus.DONE)] == 6
    assert handled[("user_approved", DeliveryStatus.DONE)] == 2  # the sidecar's own approvals echoed back
    assert handled[("user_added_to_group", DeliveryStatus.IGNORED)] == 2


def test_ineligible_sign_ups_are_deleted_when_configured_to_reject(make_stack: StackFactory) -> None:
    stack = make_stack(ineligible="reject")
    for person in (ANN, TERRY, GUS, DORA):
        stack.sign_up(person, confirm=person in (ANN, DORA))
    # Zed confirms before the sidecar can act: the confirmation arrives for an account it has deleted.
    with stack.sim.lock:
        stack.sign_up(ZED)
    expected = {
        "ann": FINAL["ann"],
        "terry": ("rejected", "member_terminated", "M3", None),
        "gus": ("rejected", "organization_lapsed", "M4", None),
        "dora": FINAL["dora"],  # a domain match is never refused: held for staff
        "zed": ("rejected", "member_not_found", None, None),
    }
    stack.reach(expected)

    sim = stack.sim
    assert {u.username for u in sim.real_users()} == {"admin", "ann", "dora"}
    assert sim.user(stack.ids["ann"]).approved
    assert not sim.user(stack.ids["dora"]).approved
    rejected = [(a, t, o) for a, t, o, _ in forum_actions(stack.runtime) if a == "reject_user"]
    assert sorted(rejected) == sorted(
        ("reject_user", f"user:{stack.ids[n]}", "done") for n in ("terry", "gus", "zed")
    )
    assert audit_actions(stack, "zed") == ["registration.rejected"]
    assert len(consents(stack.runtime)) == 1
    assert {d.status for d in stack.deliveries()} <= {DeliveryStatus.DONE, DeliveryStatus.IGNORED}


# --- webhook faults ----------------------------------------------------------------------------------------

SUBSET = {name: FINAL[name] for name in ("ann", "ivan", "zed", "una")}


def test_duplicated_and_resent_webhooks_end_in_the_same_state(make_stack: StackFactory) -> None:
    stack = make_stack()
    faults = stack.sim.webhooks.faults
    faults.duplicate = 1.0  # every event twice with the same id (a manual redeliver) ...
    faults.retry = 1.0  # ... and once more with a new id (Discourse's automatic retry)
    for person in (ANN, IVAN, ZED):
        stack.sign_up(person)
    stack.sign_up(UNA, confirm=False)
    stack.reach(SUBSET)

    assert_final_state(stack, SUBSET)
    sent = stack.sim.webhooks.events()
    assert Counter(d.fault for d in sent)["duplicate"] == Counter(d.fault for d in sent)[None]
    assert all(d.delivered for d in sent)
    stored = stack.deliveries()
    assert len(stored) == len([d for d in sent if d.fault is None])  # the intake kept one of each
    assert len({d.event_id for d in sent}) == 2 * len(stored)

    # An admin retries every delivery: the handlers run again against a forum already as it should be.
    before = (writes(stack.sim), registration_audit(stack.runtime), forum_actions(stack.runtime))
    retry_every_delivery(stack.runtime, stack.sim, timeout=TIMEOUT)
    assert (writes(stack.sim), registration_audit(stack.runtime), forum_actions(stack.runtime)) == before
    assert_final_state(stack, SUBSET)


def test_confirmation_delivered_before_the_sign_up_ends_in_the_same_state(make_stack: StackFactory) -> None:
    stack = make_stack()
    sim, faults = stack.sim, stack.sim.webhooks.faults
    # Faults are switched on only while the forum's lock is held: no event of the sidecar's own making
    # (an approval's user_approved) can slip into the window.
    with sim.lock:
        faults.reorder = 1.0  # Ann's user_created goes out after the next event: her confirmation
        stack.sign_up(ANN, confirm=False)
        faults.reorder = 0.0
        sim.confirm_email(stack.ids["ann"])
    with sim.lock:
        faults.delay = 1.0  # Ivan's user_created is held back until he has been approved
        stack.sign_up(IVAN, confirm=False)
        faults.delay = 0.0
    sim.confirm_email(stack.ids["ivan"])
    wait_for(lambda: stack.sim.user(stack.ids["ivan"]).approved, timeout=TIMEOUT, what="Ivan's approval")
    assert [d.event_name for d in stack.sim.webhooks.release_held()] == ["user_created"]
    expected = {"ann": FINAL["ann"], "ivan": FINAL["ivan"]}
    stack.reach(expected)
    stack.settle()

    assert_final_state(stack, expected)
    for name in ("ann", "ivan"):
        arrived = [d.event_name for d in stack.deliveries() if d.subject == f"user:{stack.ids[name]}"]
        assert arrived.index("user_confirmed_email") < arrived.index("user_created")
        # Never seen waiting for a confirmation: the forum already said the email was confirmed.
        assert audit_actions(stack, name) == ["registration.approved"]


def test_a_forum_outage_mid_approval_is_retried_to_the_same_state(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack()
    sim = stack.sim
    stack.sign_up(ANN)
    stack.reach({"ann": FINAL["ann"]})

    # The forum goes down right after it approved Ivan: the sidecar's next call (the group) fails.
    record = sim.record_request

    def record_then_fail(request: ApiRequest) -> None:
        record(request)
        if request.method == "PUT" and request.path == f"/admin/users/{stack.ids.get('ivan')}/approve.json":
            sim.faults.error_rate = 1.0

    monkeypatch.setattr(sim, "record_request", record_then_fail)
    stack.sign_up(IVAN)
    wait_for(lambda: sim.faults.error_rate == 1.0, timeout=TIMEOUT, what="the outage")
    stack.sign_up(ZED)  # signs up while the forum is down

    def failing(name: str) -> bool:
        subject = f"user:{stack.ids[name]}"
        return any(
            d.subject == subject and d.attempts >= 2 and d.status == DeliveryStatus.FAILED
            for d in stack.deliveries()
        )

    wait_for(
        lambda: failing("ivan") and failing("zed"),
        timeout=TIMEOUT,
        what="deliveries failing and being retried",
    )
    assert sim.user(stack.ids["ivan"]).approved
    assert "ivan" not in {u.username for u in sim.group_members("members")}
    sim.faults.clear()  # the forum is back
    expected = {"ann": FINAL["ann"], "ivan": FINAL["ivan"], "zed": FINAL["zed"]}
    stack.reach(expected)

    assert_final_state(stack, expected)
    assert any(r.status == 503 for r in sim.requests)
    group_adds = [(o, c) for a, t, o, c in forum_actions(stack.runtime) if t == "group:members:ivan"]
    assert [o for o, _ in group_adds] == ["failed", "done"]
    assert len({c for _, c in group_adds}) == 1  # both by the same delivery, retried
    # Ivan's first event (it found him confirmed, approved him, then failed) ran until the forum was back;
    # his later events waited behind it, and ran once.
    first, *later = [d for d in stack.deliveries() if d.subject == f"user:{stack.ids['ivan']}"]
    assert first.attempts >= 3
    assert first.status == DeliveryStatus.DONE
    assert {d.attempts for d in later} == {1}


def test_a_lost_confirmation_is_recovered_by_the_pending_sweep(make_stack: StackFactory) -> None:
    stack = make_stack(sweep=True, pending_check_minutes=0.01)
    faults = stack.sim.webhooks.faults
    stack.sign_up(ANN, confirm=False)
    wait_for(
        lambda: (
            statuses(stack.runtime).get("ann") == ("awaiting_confirmation", "email_unverified", "M1", None)
        ),
        timeout=TIMEOUT,
        what="Ann's sign-up to be seen",
    )
    with stack.sim.lock:  # nothing but these events is emitted while webhooks are dropped
        faults.drop = 1.0
        stack.sim.confirm_email(stack.ids["ann"])  # this webhook never arrives
        stack.sign_up(ZED)  # neither of Zed's does
        faults.drop = 0.0
    expected = {"ann": FINAL["ann"], "zed": FINAL["zed"]}
    stack.reach(expected)

    assert_final_state(stack, expected)
    assert sorted(d.event_name for d in stack.sim.webhooks.dropped) == [
        "user_confirmed_email",
        "user_confirmed_email",
        "user_created",
    ]
    assert not any(d.subject == f"user:{stack.ids['zed']}" for d in stack.deliveries())
    for name in ("ann", "zed"):
        last = [
            d for _, _, t, d in registration_audit(stack.runtime) if t == f"forum_user:{stack.ids[name]}"
        ][-1]
        assert last["cause"].startswith("job:pending-registrations:")
    [consent] = consents(stack.runtime)
    assert consent.source.startswith("job:pending-registrations:")
    assert {c for a, _, _, c in forum_actions(stack.runtime) if a == "approve_user"} == {consent.source}
    with stack.runtime.sessions() as session:
        runs = session.execute(select(JobRun.job, JobRun.status)).all()
    # The worker runs the termination jobs too; all of them succeed.
    assert {job for job, _ in runs} == {"pending-registrations", "termination-sweep", "termination-follow-up"}
    assert {status for _, status in runs} <= {"done", "running"}
    assert json.loads(links(stack.runtime)["ann"][1]) == ["members"]
