"""``mug-sidecar findings``: the moderators' queue, run through the real CLI against a simulated forum served
over loopback (the CLI builds its own adapter from MUG_FORUM_URL and MUG_FORUM_API_KEY). The findings are
made by the sidecar's own FindingsService, on the same forum and database."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from sidecar.cli import main
from sidecar.db.models import FindingAllowance, FindingStatus, PostFinding
from sidecar.findings.service import FindingsService
from sidecar.forum.factory import build_forum
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.forum.simulator.records import Post
from sidecar.runtime import Runtime
from sidecar.scanner.cli import build_scanner
from tests.findings.conftest import audit_of, findings, payload
from tests.forum.conftest import API_KEY

# Budgets far above what the tests use: waiting for tokens is not what is tested here.
RATE = {"MUG_FORUM_RATE_LIMIT": "10000", "MUG_FORUM_RATE_BURST": "5000"}
CARD = "4012 8888 8888 1881"
SSN = "536-22-8143"
PHONE = "613-722-4410"


@dataclass
class Queue:
    sim: DiscourseSimulator
    service: FindingsService  # the sidecar's own (the worker's), on the same forum and database
    runtime: Runtime
    env: dict[str, str]
    posts: dict[str, Post]
    ids: dict[str, int]  # finding ids: card, phone, ssn

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, ["findings", *args], env=self.env if env is None else env)

    def writes(self) -> list[tuple[str, str, int]]:
        with self.sim.lock:
            return [(r.method, r.path, r.status) for r in self.sim.requests if r.method != "GET"]

    def state(self) -> tuple[Any, ...]:
        """Everything a refused decision must leave as it was."""
        with self.runtime.sessions() as session:
            allowances = session.execute(select(FindingAllowance.fingerprint)).scalars().all()
        rows = [
            (f.id, f.status, f.decided_by, f.decided_at, f.decision_reason) for f in findings(self.runtime)
        ]
        return rows, allowances, audit_of(self.runtime, ""), self.writes(), self.hidden()

    def hidden(self) -> dict[str, bool]:
        with self.sim.lock:
            return {name: post.hidden for name, post in self.posts.items()}


@pytest.fixture
def queue(runtime: Runtime, env: dict[str, str]) -> Iterator[Queue]:
    """Ann's card (critical: she was told, the moderators flagged), Ben's phone number (high: told, not
    flagged), and Ann's SSN, edited out again (resolved)."""
    sim = DiscourseSimulator(api_key=API_KEY)
    ann = sim.create_user("ann", "ann@acme.test", trust_level=1, emit=False)
    ben = sim.create_user("ben", "ben@acme.test", trust_level=1, emit=False)
    sim.create_user("mod", "mod@mug.test", moderator=True, emit=False)
    running = start_background(sim)
    try:
        settings = dataclasses.replace(
            runtime.config.forum, url=running.url, api_key=API_KEY, rate_limit=10_000, rate_burst=5_000
        )
        config = dataclasses.replace(runtime.config, forum=settings)
        forum = build_forum(runtime, settings)
        service = FindingsService(
            sessions=runtime.sessions,
            clock=runtime.clock,
            config=config,
            scanner=build_scanner(config),
            forum=forum.with_cause("delivery:1"),
        )
        posts = {
            "card": sim.write_post(ann.id, f"Please charge card {CARD} for the renewal", title="Renewal"),
            "phone": sim.write_post(ben.id, f"For the survey, call me on my cell {PHONE}", title="Survey"),
            "ssn": sim.write_post(ann.id, f"My SSN is {SSN} for the form", title="Forms"),
        }
        for post in posts.values():
            assert service.on_post(payload(sim, post)).result == "acted"
        sim.edit_post(posts["ssn"].id, "My SSN is on the paper form", actor=ann)
        assert service.on_post(payload(sim, posts["ssn"])).result == "clean"
        by_post = {f.post_id: f.id for f in findings(runtime)}
        ids = {name: by_post[post.id] for name, post in posts.items()}
        env = {**env, **RATE, "MUG_FORUM_URL": running.url, "MUG_FORUM_API_KEY": API_KEY}
        yield Queue(sim, service, runtime, env, posts, ids)
    finally:
        running.stop()


def finding(runtime: Runtime, finding_id: int) -> PostFinding:
    [row] = [f for f in findings(runtime) if f.id == finding_id]
    return row


# --- list --------------------------------------------------------------------------------------------------


