"""``mug-sidecar terminations`` and ``mug-sidecar deferrals``, run through the real CLI (``sidecar.cli.main``)
against a simulated forum served over loopback: the CLI builds its own adapter from MUG_FORUM_URL and
MUG_FORUM_API_KEY, exactly as in production.

The CLI reads the system clock, so the membership dates are relative to today (UTC) and the simulator runs
on the system clock as well. The membership goes in through ``members import`` with CSV files; forum
accounts are admitted by the real registration service (linked, added to ``members``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from sidecar.cli import main
from sidecar.config import Config
from sidecar.db.models import AuditEntry, Deferral, DeferralApproval, Member, Standing, Sweep, SweepStep
from sidecar.forum.factory import build_forum
from sidecar.forum.port import ForumClient
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.registration.service import RegistrationService
from sidecar.runtime import Runtime, build_runtime
from sidecar.termination.sweeps import TerminationService
from tests.forum.conftest import API_KEY
from tests.termination.conftest import (
    BOARD,
    audit_actions,
    forum_writes,
    groups_of,
    request_count,
    suspended,
)

# Budgets far above what the tests use: waiting for tokens is not what is tested here.
RATE = {"MUG_FORUM_RATE_LIMIT": "10000", "MUG_FORUM_RATE_BURST": "5000"}
ORG_HEADER = "org_id,name,status,paid_through,domains"
MEMBER_HEADER = "member_number,org_id,name,email,status,paid_through"
BACKGROUND = 20  # members of BIGCO without forum accounts: with Ann and Ivan, 22 members with access


def today() -> date:
    """Today as the CLI sees it (it reads the system clock, in UTC)."""
    return datetime.now(UTC).date()


def organization_rows() -> list[str]:
    day = today()
    return [
        f"ACME,Acme Corp,active,{day + timedelta(days=365)},acme.test",
        f"BIGCO,Big Co,active,{day + timedelta(days=900)},big.test",
    ]


def standard_members() -> dict[str, str]:
    """Ann (M1, of ACME), Ivan (M2, individual, paid a year ahead) and BIGCO's B000..B019: all eligible."""
    return {
        "M1": "M1,ACME,Ann Example,ann@acme.test,active,",
        "M2": f"M2,,Ivan Individual,ivan@example.net,active,{today() + timedelta(days=365)}",
        **{f"B{n:03d}": f"B{n:03d},BIGCO,Big {n},b{n}@big.test,active," for n in range(BACKGROUND)},
    }


def member_rows(**changed: str) -> list[str]:
    """The standard member rows, a keyword replacing the row of that member number."""
    return list({**standard_members(), **changed}.values())


def ended(number: str) -> str:
    """The standard row of a member, with the membership ended by the association."""
    fields = standard_members()[number].split(",")
    fields[4] = "terminated"
    return ",".join(fields)


@dataclass
class Site:
    """A simulated forum served over HTTP, the environments the CLI runs in, and the sidecar's database."""

    sim: DiscourseSimulator
    runtime: Runtime  # on the system clock, like the CLI
    env: dict[str, str]  # with the forum configured
    bare_env: dict[str, str]  # without any forum
    tmp_path: Path
    forum: ForumClient  # the sidecar's own adapter (the worker's), on the same simulator and database
    registrations: RegistrationService
    ids: dict[str, int]

    def cli(self, *args: str, forum: bool = True, **settings: str) -> Result:
        """``mug-sidecar ARGS``; extra MUG_* settings as keywords."""
        env = {**(self.env if forum else self.bare_env), **settings}
        return CliRunner().invoke(main, list(args), env=env)

    def import_members(self, *rows: str, extra: tuple[str, ...] = (), name: str = "members") -> Result:
        """``members import`` of the standard organizations and these member rows (default: the standard)."""
        orgs = self._write(f"{name}-orgs.csv", ORG_HEADER, *organization_rows())
        people = self._write(f"{name}.csv", MEMBER_HEADER, *(rows or member_rows()))
        return self.cli(
            "members", "import", "--organizations", str(orgs), "--members", str(people), *extra, forum=False
        )

    def admit(self, username: str, email: str) -> int:
        """Sign up, confirm, and let the registration service approve and link the account."""
        user = self.sim.sign_up(username, email)
        self.sim.confirm_email(user.id)
        outcome = self.registrations.evaluate(user.id, cause="test")
        assert outcome is not None
        assert outcome.status == "approved", outcome
        self.ids[username] = user.id
        return user.id

    def _write(self, name: str, *lines: str) -> Path:
        path = self.tmp_path / name
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return path


