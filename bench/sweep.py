"""Termination sweep benchmark: plan a sweep over 100,000 members with 2% changing, then carry it out.

Run from the project root with the project's virtualenv::

    .venv/bin/python bench/sweep.py [--members N] [--changing-share S] [--linked-share S] [--runs R]
                                    [--seed S] [--database-url URL] [--json] [--check]

Seeds a fresh SQLite database (and, with --database-url, a fresh database on that PostgreSQL server) with N
members as the sweep of the day before left them (their standings recorded, forum accounts linked), of whom
a share has changed since: dues ran out (into grace), grace ended (terminated) or dues were paid again
(reinstated). Then it measures, on the day of the sweep:

- planning: ``store.load_inputs`` and ``plan.plan_sweep`` timed separately, best of R runs; the target
  (under 1 s) applies to ``plan_sweep``, the load and the sum are printed beside it;
- forum calls: one real sweep (``TerminationService.sweep``) against the Discourse simulator, in process
  (``responses``), whose request log is counted: the writes must be exactly the changes the plan requires
  (one call per step, one per group of a group step), the reads at most one per touched account plus a few
  constant lookups; and the simulated forum must end in the state the plan describes.

Every target is checked against figures of the same run. See README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import gc
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cli_args import positive_int
from report import Check, render_summary, summary_row
from scratch_db import BenchError, databases
from sqlalchemy import Connection, Engine, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import FixedClock
from sidecar.config import Config, DatabaseConfig, ForumConfig, TerminationConfig
from sidecar.db.engine import make_engine, make_sessions
from sidecar.db.models import ForumLink, Standing
from sidecar.db.schema import upgrade
from sidecar.forum.actions import ActionLog
from sidecar.forum.discourse import DiscourseForum, Sleeper
from sidecar.forum.factory import budget_of
from sidecar.forum.ratelimit import SharedTokenBucket
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.membership.collector import paused_collector
from sidecar.membership.eligibility import MembershipRules
from sidecar.membership.importing import import_membership
from sidecar.membership.provenance import Located, Origin
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.source import SourceBatch
from sidecar.metrics import Metrics
from sidecar.termination import store
from sidecar.termination.plan import Action, SweepPlan, plan_sweep
from sidecar.termination.sweeps import SUSPEND_YEARS, TerminationService

TARGET_PLAN_S = 1.0  # plan_sweep over every member
READ_ALLOWANCE = 5  # forum reads allowed beyond one per touched account (group id lookups)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the day of the sweep; the previous one ran a day before
TODAY = NOW.date()
API_KEY = "bench-api-key-0123456789"
MEMBERS_GROUP = "members"
ORG_SIZE = 10  # members per organization
ORG_MEMBER_SHARE = 0.9  # the rest are individual members
SECOND_ACCOUNT_EVERY = 20  # every 20th changing member has a second linked forum account
DB_ONLY_IDS = 1_000_000_000  # forum user ids of accounts only in the database (see seed)
CHUNK = 1000


# --- the membership -----------------------------------------------------------------------------------


class Kind(enum.StrEnum):
    """What happened to a member (to their organization, for an organization member) since yesterday."""

    ACTIVE = "active"  # paid ahead, eligible yesterday and today
    GRACE = "grace"  # in grace yesterday and today
    TERMINATED = "terminated"  # terminated earlier, still unpaid
    INTO_GRACE = "into_grace"  # paid through yesterday: active -> grace, a private message
    GRACE_ENDS = "grace_ends"  # the last day of grace was yesterday: grace -> terminated
    PAID_AGAIN = "paid_again"  # terminated, dues paid since: terminated -> active (a reinstatement)


CHANGING_MIX = ((Kind.INTO_GRACE, 0.50), (Kind.GRACE_ENDS, 0.30), (Kind.PAID_AGAIN, 0.20))  # of the changing
STABLE_MIX = ((Kind.GRACE, 0.02), (Kind.TERMINATED, 0.01))  # of all members; the rest ACTIVE
# The standing the previous sweep recorded, and the transition today's sweep must plan.
BEFORE = {
    Kind.ACTIVE: ("active", "eligible"),
    Kind.GRACE: ("grace", "in_grace"),
    Kind.TERMINATED: ("terminated", "dues_unpaid"),
    Kind.INTO_GRACE: ("active", "eligible"),
    Kind.GRACE_ENDS: ("grace", "in_grace"),
    Kind.PAID_AGAIN: ("terminated", "dues_unpaid"),
}
TRANSITION = {
    Kind.INTO_GRACE: "active->grace",
    Kind.GRACE_ENDS: "grace->terminated",
    Kind.PAID_AGAIN: "terminated->active",
}
CALLS_PER_ACCOUNT = {  # forum writes each changing account requires (one group: one group call)
    Kind.INTO_GRACE: 1,  # the grace message
    Kind.GRACE_ENDS: 2,  # leave the group, suspend
    Kind.PAID_AGAIN: 2,  # lift the suspension, back in the group
}


@dataclass
class Layout:
    organizations: list[OrganizationRecord]
    members: list[MemberRecord]
    kinds: dict[str, Kind]  # by member number

    def count(self, kind: Kind) -> int:
        return sum(1 for k in self.kinds.values() if k is kind)


def _paid_through(kind: Kind, rng: random.Random, grace_days: int) -> date:
    match kind:
        case Kind.ACTIVE:
            return TODAY + timedelta(days=rng.randint(0, 364))
        case Kind.GRACE:  # in grace yesterday (at least a day overdue) and still today
            return TODAY - timedelta(days=rng.randint(2, grace_days))
        case Kind.TERMINATED:  # past grace yesterday already
            return TODAY - timedelta(days=rng.randint(grace_days + 2, grace_days + 370))
        case Kind.INTO_GRACE:
            return TODAY - timedelta(days=1)
        case Kind.GRACE_ENDS:
            return TODAY - timedelta(days=grace_days + 1)
        case Kind.PAID_AGAIN:
            return TODAY + timedelta(days=364)


def make_layout(count: int, changing_share: float, seed: int, grace_days: int) -> Layout:
    """Organizations of ORG_SIZE members and individual members; kinds given to whole organizations (dues
    are paid by the organization) for ORG_MEMBER_SHARE of each kind's quota, to individuals for the rest."""
    rng = random.Random(seed)
    org_count = int(count * ORG_MEMBER_SHARE) // ORG_SIZE
    individual_count = count - org_count * ORG_SIZE
    orgs = list(range(1, org_count + 1))
    individuals = list(range(1, individual_count + 1))
    rng.shuffle(orgs)
    rng.shuffle(individuals)

    changing = round(count * changing_share)
    quotas = [(kind, round(changing * share)) for kind, share in CHANGING_MIX[:-1]]
    quotas.append((CHANGING_MIX[-1][0], changing - sum(q for _, q in quotas)))
    quotas += [(kind, round(count * share)) for kind, share in STABLE_MIX]
    org_kind: dict[int, Kind] = {}
    individual_kind: dict[int, Kind] = {}
    for kind, quota in quotas:
        whole = min(int(quota * ORG_MEMBER_SHARE) // ORG_SIZE, len(orgs))
        for _ in range(whole):
            org_kind[orgs.pop()] = kind
        rest = quota - whole * ORG_SIZE
        if rest > len(individuals):
            raise ValueError(f"{count} members are too few for a changing share of {changing_share}")
        for _ in range(rest):
            individual_kind[individuals.pop()] = kind

    organizations: list[OrganizationRecord] = []
    members: list[MemberRecord] = []
    kinds: dict[str, Kind] = {}
    for k in range(1, org_count + 1):
        kind = org_kind.get(k, Kind.ACTIVE)
        org_id, domain = f"ORG{k:05d}", f"org{k:05d}.example"
        organizations.append(
            OrganizationRecord(
                org_id,
                f"Organization {k}",
                OrganizationStatus.ACTIVE,
                _paid_through(kind, rng, grace_days),
                (domain,),
            )
        )
        for j in range(ORG_SIZE):
            number = f"M{(k - 1) * ORG_SIZE + j + 1:07d}"
            members.append(
                MemberRecord(
                    number,
                    org_id,
                    f"Member {number}",
                    MemberStatus.ACTIVE,
                    None,
                    (f"{number.lower()}@{domain}",),
                )
            )
            kinds[number] = kind
    for i in range(1, individual_count + 1):
        kind = individual_kind.get(i, Kind.ACTIVE)
        number = f"M{org_count * ORG_SIZE + i:07d}"
        members.append(
            MemberRecord(
                number,
                None,
                f"Member {number}",
                MemberStatus.ACTIVE,
                _paid_through(kind, rng, grace_days),
                (f"{number.lower()}@home.example",),
            )
        )
        kinds[number] = kind
    return Layout(organizations, members, kinds)


# --- seeding ------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """What was seeded: the forum accounts of each kind (simulator user ids) and the time it took."""

    accounts: dict[Kind, list[int]] = field(default_factory=dict)  # in the simulator, changing members only
    linked: int = 0  # forum_links rows
    import_seconds: float = 0.0
    rows_seconds: float = 0.0
    forum_seconds: float = 0.0


def _rules(config: Config) -> MembershipRules:
    settings = config.membership
    return MembershipRules.from_settings(
        accepted_statuses=settings.accepted_statuses,
        grace_days=settings.grace_days,
        individual_memberships=settings.individual_memberships,
    )


def _chunks(rows: Sequence[dict[str, Any]], size: int = CHUNK) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def seed(
    sessions: sessionmaker[Session],
    sim: DiscourseSimulator,
    config: Config,
    layout: Layout,
    linked_share: float,
    rng: random.Random,
) -> Seeded:
    """Import the membership, record yesterday's standings and link the forum accounts.

    Every changing member has a forum account (every SECOND_ACCOUNT_EVERY-th a second one), created in the
    simulator as yesterday's sweep left it: in the members group, or suspended by the sidecar and out of the
    group for a terminated member. Of the other members, ``linked_share`` have an account that is only a
    ``forum_links`` row: the sweep must not call the forum for them (a call would show in the counts as a
    404), and creating users in the simulator costs time proportional to the users it already holds.
    """
    result = Seeded(accounts={kind: [] for kind, _ in CHANGING_MIX})
    started = time.perf_counter()
    batch = SourceBatch(
        organizations=[
            Located(o, Origin("organizations", n + 2)) for n, o in enumerate(layout.organizations)
        ],
        members=[Located(m, Origin("members", n + 2)) for n, m in enumerate(layout.members)],
        sources=["organizations", "members"],
    )
    with paused_collector(), sessions.begin() as session:  # as `mug-sidecar members import` runs
        report = import_membership(
            session,
            batch,
            rules=_rules(config),
            today=TODAY,
            now=NOW - timedelta(days=1),
            actor="bench",
            max_ineligible_share=1.0,
            force=True,
        )
    if report.plan.members.created != len(layout.members):
        raise BenchError(f"imported {report.plan.members.created} of {len(layout.members)} members")
    result.import_seconds = time.perf_counter() - started

    started = time.perf_counter()
    yesterday = NOW - timedelta(days=1)
    suspend_until = yesterday + timedelta(days=365 * SUSPEND_YEARS)
    standings: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    in_group = []
    changing_seen = 0
    db_only = DB_ONLY_IDS
    with sim.quietly():
        for member in layout.members:
            number, kind = member.member_number, layout.kinds[member.member_number]
            state, reason = BEFORE[kind]
            standings.append(
                {"member_number": number, "state": state, "reason": reason, "since": yesterday}
                | {"deferral_id": None}
            )
            terminated = state == "terminated"
            if kind in CALLS_PER_ACCOUNT:
                changing_seen += 1
                names = [number.lower()]
                if changing_seen % SECOND_ACCOUNT_EVERY == 0:
                    names.append(f"{number.lower()}_alt")
                for name in names:
                    user = sim.create_user(name, f"{name}@members.example", emit=False)
                    result.accounts[kind].append(user.id)
                    if terminated:
                        sim.suspend_user(user.id, suspend_until, config.termination.suspend_reason)
                    else:
                        in_group.append(user)
                    links.append(_link(user.id, number, name, yesterday, terminated))
            elif rng.random() < linked_share:
                db_only += 1
                links.append(_link(db_only, number, number.lower(), yesterday, terminated))
        sim.add_group_members(MEMBERS_GROUP, in_group)
    result.forum_seconds = time.perf_counter() - started
    result.linked = len(links)

    started = time.perf_counter()
    with sessions.begin() as session:
        for chunk in _chunks(standings):
            session.execute(insert(Standing), list(chunk))
        for chunk in _chunks(links):
            session.execute(insert(ForumLink), list(chunk))
    result.rows_seconds = time.perf_counter() - started
    return result


def _link(user_id: int, number: str, username: str, at: datetime, terminated: bool) -> dict[str, Any]:
    return {
        "forum_user_id": user_id,
        "member_number": number,
        "username": username,
        "email": f"{username}@members.example",
        "linked_at": at,
        "granted_groups": json.dumps([MEMBERS_GROUP]),
        "imposed_suspension": terminated,
        "withheld_groups": json.dumps([MEMBERS_GROUP] if terminated else []),
    }


# --- measuring ----------------------------------------------------------------------------------------


@dataclass
class PlanTiming:
    runs: int
    load_seconds: float  # best of the runs
    plan_seconds: float  # best of the runs
    total_seconds: float  # best load + plan of one run
    traced_peak_mb: float  # Python allocations of one load + plan (tracemalloc, an extra untimed run)


@dataclass
class PlanCounts:
    transitions: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    enrolments: int = 0
    with_access: int = 0
    steps: dict[str, int] = field(default_factory=dict)  # by action
    required_calls: int = 0  # one per step, one per group of a group step
    accounts: int = 0  # distinct forum accounts with a step


@dataclass
class SweepCounts:
    seconds: float = 0.0
    steps: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    reads: int = 0
    writes_by_endpoint: dict[str, int] = field(default_factory=dict)
    reads_by_endpoint: dict[str, int] = field(default_factory=dict)
    not_ok: int = 0  # answers other than 2xx
    staff_log: dict[str, int] = field(default_factory=dict)  # entries the forum's staff log gained
    waits: int = 0  # waits for the rate budget (none expected: the budget is set far above the run)
    transactions: int = 0  # database transactions of the sweep
    longest_transaction_seconds: float = 0.0  # expected: the one that loads, plans and records
    stopped: str | None = None  # why the sweep was blocked or interrupted (None: it ran to the end)
    end_state: list[str] = field(default_factory=list)  # differences from the planned end state


@dataclass
class DatabaseResult:
    database: str
    members: int = 0
    organizations: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    linked_accounts: int = 0
    seed_seconds: dict[str, float] = field(default_factory=dict)
    planning: PlanTiming | None = None
    plan: PlanCounts | None = None
    sweep: SweepCounts | None = None
    checks: list[Check] = field(default_factory=list)
    error: str | None = None


def plan_counts(plan: SweepPlan) -> PlanCounts:
    steps = [s for t in plan.transitions for s in t.steps]
    group_steps = (Action.REMOVE_GROUPS, Action.RESTORE_GROUPS)
    return PlanCounts(
        transitions=len(plan.transitions),
        by_kind=plan.summary()["by_kind"],
        enrolments=len(plan.enrolments),
        with_access=plan.with_access,
        steps=dict(Counter(str(s.action) for s in steps).most_common()),
        required_calls=sum(len(s.groups) if s.action in group_steps else 1 for s in steps),
        accounts=len({s.forum_user_id for s in steps}),
    )


def time_planning(sessions: sessionmaker[Session], config: Config, runs: int) -> tuple[PlanTiming, SweepPlan]:
    """Load and plan as ``TerminationService.plan`` does, timed apart; best of ``runs``."""
    rules, settings = _rules(config), config.termination

    def once() -> tuple[float, float, SweepPlan]:
        with sessions() as session, paused_collector():  # as TerminationService.plan pauses it
            started = time.perf_counter()
            inputs = store.load_inputs(session, TODAY)
            loaded = time.perf_counter()
            plan = plan_sweep(
                inputs,
                rules,
                TODAY,
                required_approvals=settings.deferral_approvals,
                grace_message=bool(settings.grace_message.strip()),
            )
            return loaded - started, time.perf_counter() - loaded, plan

    timings = []
    plan: SweepPlan | None = None
    # The benchmark's own objects (the generated membership, the simulator's users) are no part of a worker's
    # heap: they are kept out of the cyclic collector's sight, which otherwise runs as it does in a worker.
    gc.collect()
    gc.freeze()
    try:
        for _ in range(runs):
            plan = None  # the previous run's plan is garbage before the next load, as between two sweeps
            load, planning, plan = once()
            timings.append((load, planning))
    finally:
        gc.unfreeze()
    assert plan is not None
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    once()
    traced = (tracemalloc.get_traced_memory()[1] - base) / 2**20
    if started_here:
        tracemalloc.stop()
    return (
        PlanTiming(
            runs=runs,
            load_seconds=min(load for load, _ in timings),
            plan_seconds=min(planning for _, planning in timings),
            total_seconds=min(load + planning for load, planning in timings),
            traced_peak_mb=traced,
        ),
        plan,
    )


_ENDPOINT_IDS = re.compile(r"/\d+(?=[/.])")
_USER_READ = re.compile(r"^/admin/users/\d+\.json$")


def _endpoint(method: str, path: str) -> str:
    if method == "GET" and path.startswith("/u/") and path.endswith("/emails.json"):
        return "GET /u/{username}/emails.json"
    if method == "GET" and path.startswith("/groups/") and path.count("/") == 2:
        return "GET /groups/{name}.json"
    return f"{method} {_ENDPOINT_IDS.sub('/{id}', path)}"


class TransactionTimer:
    """Counts an engine's transactions and times the longest: on SQLite, every transaction holds the one
    writer (``BEGIN IMMEDIATE``), so the longest is the longest that webhook intake had to wait."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.longest = 0.0

    def __enter__(self) -> TransactionTimer:
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "commit", self._end)
        event.listen(self.engine, "rollback", self._end)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._end)
        event.remove(self.engine, "rollback", self._end)

    def _begin(self, connection: Connection) -> None:
        connection.info["bench_began"] = time.perf_counter()

    def _end(self, connection: Connection) -> None:
        began = connection.info.pop("bench_began", None)
        if began is not None:
            self.count += 1
            self.longest = max(self.longest, time.perf_counter() - began)


def run_sweep(engine: Engine, sim: DiscourseSimulator, config: Config, clock: FixedClock) -> SweepCounts:
    """One sweep through ``TerminationService.sweep`` against the simulator; what the forum received."""
    sessions = make_sessions(engine)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    forum = DiscourseForum(
        config.forum,
        bucket=SharedTokenBucket(sessions, clock, budget_of(config.forum)),
        actions=ActionLog(sessions, clock),
        metrics=Metrics(),
        sleeper=Sleeper(sleep),
        cause="bench",
    )
    service = TerminationService(sessions=sessions, clock=clock, config=config, forum=forum, runner="bench")
    with sim.lock:
        requests_before, staff_before = len(sim.requests), len(sim.staff_actions)
    with sim.mocked(), TransactionTimer(engine) as transactions:
        started = time.perf_counter()
        result = service.sweep(cause="bench")
        seconds = time.perf_counter() - started
    with sim.lock:
        received = sim.requests[requests_before:]
        staff = sim.staff_actions[staff_before:]
    writes = Counter(_endpoint(r.method, r.path) for r in received if r.method != "GET")
    reads = Counter(_endpoint(r.method, r.path) for r in received if r.method == "GET")
    return SweepCounts(
        seconds=seconds,
        steps=len(result.steps),
        outcomes=dict(Counter(s.status for s in result.steps).most_common()),
        writes=sum(writes.values()),
        reads=sum(reads.values()),
        writes_by_endpoint=dict(writes.most_common()),
        reads_by_endpoint=dict(reads.most_common()),
        not_ok=sum(1 for r in received if not 200 <= r.status < 300),
        staff_log=dict(Counter(a.action for a in staff).most_common()),
        waits=len(waits),
        transactions=transactions.count,
        longest_transaction_seconds=transactions.longest,
        stopped=result.blocked or result.interrupted,
    )


def end_state(
    sessions: sessionmaker[Session], sim: DiscourseSimulator, layout: Layout, seeded: Seeded
) -> list[str]:
    """How the forum and the database differ from what the plan says they become (empty: as planned)."""
    problems: list[str] = []
    accounts = seeded.accounts

    def compare(what: str, found: set[int], wanted: Iterable[int]) -> None:
        expected = set(wanted)
        if found != expected:
            problems.append(
                f"{what}: {len(found - expected)} unexpected, {len(expected - found)} missing"
                f" ({len(found)} found, {len(expected)} expected)"
            )

    with sim.lock:
        compare("suspended accounts", {u.id for u in sim.suspended_users()}, accounts[Kind.GRACE_ENDS])
        compare(
            "accounts in the members group",
            set(sim.group_member_ids(sim.group(MEMBERS_GROUP))),
            accounts[Kind.INTO_GRACE] + accounts[Kind.PAID_AGAIN],
        )
        messages = sim.private_messages()
        recipients = [uid for t in messages for uid in t.allowed_user_ids if uid != t.user_id]
    compare("grace message recipients", set(recipients), accounts[Kind.INTO_GRACE])
    if len(recipients) != len(set(recipients)):
        problems.append(f"grace messages: {len(recipients) - len(set(recipients))} sent twice")

    after = {"active->grace": "grace", "grace->terminated": "terminated", "terminated->active": "active"}
    wanted = Counter(after.get(TRANSITION.get(k, ""), BEFORE[k][0]) for k in layout.kinds.values())
    with sessions() as session:
        found: dict[str, int] = {
            state: count
            for state, count in session.execute(select(Standing.state, func.count()).group_by(Standing.state))
        }
        imposed = set(
            session.execute(
                select(ForumLink.forum_user_id).where(
                    ForumLink.imposed_suspension.is_(True), ForumLink.forum_user_id < DB_ONLY_IDS
                )
            ).scalars()
        )
    if found != dict(wanted):
        problems.append(f"standings {dict(sorted(found.items()))}, expected {dict(sorted(wanted.items()))}")
    compare("links with a suspension imposed", imposed, accounts[Kind.GRACE_ENDS])
    return problems


def bench_database(
    database: str, url: str, layout: Layout, linked_share: float, runs: int, seed_value: int
) -> DatabaseResult:
    result = DatabaseResult(
        database,
        members=len(layout.members),
        organizations=len(layout.organizations),
        kinds={str(kind): layout.count(kind) for kind in Kind},
    )
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_sessions(engine)
        clock = FixedClock(NOW)
        sim = DiscourseSimulator(clock=clock, api_key=API_KEY, rate_limit=10**9)
        sim.create_group(MEMBERS_GROUP)
        config = bench_config(url, sim.base_url)

        seeded = seed(sessions, sim, config, layout, linked_share, random.Random(seed_value + 1))
        result.linked_accounts = seeded.linked
        result.seed_seconds = {
            "import": round(seeded.import_seconds, 2),
            "forum accounts": round(seeded.forum_seconds, 2),
            "standings and links": round(seeded.rows_seconds, 2),
        }

        result.planning, plan = time_planning(sessions, config, runs)
        result.plan = counts = plan_counts(plan)
        del plan
        expected_kinds = {TRANSITION[kind]: layout.count(kind) for kind in TRANSITION if layout.count(kind)}
        expected_calls = sum(len(seeded.accounts[kind]) * calls for kind, calls in CALLS_PER_ACCOUNT.items())
        expected_accounts = sum(len(ids) for ids in seeded.accounts.values())
        plan_ok = (
            counts.by_kind == dict(sorted(expected_kinds.items()))
            and counts.enrolments == 0
            and counts.required_calls == expected_calls
            and counts.accounts == expected_accounts
        )

        result.sweep = sweep = run_sweep(engine, sim, config, clock)
        sweep.end_state = end_state(sessions, sim, layout, seeded)
    finally:
        engine.dispose()

    result.checks = [
        Check(
            f"plan_sweep of {result.members:,} < {TARGET_PLAN_S:g} s",
            f"{result.planning.plan_seconds:.3f} s",
            result.planning.plan_seconds < TARGET_PLAN_S,
        ),
        Check(
            "plan == seeded changes",
            f"{counts.transitions:,} transitions" if plan_ok else "differs",
            plan_ok,
        ),
        Check(
            "forum writes == required",
            f"{sweep.writes:,} / {counts.required_calls:,}",
            sweep.writes == counts.required_calls and sweep.not_ok == 0,
        ),
        Check(
            f"forum reads <= accounts + {READ_ALLOWANCE}",
            f"{sweep.reads:,} / {counts.accounts + READ_ALLOWANCE:,}",
            sweep.reads <= counts.accounts + READ_ALLOWANCE,
        ),
        Check(
            "forum and standings as planned",
            "as planned" if not sweep.end_state else f"{len(sweep.end_state)} differences",
            not sweep.end_state and sweep.stopped is None and sweep.outcomes.keys() <= {"done"},
        ),
    ]
    return result


def bench_config(url: str, forum_url: str) -> Config:
    """Defaults, but the simulator's URL and key, a rate budget no run reaches, and limits no plan hits."""
    forum = dataclasses.replace(
        ForumConfig(),
        url=forum_url,
        api_key=API_KEY,
        api_username="system",
        rate_limit=10_000_000,
        rate_burst=5_000_000,
    )
    termination = dataclasses.replace(TerminationConfig(), max_share=1.0, max_count=10**9)
    return Config(database=DatabaseConfig(url=url), forum=forum, termination=termination)


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes; this benchmark runs on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- reporting ----------------------------------------------------------------------------------------


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items()) or "none"