def test_list_shows_every_finding_newest_first_as_json_and_filters_by_status(queue: Queue) -> None:
    result = queue.run("list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [queue.ids["ssn"], queue.ids["phone"], queue.ids["card"]]
    card, phone, ssn = (next(r for r in rows if r["id"] == queue.ids[n]) for n in ("card", "phone", "ssn"))
    assert {
        k: card[k] for k in ("post_id", "author", "type", "severity", "preview", "status", "version")
    } == {
        "post_id": queue.posts["card"].id,
        "author": "ann",
        "type": "CREDIT_CARD",
        "severity": "critical",
        "preview": "**** **** **** 1881",
        "status": "open",
        "version": 1,
    }
    assert card["notified_at"] is not None
    assert card["flagged_at"] is not None
    assert (phone["type"], phone["severity"], phone["status"], phone["author"]) == (
        "PHONE",
        "high",
        "open",
        "ben",
    )
    assert phone["notified_at"] is not None
    assert phone["flagged_at"] is None
    assert (ssn["type"], ssn["status"], ssn["preview"]) == ("US_SSN", "resolved_by_edit", "***-**-8143")
    assert all(len(r["fingerprint"]) == 32 for r in rows)
    for value in (CARD, CARD.replace(" ", ""), SSN, PHONE):
        assert value not in result.stdout

    opened = json.loads(queue.run("list", "--status", "open", "--json").stdout)
    assert [r["id"] for r in opened] == [queue.ids["phone"], queue.ids["card"]]
    resolved = json.loads(queue.run("list", "--status", "resolved_by_edit", "--json").stdout)
    assert [r["id"] for r in resolved] == [queue.ids["ssn"]]
    assert json.loads(queue.run("list", "--status", "dismissed", "--json").stdout) == []


def test_list_as_text_shows_one_line_per_finding_with_its_masked_preview(queue: Queue) -> None:
    result = queue.run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    card = next(line for line in lines if line.split()[0] == str(queue.ids["card"]))
    assert card.split()[:5] == [str(queue.ids["card"]), "open", "critical", "CREDIT_CARD", "post"]
    assert f"post {queue.posts['card'].id} v1" in card
    assert "ann" in card
    assert card.endswith("**** **** **** 1881")
    for value in (CARD, CARD.replace(" ", ""), SSN, PHONE):
        assert value not in result.stdout

    only_resolved = queue.run("list", "--status", "resolved_by_edit")
    assert only_resolved.exit_code == 0
    [line] = only_resolved.stdout.splitlines()
    assert line.split()[:4] == [str(queue.ids["ssn"]), "resolved_by_edit", "critical", "US_SSN"]
    assert line.endswith("***-**-8143")
    bad = queue.run("list", "--status", "closed")
    assert bad.exit_code == 2
    assert "Invalid value for '--status'" in bad.stderr


def test_list_needs_no_forum(queue: Queue) -> None:
    env = {k: v for k, v in queue.env.items() if k not in ("MUG_FORUM_URL", "MUG_FORUM_API_KEY")}
    result = queue.run("list", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3


# --- dismiss -----------------------------------------------------------------------------------------------


def test_dismiss_closes_the_finding_allows_the_value_for_the_author_and_audits_the_moderator(
    queue: Queue,
) -> None:
    card_id = queue.ids["card"]
    result = queue.run("dismiss", str(card_id), "--as", "mod", "--reason", "the vendor's published test card")
    assert result.exit_code == 0, result.output
    assert f"finding {card_id} dismissed by mod" in result.stdout

    row = finding(queue.runtime, card_id)
    assert (row.status, row.decided_by, row.decision_reason) == (
        FindingStatus.DISMISSED,
        "mod",
        "the vendor's published test card",
    )
    assert row.decided_at is not None
    with queue.runtime.sessions() as session:
        allowed = session.execute(
            select(FindingAllowance.fingerprint, FindingAllowance.forum_user_id, FindingAllowance.created_by)
        ).all()
    assert [tuple(a) for a in allowed] == [(row.fingerprint, row.author_id, "mod")]
    [(actor, action, details)] = audit_of(queue.runtime, "finding.dismissed")
    assert (actor, action) == ("mod", "finding.dismissed")
    assert details == {
        "post": queue.posts["card"].id,
        "type": "CREDIT_CARD",
        "author": row.author_id,
        "reason": "the vendor's published test card",
    }
    assert queue.run("list", "--status", "dismissed", "--json").stdout.count('"id"') == 1

    # The same author posting the same number again: no read, no message, no flag, no new finding.
    sim = queue.sim
    ann = sim.find_user(username="ann")
    assert ann is not None
    before = len(sim.requests)
    again = sim.write_post(ann.id, f"Reminder: the test card is {CARD}", title="Test cards")
    assert queue.service.on_post(payload(sim, again)).result == "clean"
    assert len(sim.requests) == before
    assert [f.id for f in findings(queue.runtime)] == sorted(queue.ids.values())

    # Decided once: a second decision is refused.
    twice = queue.run("dismiss", str(card_id), "--as", "admin", "--reason", "again")
    assert twice.exit_code == 1
    assert f"finding {card_id} was dismissed by mod already" in twice.stderr
    assert finding(queue.runtime, card_id).decided_by == "mod"


def test_dismiss_requires_a_reason(queue: Queue) -> None:
    before = queue.state()
    missing = queue.run("dismiss", str(queue.ids["card"]), "--as", "mod")
    assert missing.exit_code == 2
    assert "Missing option '--reason'" in missing.stderr
    blank = queue.run("dismiss", str(queue.ids["card"]), "--as", "mod", "--reason", "   ")
    assert blank.exit_code == 1
    assert "error: a reason is required" in blank.stderr
    assert queue.state() == before


@pytest.mark.parametrize("command", ["dismiss", "confirm"])
def test_only_a_moderator_or_an_admin_of_the_forum_may_decide(queue: Queue, command: str) -> None:
    before = queue.state()
    extra = ["--reason", "not sensitive"] if command == "dismiss" else ["--hide"]
    for actor in ("ann", "no-such-user", ""):
        result = queue.run(command, str(queue.ids["card"]), "--as", actor, *extra)
        assert result.exit_code == 1, result.output
        assert f"error: {actor!r} is not a moderator or an admin of the forum" in result.stderr
    assert queue.state() == before
    assert finding(queue.runtime, queue.ids["card"]).status == FindingStatus.OPEN
    # The forum was asked who they are.
    assert any(r.path == "/u/ann.json" for r in queue.sim.requests)


def test_an_unknown_finding_is_refused(queue: Queue) -> None:
    before = queue.state()
    result = queue.run("dismiss", "9999", "--as", "mod", "--reason", "not sensitive")
    assert result.exit_code == 1
    assert "error: no finding 9999" in result.stderr
    assert queue.run("confirm", "9999", "--as", "mod").exit_code == 1
    assert queue.state() == before


def test_decisions_need_a_configured_forum(queue: Queue) -> None:
    env = {k: v for k, v in queue.env.items() if k not in ("MUG_FORUM_URL", "MUG_FORUM_API_KEY")}
    before = queue.state()
    result = queue.run("dismiss", str(queue.ids["card"]), "--as", "mod", "--reason", "test card", env=env)
    assert result.exit_code == 1
    assert "no forum is configured" in result.stderr
    assert queue.run("confirm", str(queue.ids["card"]), "--as", "mod", env=env).exit_code == 1
    assert queue.state() == before


# --- confirm -----------------------------------------------------------------------------------------------


def test_confirm_records_the_moderator_and_leaves_the_post_alone(queue: Queue) -> None:
    phone_id = queue.ids["phone"]
    writes = queue.writes()
    result = queue.run("confirm", str(phone_id), "--as", "MOD")  # the forum's spelling is recorded
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"finding {phone_id} confirmed by mod"

    row = finding(queue.runtime, phone_id)
    assert (row.status, row.decided_by) == (FindingStatus.CONFIRMED, "mod")
    assert row.decided_at is not None
    [(actor, action, details)] = audit_of(queue.runtime, "finding.confirmed")
    assert (actor, action) == ("mod", "finding.confirmed")
    assert details == {
        "post": queue.posts["phone"].id,
        "type": "PHONE",
        "author": row.author_id,
        "hidden": False,
    }
    assert queue.writes() == writes
    assert not any(queue.hidden().values())
    with queue.runtime.sessions() as session:
        assert session.execute(select(FindingAllowance)).first() is None


def test_confirm_with_hide_hides_a_post_the_sidecar_did_not_flag(queue: Queue) -> None:
    name = "phone"  # a high finding: the sidecar told the author but did not flag the post
    finding_id, post = queue.ids[name], queue.posts[name]
    result = queue.run("confirm", str(finding_id), "--as", "admin", "--hide")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"finding {finding_id} confirmed by admin (post hidden)"

    assert queue.hidden() == {n: n == name for n in queue.posts}
    row = finding(queue.runtime, finding_id)
    assert (row.status, row.decided_by) == (FindingStatus.CONFIRMED, "admin")
    [(actor, action, details)] = audit_of(queue.runtime, "finding.confirmed")
    assert (actor, action) == ("admin", "finding.confirmed")
    assert details["hidden"] is True
    assert details["post"] == post.id


def test_confirm_with_hide_of_a_post_the_sidecar_flagged_points_to_the_review_queue(queue: Queue) -> None:
    finding_id = queue.ids["card"]  # a critical finding: the sidecar flagged the post already
    writes = queue.writes()
    result = queue.run("confirm", str(finding_id), "--as", "admin", "--hide")
    assert result.exit_code == 1
    assert "review queue" in result.output
    assert queue.writes() == writes
    assert not any(queue.hidden().values())
    assert finding(queue.runtime, finding_id).status == FindingStatus.OPEN
    assert audit_of(queue.runtime, "finding.confirmed") == []