@pytest.fixture
def system_runtime(config: Config) -> Iterator[Runtime]:
    """The sidecar's runtime on the system clock (the fixed-clock ``runtime`` would disagree with the CLI)."""
    runtime = build_runtime(config)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def site(system_runtime: Runtime, env: dict[str, str], tmp_path: Path) -> Iterator[Site]:
    """The Board (alice, bob, carol) in the ``board`` group; dave is a user who is not on it."""
    sim = DiscourseSimulator(api_key=API_KEY, must_approve_users=True, rate_limit=10_000)
    sim.create_group("members")
    sim.create_group("board")
    for name in BOARD:
        sim.add_group_members("board", [sim.create_user(name, f"{name}@board.test", emit=False)])
    sim.create_user("dave", "dave@board.test", emit=False)
    running = start_background(sim)
    try:
        settings = dataclasses.replace(
            system_runtime.config.forum, url=running.url, api_key=API_KEY, rate_limit=10_000, rate_burst=5_000
        )
        forum = build_forum(system_runtime, settings)
        registrations = RegistrationService(
            sessions=system_runtime.sessions,
            clock=system_runtime.clock,
            config=system_runtime.config,
            forum=forum,
        )
        forum_env = {**env, **RATE, "MUG_FORUM_URL": running.url, "MUG_FORUM_API_KEY": API_KEY}
        yield Site(sim, system_runtime, forum_env, dict(env), tmp_path, forum, registrations, {})
    finally:
        running.stop()


def baseline(site: Site) -> None:
    """The membership imported, Ann and Ivan admitted, and a first sweep that records everyone's standing.

    That sweep is the sidecar's own (the worker's), not the CLI's: what the CLI does with a sweep that
    changes nothing is a test of its own (``test_a_sweep_with_nothing_to_change_...``).
    """
    imported = site.import_members()
    assert imported.exit_code == 0, imported.output
    site.admit("ann", "ann@acme.test")
    site.admit("ivan", "ivan@example.net")
    service = TerminationService(
        sessions=site.runtime.sessions, clock=site.runtime.clock, config=site.runtime.config, forum=site.forum
    )
    first = service.sweep(cause="test", actor="worker")
    assert first.transitions == []
    assert set(standings(site.runtime).values()) == {("active", "eligible", None)}
    assert len(standings(site.runtime)) == BACKGROUND + 2


# --- what was recorded -------------------------------------------------------------------------------------


def standings(runtime: Runtime) -> dict[str, tuple[str, str, int | None]]:
    """member number -> (state, reason, deferral id)."""
    with runtime.sessions() as session:
        return {
            s.member_number: (s.state, s.reason, s.deferral_id)
            for s in session.execute(select(Standing)).scalars()
        }


def sweeps(runtime: Runtime) -> list[tuple[str, str, str, bool]]:
    """(status, cause, actor, forced) of every sweep, oldest first."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(Sweep.status, Sweep.cause, Sweep.actor, Sweep.forced).order_by(Sweep.id)
        ).all()
    return [(s, c, a, f) for s, c, a, f in rows]


def step_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.execute(select(func.count()).select_from(SweepStep)).scalar_one()


def audit_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def deferral_rows(runtime: Runtime) -> list[tuple[str | None, str | None, str, date, str | None]]:
    """(member number, organization, requested by, until, revoked by) of every deferral, oldest first."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                Deferral.member_number,
                Deferral.org_id,
                Deferral.requested_by,
                Deferral.until,
                Deferral.revoked_by,
            ).order_by(Deferral.id)
        ).all()
    return [(m, o, r, u, v) for m, o, r, u, v in rows]