def render(result: DatabaseResult) -> str:
    kinds = result.kinds
    changing = sum(kinds.get(str(kind), 0) for kind in TRANSITION)
    lines = [
        f"== {result.database}: {result.members:,} members ({result.organizations:,} organizations of"
        f" {ORG_SIZE}, the rest individuals), {changing:,} changing, {result.linked_accounts:,} linked"
        " forum accounts",
        f"   members by kind: {_listing(kinds)}",
        "   seeding: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seed_seconds.items()),
    ]
    if result.planning is not None and result.plan is not None:
        timing, plan = result.planning, result.plan
        lines += [
            f"   planning, best of {timing.runs}      {'load s':>8} {'plan s':>8} {'total s':>8}",
            f"     load_inputs, plan_sweep  {timing.load_seconds:>8.3f} {timing.plan_seconds:>8.3f}"
            f" {timing.total_seconds:>8.3f}   (allocation peak {timing.traced_peak_mb:.0f} MB, tracemalloc)",
            f"   plan: {plan.transitions:,} transitions ({_listing(plan.by_kind)}), {plan.enrolments:,}"
            f" enrolments, {plan.with_access:,} members with access before",
            f"     forum steps: {_listing(plan.steps)}",
            f"     required forum changes {plan.required_calls:,} on {plan.accounts:,} accounts",
        ]
    if result.sweep is not None and result.plan is not None:
        sweep, plan = result.sweep, result.plan
        per_step = sweep.seconds / sweep.steps * 1000 if sweep.steps else 0.0
        lines += [
            f"   sweep (TerminationService.sweep, simulator in process): {sweep.seconds:.1f} s,"
            f" {sweep.steps:,} steps ({per_step:.1f} ms a step); outcomes: {_listing(sweep.outcomes)}",
            f"     forum writes {sweep.writes:>7,}   required {plan.required_calls:,}",
            f"       {_listing(sweep.writes_by_endpoint)}",
            f"     forum reads  {sweep.reads:>7,}   touched accounts {plan.accounts:,}"
            f" (+ {READ_ALLOWANCE} allowed)",
            f"       {_listing(sweep.reads_by_endpoint)}",
            f"     database: {sweep.transactions:,} transactions, the longest"
            f" {sweep.longest_transaction_seconds:.2f} s",
            f"     answers not 2xx: {sweep.not_ok:,}; budget waits: {sweep.waits:,};"
            f" forum staff log: {_listing(sweep.staff_log)}",
        ]
        if sweep.stopped:
            lines.append(f"     STOPPED: {sweep.stopped}")
        lines += [f"     END STATE: {problem}" for problem in sweep.end_state]
    if result.error:
        lines.append(f"   ERROR: {result.error}")
    return "\n".join(lines)


def render_summary_with_memory(checks: Sequence[tuple[str, Check]], peak_mb: float) -> str:
    lines = render_summary(checks, widths=(34, 20))
    lines.append(
        summary_row("process", "peak memory (information)", f"{peak_mb:.0f} MB (maxrss)", "", widths=(34, 20))
    )
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------------------


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (or, with --check, 1 when a target fails); 2 when a database run could not be completed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=positive_int, default=100_000, help="default 100,000")
    parser.add_argument(
        "--changing-share",
        type=_share,
        default=0.02,
        help="share of the members whose standing changes (0.02)",
    )
    parser.add_argument(
        "--linked-share",
        type=_share,
        default=0.10,
        help="share of the other members with a linked forum account (0.10; changing members all have one)",
    )
    parser.add_argument("--runs", type=positive_int, default=3, help="timed planning runs, best kept (3)")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed of the membership")
    parser.add_argument(
        "--database-url",
        "--pg-admin-url",
        dest="database_url",
        help="also run on this PostgreSQL server, in a database created for the run and dropped after",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    args = parser.parse_args(argv)

    grace_days = Config().membership.grace_days
    try:
        layout = make_layout(args.members, args.changing_share, args.seed, grace_days)
    except ValueError as exc:
        parser.error(str(exc))
    results: list[DatabaseResult] = []
    with tempfile.TemporaryDirectory(prefix="mug-bench-sweep-") as tmp:
        scratch = f"mug_bench_sweep_{os.getpid()}"
        for database, opened in databases(f"sqlite:///{Path(tmp) / 'bench.db'}", args.database_url, scratch):
            print(f"benchmarking {database} ...", file=sys.stderr, flush=True)
            try:
                with opened as url:
                    results.append(
                        bench_database(database, url, layout, args.linked_share, args.runs, args.seed)
                    )
            except BenchError as exc:
                results.append(DatabaseResult(database, error=str(exc)))
    peak_mb = peak_rss_mb()

    checks = [(r.database, c) for r in results for c in r.checks]
    passed = all(c.passed for _, c in checks) and not any(r.error for r in results)
    if args.json:
        document = {
            "settings": {
                "members": args.members,
                "changing_share": args.changing_share,
                "linked_share": args.linked_share,
                "runs": args.runs,
                "seed": args.seed,
            },
            "targets": {"plan_seconds": TARGET_PLAN_S, "read_allowance": READ_ALLOWANCE},
            "databases": [asdict(r) for r in results],
            "peak_rss_mb": round(peak_mb, 1),
            "checks": [{"scope": scope, **asdict(c)} for scope, c in checks],
            "passed": passed,
        }
        print(json.dumps(document, indent=2))
    else:
        for result in results:
            print(render(result))
        print(render_summary_with_memory(checks, peak_mb))
    if any(r.error for r in results):
        return 2
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