def approvals(runtime: Runtime) -> list[tuple[int, str]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(DeferralApproval.deferral_id, DeferralApproval.username).order_by(
                DeferralApproval.deferral_id, DeferralApproval.username
            )
        ).all()
    return [(d, u) for d, u in rows]


def member_statuses(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {m.member_number: m.status for m in session.execute(select(Member)).scalars()}


def deferral_audit(runtime: Runtime) -> list[tuple[str, str, str, int]]:
    """(actor, action, target, deferral id) of every deferral entry, oldest first."""
    return [(a, act, t, d["deferral"]) for a, act, t, d in audit_actions(runtime, "deferral.")]


def listed(site: Site) -> list[dict[str, Any]]:
    """``deferrals list --json`` (it needs no forum)."""
    result = site.cli("deferrals", "list", "--json", forum=False)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def request_deferral(site: Site, *target: str, actor: str = "alice") -> int:
    """A deferral requested for 60 days; its id."""
    result = site.cli(
        "deferrals",
        "request",
        *target,
        "--reason",
        "hardship: dues waived while the Board reviews",
        "--resolution",
        "BR-2026-14",
        "--until",
        (today() + timedelta(days=60)).isoformat(),
        "--as",
        actor,
        "--json",
    )
    assert result.exit_code == 0, result.output
    deferral_id: int = json.loads(result.stdout)["id"]
    return deferral_id


# --- terminations sweep ------------------------------------------------------------------------------------


def lapse(site: Site) -> None:
    """Ann's membership ended; Ivan's dues ran out three days ago (inside the 30 grace days)."""
    ivan = f"M2,,Ivan Individual,ivan@example.net,active,{today() - timedelta(days=3)}"
    result = site.import_members(*member_rows(M1=ended("M1"), M2=ivan), name="lapsed")
    assert result.exit_code == 0, result.output


def expected_plan(site: Site) -> list[dict[str, Any]]:
    ann, ivan = site.ids["ann"], site.ids["ivan"]
    return [
        {
            "member_number": "M1",
            "from": "active",
            "to": "terminated",
            "reason": "member_terminated",
            "forum_actions": [
                {"action": "remove_groups", "forum_user_id": ann, "username": "ann", "groups": ["members"]},
                {"action": "suspend", "forum_user_id": ann, "username": "ann"},
            ],
        },
        {
            "member_number": "M2",
            "from": "active",
            "to": "grace",
            "reason": "in_grace",
            "forum_actions": [{"action": "grace_message", "forum_user_id": ivan, "username": "ivan"}],
            "grace_ends": (today() - timedelta(days=3) + timedelta(days=30)).isoformat(),
        },
    ]


def test_dry_run_prints_the_plan_as_json_and_changes_nothing_without_a_forum(site: Site) -> None:
    baseline(site)
    lapse(site)
    before = (
        standings(site.runtime),
        sweeps(site.runtime),
        step_count(site.runtime),
        audit_count(site.runtime),
        request_count(site.sim),
    )

    dry = site.cli("terminations", "sweep", "--dry-run", "--json", "--as", "secretary", forum=False)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout) == expected_plan(site)

    # With a forum configured a dry run does not call it either; the text report says what would change.
    text = site.cli("terminations", "sweep", "--dry-run", "--as", "secretary")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0] == (
        f"sweep as of {today().isoformat()}: 2 standings would change"
        f" (1 terminations of {BACKGROUND + 2} members with access), 0 members recorded for the first time"
    )
    assert "remove_groups ann, suspend ann" in lines[1]
    assert "grace_message ivan" in lines[2]

    after = (
        standings(site.runtime),
        sweeps(site.runtime),
        step_count(site.runtime),
        audit_count(site.runtime),
        request_count(site.sim),
    )
    assert after == before
    assert standings(site.runtime)["M1"] == ("active", "eligible", None)
    assert not suspended(site.sim, site.ids["ann"])
    assert groups_of(site.sim, site.ids["ann"]) == {"members"}
    assert site.sim.private_messages(to="ivan") == []


def test_sweep_carries_out_the_plan_on_the_forum_and_answers_the_import_request(site: Site) -> None:
    baseline(site)
    lapse(site)
    assert sweeps(site.runtime)[-1][0] == "requested"
    ann, ivan = site.ids["ann"], site.ids["ivan"]
    before = request_count(site.sim)

    result = site.cli("terminations", "sweep", "--json", "--as", "secretary")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_plan(site)

    assert standings(site.runtime)["M1"] == ("terminated", "member_terminated", None)
    assert standings(site.runtime)["M2"] == ("grace", "in_grace", None)
    assert suspended(site.sim, ann)
    assert groups_of(site.sim, ann) == set()
    assert not suspended(site.sim, ivan)
    assert groups_of(site.sim, ivan) == {"members"}
    [message] = site.sim.private_messages(to="ivan")
    assert message.title == site.runtime.config.termination.grace_message_title
    writes = forum_writes(site.sim, before)
    assert len(writes) == 3
    assert all(200 <= status < 300 for _, _, status in writes)

    # The import's request is answered by this sweep; the sweep itself is done and audited.
    [*_, requested, swept] = sweeps(site.runtime)
    assert requested[0] == "superseded"
    assert requested[1].startswith("import:")
    assert swept == ("done", "cli:secretary", "secretary", False)
    standing_entries = [(a, act, t) for a, act, t, _ in audit_actions(site.runtime, "standing.")]
    assert standing_entries == [
        ("secretary", "standing.terminated", "member:M1"),
        ("secretary", "standing.grace", "member:M2"),
    ]
    assert [(a, act) for a, act, _, _ in audit_actions(site.runtime, "termination.")][-1] == (
        "secretary",
        "termination.sweep_done",
    )

    terminated = site.cli("terminations", "standings", "--state", "terminated", "--json", forum=False)
    assert terminated.exit_code == 0, terminated.output
    assert [(r["member_number"], r["state"], r["reason"]) for r in json.loads(terminated.stdout)] == [
        ("M1", "terminated", "member_terminated")
    ]


def test_sweep_without_a_configured_forum_fails_and_changes_nothing(site: Site) -> None:
    imported = site.import_members()
    assert imported.exit_code == 0, imported.output

    result = site.cli("terminations", "sweep", "--as", "secretary", forum=False)
    assert result.exit_code == 1
    assert "error: no forum is configured (forum.url)" in result.stderr
    assert standings(site.runtime) == {}
    assert sweeps(site.runtime) == []
    assert audit_actions(site.runtime, "termination.") == []


def test_a_sweep_with_nothing_to_change_records_the_standings_and_exits_0(site: Site) -> None:
    imported = site.import_members()
    assert imported.exit_code == 0, imported.output
    site.admit("ann", "ann@acme.test")
    before = request_count(site.sim)

    result = site.cli("terminations", "sweep", "--json", "--as", "secretary")
    assert json.loads(result.stdout) == []
    assert set(standings(site.runtime).values()) == {("active", "eligible", None)}
    assert len(standings(site.runtime)) == BACKGROUND + 2
    assert sweeps(site.runtime) == [("done", "cli:secretary", "secretary", False)]
    assert forum_writes(site.sim, before) == []
    assert "error:" not in result.stderr
    assert result.exit_code == 0, result.output

    text = site.cli("terminations", "sweep", "--as", "secretary")
    assert text.stdout.splitlines() == [
        f"sweep as of {today().isoformat()}: 0 standings changed"
        f" (0 terminations of {BACKGROUND + 2} members with access), 0 members recorded for the first time"
    ]
    assert text.exit_code == 0, text.output


def test_a_sweep_over_the_share_limit_stops_before_any_forum_action(site: Site) -> None:
    baseline(site)
    # Ann, Ivan and B000 end: 3 of 22 members with access (13.6%), over the default 10%.
    result = site.import_members(
        *member_rows(M1=ended("M1"), M2=ended("M2"), B000=ended("B000")), extra=("--force",), name="three"
    )
    assert result.exit_code == 0, result.output
    before_standings = standings(site.runtime)
    before = request_count(site.sim)

    blocked = site.cli("terminations", "sweep", "--json", "--as", "treasurer")
    assert blocked.exit_code == 1
    assert "termination.max_share" in blocked.stderr
    assert "it would terminate 3 of 22 members" in blocked.stderr
    assert "--force" in blocked.stderr
    assert [t["member_number"] for t in json.loads(blocked.stdout)] == ["B000", "M1", "M2"]

    assert forum_writes(site.sim, before) == []
    assert not suspended(site.sim, site.ids["ann"])
    assert groups_of(site.sim, site.ids["ann"]) == {"members"}
    assert standings(site.runtime) == before_standings
    assert step_count(site.runtime) == 0
    assert sweeps(site.runtime)[-1] == ("blocked", "cli:treasurer", "treasurer", False)
    [entry] = audit_actions(site.runtime, "termination.sweep_blocked")
    actor, _, target, details = entry
    assert (actor, target) == ("treasurer", "membership")
    assert "termination.max_share" in details["why"]
    assert details["terminations"] == 3
    assert audit_actions(site.runtime, "termination.sweep_forced") == []
    assert audit_actions(site.runtime, "standing.") == []


def test_force_goes_past_the_limit_and_audits_who_forced_it(site: Site) -> None:
    baseline(site)
    result = site.import_members(
        *member_rows(M1=ended("M1"), M2=ended("M2"), B000=ended("B000")), extra=("--force",), name="three"
    )
    assert result.exit_code == 0, result.output
    blocked = site.cli("terminations", "sweep", "--as", "treasurer")
    assert blocked.exit_code == 1

    forced = site.cli("terminations", "sweep", "--force", "--as", "chair")
    assert forced.exit_code == 0, forced.output

    states = standings(site.runtime)
    assert [states[n][0] for n in ("M1", "M2", "B000", "B001")] == ["terminated"] * 3 + ["active"]
    for username in ("ann", "ivan"):
        assert suspended(site.sim, site.ids[username])
        assert groups_of(site.sim, site.ids[username]) == set()
    [entry] = audit_actions(site.runtime, "termination.sweep_forced")
    actor, _, target, details = entry
    assert (actor, target) == ("chair", "membership")
    assert "termination.max_share" in details["why"]
    assert sweeps(site.runtime)[-1] == ("done", "cli:chair", "chair", True)
    assert {a for a, _, _, _ in audit_actions(site.runtime, "standing.terminated")} == {"chair"}
    # The report says the limit was overridden, and which one.
    assert "FORCED past the limit: it would terminate 3 of 22 members" in forced.stdout
    assert "termination.max_share" in forced.stdout


def test_a_sweep_over_the_count_limit_is_blocked_and_can_be_forced(site: Site) -> None:
    baseline(site)
    # Ann and Ivan end: 2 of 22 is under the share limit, but over a max_count of 1.
    result = site.import_members(*member_rows(M1=ended("M1"), M2=ended("M2")), name="two-ended")
    assert result.exit_code == 0, result.output
    before = request_count(site.sim)

    blocked = site.cli("terminations", "sweep", "--as", "treasurer", MUG_TERMINATION_MAX_COUNT="1")
    assert blocked.exit_code == 1
    assert "it would terminate 2 members, more than termination.max_count (1)" in blocked.stderr
    assert "STOPPED: " in blocked.stdout
    assert forum_writes(site.sim, before) == []
    assert standings(site.runtime)["M1"] == ("active", "eligible", None)
    [(actor, _, _, details)] = audit_actions(site.runtime, "termination.sweep_blocked")
    assert actor == "treasurer"
    assert "termination.max_count" in details["why"]

    forced = site.cli("terminations", "sweep", "--force", "--as", "chair", MUG_TERMINATION_MAX_COUNT="1")
    assert forced.exit_code == 0, forced.output
    assert standings(site.runtime)["M1"][0] == "terminated"
    assert standings(site.runtime)["M2"][0] == "terminated"
    assert suspended(site.sim, site.ids["ann"])
    [(actor, _, _, details)] = audit_actions(site.runtime, "termination.sweep_forced")
    assert actor == "chair"
    assert "termination.max_count" in details["why"]


# --- members import requests a sweep -----------------------------------------------------------------------


def test_an_import_that_changes_eligibility_requests_a_sweep(site: Site) -> None:
    first = site.import_members()
    assert first.exit_code == 0, first.output
    assert sweeps(site.runtime) == []  # new members: no eligibility of an existing member changed
    assert "sweep" not in first.stderr

    changed = member_rows(M1=ended("M1"))
    dry = site.import_members(*changed, extra=("--dry-run", "--as", "secretary"), name="dry")
    assert dry.exit_code == 0, dry.output
    assert "eligibility changes of existing members" in dry.stdout
    assert "sweep" not in dry.stderr
    assert sweeps(site.runtime) == []
    assert member_statuses(site.runtime)["M1"] == "active"

    real = site.import_members(*changed, extra=("--json", "--as", "secretary"), name="real")
    assert real.exit_code == 0, real.output
    report = json.loads(real.stdout)
    assert member_statuses(site.runtime)["M1"] == "terminated"
    assert sweeps(site.runtime) == [("requested", f"import:{report['audit_entry']}", "secretary", False)]
    assert "eligibility changed for 1 members: a termination sweep is requested" in real.stderr

    # The same file again changes no one's eligibility: no further request.
    same = site.import_members(*changed, extra=("--as", "secretary"), name="same")
    assert same.exit_code == 0, same.output
    assert "sweep" not in same.stderr
    assert len(sweeps(site.runtime)) == 1


# --- deferrals ----------------------------------------------------------------------------------------------


def test_a_board_member_requests_a_deferral_and_gets_its_id(site: Site) -> None:
    assert site.import_members().exit_code == 0
    until = today() + timedelta(days=60)

    result = site.cli(
        "deferrals",
        "request",
        "--member",
        "M1",
        "--reason",
        "hardship",
        "--resolution",
        "BR-2026-14",
        "--until",
        until.isoformat(),
        "--as",
        "alice",
        "--json",
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert isinstance(shown["id"], int)
    assert shown["member_number"] == "M1"
    assert shown["status"] == "awaiting_approval"
    assert shown["requested_by"] == "alice"
    assert shown["approvals"] == []
    assert deferral_rows(site.runtime) == [("M1", None, "alice", until, None)]
    assert deferral_audit(site.runtime) == [("alice", "deferral.requested", "member:M1", shown["id"])]

    # A whole organization, by a Board member named in another case: recorded under the forum's username.
    # The text report and the full defaults (180 days is the longest allowed).
    latest = today() + timedelta(days=180)
    org = site.cli(
        "deferrals",
        "request",
        "--organization",
        "ACME",
        "--reason",
        "merger pending",
        "--resolution",
        "BR-2026-15",
        "--until",
        latest.isoformat(),
        "--as",
        "Bob",
    )
    assert org.exit_code == 0, org.output
    assert "requested: organization:ACME until" in org.stdout
    assert "0 of 2 approvals, awaiting_approval" in org.stdout
    assert deferral_rows(site.runtime)[-1] == (None, "ACME", "bob", latest, None)
    assert deferral_audit(site.runtime)[-1][:3] == ("bob", "deferral.requested", "organization:ACME")
    assert approvals(site.runtime) == []


@pytest.mark.parametrize(
    ("target", "actor", "days", "message"),
    [
        (("--member", "M1"), "dave", 60, "'dave' is not a member of the Board group 'board'"),
        (("--member", "M1"), "nobody", 60, "'nobody' is not a member of the Board group 'board'"),
        (("--member", "M1"), "alice", 181, "termination.max_deferral_days (180)"),
        (("--member", "M1"), "alice", -1, "is in the past"),
        (("--member", "M1", "--organization", "ACME"), "alice", 60, "exactly one of --member"),
        ((), "alice", 60, "exactly one of --member"),
        (("--member", "M404"), "alice", 60, "no member M404"),
        (("--organization", "NOPE"), "alice", 60, "no organization NOPE"),
    ],
    ids=["not-on-board", "unknown-user", "too-long", "past", "both", "neither", "no-member", "no-org"],
)
def test_a_deferral_request_is_refused_and_nothing_is_stored(
    site: Site, target: tuple[str, ...], actor: str, days: int, message: str
) -> None:
    assert site.import_members().exit_code == 0
    before = (audit_count(site.runtime), sweeps(site.runtime))
    result = site.cli(
        "deferrals",
        "request",
        *target,
        "--reason",
        "hardship",
        "--resolution",
        "BR-2026-14",
        "--until",
        (today() + timedelta(days=days)).isoformat(),
        "--as",
        actor,
        "--json",
    )
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""
    assert deferral_rows(site.runtime) == []
    assert deferral_audit(site.runtime) == []
    assert (audit_count(site.runtime), sweeps(site.runtime)) == before
    assert listed(site) == []


def test_two_distinct_board_members_put_a_deferral_in_effect(site: Site) -> None:
    assert site.import_members().exit_code == 0
    deferral = request_deferral(site, "--member", "M1", actor="carol")

    first = site.cli("deferrals", "approve", str(deferral), "--as", "alice", "--json")
    assert first.exit_code == 0, first.output
    shown = json.loads(first.stdout)
    assert (shown["status"], [a["by"] for a in shown["approvals"]]) == ("awaiting_approval", ["alice"])
    assert sweeps(site.runtime) == []

    twice = site.cli("deferrals", "approve", str(deferral), "--as", "Alice")
    assert twice.exit_code == 1
    assert f"alice has approved deferral {deferral} already" in twice.stderr
    outsider = site.cli("deferrals", "approve", str(deferral), "--as", "dave")
    assert outsider.exit_code == 1
    assert "'dave' is not a member of the Board group 'board'" in outsider.stderr
    unknown = site.cli("deferrals", "approve", "9999", "--as", "bob")
    assert unknown.exit_code == 1
    assert "no deferral 9999" in unknown.stderr
    assert approvals(site.runtime) == [(deferral, "alice")]
    [row] = listed(site)
    assert row["status"] == "awaiting_approval"

    second = site.cli("deferrals", "approve", str(deferral), "--as", "bob")
    assert second.exit_code == 0, second.output
    assert "2 of 2 approvals, in_effect" in second.stdout

    [row] = listed(site)
    assert row["id"] == deferral
    assert row["status"] == "in_effect"
    assert [a["by"] for a in row["approvals"]] == ["alice", "bob"]
    assert row["required_approvals"] == 2
    assert row["effective_at"] is not None
    assert deferral_audit(site.runtime) == [
        ("carol", "deferral.requested", "member:M1", deferral),
        ("alice", "deferral.approved", "member:M1", deferral),
        ("bob", "deferral.approved", "member:M1", deferral),
        ("bob", "deferral.in_effect", "member:M1", deferral),
    ]
    # Taking effect can change a standing: the worker is asked for a sweep.
    assert sweeps(site.runtime) == [("requested", f"deferral:{deferral}:in_effect", "bob", False)]

    # A third approval is recorded but does not take effect again.
    third = site.cli("deferrals", "approve", str(deferral), "--as", "carol")
    assert third.exit_code == 0, third.output
    assert [a for _, a, _, _ in deferral_audit(site.runtime)].count("deferral.in_effect") == 1
    assert len(sweeps(site.runtime)) == 1


def test_revoking_needs_a_reason_and_ends_the_deferral(site: Site) -> None:
    assert site.import_members().exit_code == 0
    deferral = request_deferral(site, "--member", "M1")
    for approver in ("alice", "bob"):
        approved = site.cli("deferrals", "approve", str(deferral), "--as", approver)
        assert approved.exit_code == 0, approved.output
    audited = deferral_audit(site.runtime)

    missing = site.cli("deferrals", "revoke", str(deferral), "--as", "carol")
    assert missing.exit_code == 2
    assert "Missing option '--reason'" in missing.stderr
    blank = site.cli("deferrals", "revoke", str(deferral), "--as", "carol", "--reason", "  ")
    assert blank.exit_code == 1
    assert "a reason is required" in blank.stderr
    outsider = site.cli("deferrals", "revoke", str(deferral), "--as", "dave", "--reason", "no")
    assert outsider.exit_code == 1
    assert "'dave' is not a member of the Board group 'board'" in outsider.stderr
    assert listed(site)[0]["status"] == "in_effect"
    assert deferral_audit(site.runtime) == audited

    revoked = site.cli(
        "deferrals", "revoke", str(deferral), "--as", "carol", "--reason", "dues unpaid", "--json"
    )
    assert revoked.exit_code == 0, revoked.output
    assert json.loads(revoked.stdout)["status"] == "revoked"
    [row] = listed(site)
    assert (row["status"], row["revoked_by"], row["revoke_reason"]) == ("revoked", "carol", "dues unpaid")
    assert deferral_rows(site.runtime) == [("M1", None, "alice", today() + timedelta(days=60), "carol")]
    assert deferral_audit(site.runtime) == [*audited, ("carol", "deferral.revoked", "member:M1", deferral)]
    assert sweeps(site.runtime)[-1] == ("requested", f"deferral:{deferral}:revoked", "carol", False)

    again = site.cli("deferrals", "approve", str(deferral), "--as", "carol")
    assert again.exit_code == 1
    assert f"deferral {deferral} was revoked by carol" in again.stderr
    twice = site.cli("deferrals", "revoke", str(deferral), "--as", "alice", "--reason", "again")
    assert twice.exit_code == 1
    assert "was revoked by carol" in twice.stderr
    assert approvals(site.runtime) == [(deferral, "alice"), (deferral, "bob")]
    assert len(deferral_audit(site.runtime)) == len(audited) + 1


def test_the_deferral_commands_that_act_need_a_configured_forum(site: Site) -> None:
    assert site.import_members().exit_code == 0
    result = site.cli(
        "deferrals",
        "request",
        "--member",
        "M1",
        "--reason",
        "hardship",
        "--resolution",
        "BR-2026-14",
        "--until",
        (today() + timedelta(days=10)).isoformat(),
        "--as",
        "alice",
        forum=False,
    )
    assert result.exit_code == 1
    assert "no forum is configured" in result.stderr
    assert deferral_rows(site.runtime) == []
    assert listed(site) == []


def test_a_deferral_in_effect_gives_the_account_back_until_it_is_revoked(site: Site) -> None:
    baseline(site)
    ann = site.ids["ann"]
    assert site.import_members(*member_rows(M1=ended("M1")), name="ended").exit_code == 0
    assert site.cli("terminations", "sweep", "--as", "secretary").exit_code == 0
    assert suspended(site.sim, ann)
    assert groups_of(site.sim, ann) == set()

    deferral = request_deferral(site, "--member", "M1")
    for approver in ("alice", "bob"):
        assert site.cli("deferrals", "approve", str(deferral), "--as", approver).exit_code == 0

    held = site.cli("terminations", "sweep", "--json", "--as", "secretary")
    assert held.exit_code == 0, held.output
    assert json.loads(held.stdout) == [
        {
            "member_number": "M1",
            "from": "terminated",
            "to": "deferred",
            "reason": "member_terminated",
            "forum_actions": [
                {"action": "unsuspend", "forum_user_id": ann, "username": "ann"},
                {"action": "restore_groups", "forum_user_id": ann, "username": "ann", "groups": ["members"]},
            ],
            "deferral": deferral,
        }
    ]
    assert not suspended(site.sim, ann)
    assert groups_of(site.sim, ann) == {"members"}
    shown = site.cli("terminations", "standings", "--state", "deferred", "--json", forum=False)
    assert shown.exit_code == 0, shown.output
    assert [(r["member_number"], r["deferral"]) for r in json.loads(shown.stdout)] == [("M1", deferral)]
    assert sweeps(site.runtime)[-2][:2] == ("superseded", f"deferral:{deferral}:in_effect")

    revoke = site.cli("deferrals", "revoke", str(deferral), "--as", "carol", "--reason", "still unpaid")
    assert revoke.exit_code == 0, revoke.output
    ended_again = site.cli("terminations", "sweep", "--json", "--as", "secretary")
    assert ended_again.exit_code == 0, ended_again.output
    assert [(t["from"], t["to"]) for t in json.loads(ended_again.stdout)] == [("deferred", "terminated")]
    assert suspended(site.sim, ann)
    assert groups_of(site.sim, ann) == set()
    assert standings(site.runtime)["M1"] == ("terminated", "member_terminated", None)
