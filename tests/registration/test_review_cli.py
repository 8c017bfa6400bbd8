"""``mug-sidecar registrations``: the staff review queue, run through the real CLI against a simulated forum
served over loopback (the CLI builds its own adapter from MUG_FORUM_URL and MUG_FORUM_API_KEY)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from click.testing import CliRunner, Result

from sidecar.cli import main
from sidecar.forum.factory import build_forum
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.registration.service import RegistrationService
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY
from tests.registration.conftest import (
    ANN,
    DORA,
    TERRY,
    ZED,
    forum_actions,
    import_standard_membership,
    links,
    registration_audit,
    registrations,
    statuses,
    writes,
)

# Budgets far above what the tests use: waiting for tokens is not what is tested here.
RATE = {"MUG_FORUM_RATE_LIMIT": "10000", "MUG_FORUM_RATE_BURST": "5000"}


@dataclass
class Queue:
    sim: DiscourseSimulator
    service: RegistrationService  # the sidecar's own (the worker's), on the same forum and database
    env: dict[str, str]
    ids: dict[str, int]

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["registrations", *args], env=self.env)


@pytest.fixture
def queue(runtime: Runtime, env: dict[str, str]) -> Iterator[Queue]:
    """Ann approved by the sidecar; Dora (ACME's domain) and Zed (nobody) held for staff; Terry (terminated)
    held too, before even confirming the email."""
    import_standard_membership(runtime)
    sim = DiscourseSimulator(api_key=API_KEY, must_approve_users=True)
    sim.create_group("members")
    sim.create_user("mod", "mod@forum.test", moderator=True, emit=False)
    running = start_background(sim)
    try:
        settings = dataclasses.replace(
            runtime.config.forum, url=running.url, api_key=API_KEY, rate_limit=10_000, rate_burst=5_000
        )
        forum = build_forum(runtime, settings)
        service = RegistrationService(
            sessions=runtime.sessions, clock=runtime.clock, config=runtime.config, forum=forum
        )
        ids = {}
        for username, email, _ in (ANN, DORA, ZED, TERRY):
            user = sim.sign_up(username, email)
            if username != "terry":
                sim.confirm_email(user.id)
            service.evaluate(user.id, cause="delivery:1")
            ids[username] = user.id
        env = {**env, **RATE, "MUG_FORUM_URL": running.url, "MUG_FORUM_API_KEY": API_KEY}
        yield Queue(sim, service, env, ids)
    finally:
        running.stop()


def test_list_shows_the_held_sign_ups_as_json(queue: Queue) -> None:
    result = queue.run("list", "--status", "held", "--json")
    assert result.exit_code == 0, result.output
    rows = sorted(json.loads(result.stdout), key=lambda r: r["username"])
    assert [
        {k: r[k] for k in ("id", "username", "email", "status", "reason", "suggested_organization")}
        for r in rows
    ] == [
        {
            "id": queue.ids["dora"],
            "username": "dora",
            "email": "dora@acme.test",
            "status": "held",
            "reason": "organization_domain_match",
            "suggested_organization": "ACME",
        },
        {
            "id": queue.ids["terry"],
            "username": "terry",
            "email": "terry@acme.test",
            "status": "held",
            "reason": "member_terminated",
            "suggested_organization": None,
        },
        {
            "id": queue.ids["zed"],
            "username": "zed",
            "email": "zed@nowhere.test",
            "status": "held",
            "reason": "member_not_found",
            "suggested_organization": None,
        },
    ]
    assert {r["decided_by"] for r in rows} == {"sidecar"}

    everyone = json.loads(queue.run("list", "--json").stdout)
    assert sorted(r["username"] for r in everyone) == ["ann", "dora", "terry", "zed"]
    text = queue.run("list", "--status", "held")
    assert text.exit_code == 0
    assert "(organization ACME?)" in text.stdout
    assert "ann" not in text.stdout


def test_approve_links_approves_adds_the_groups_and_audits_the_admin(queue: Queue, runtime: Runtime) -> None:
    dora = queue.ids["dora"]
    result = queue.run("approve", str(dora), "--member", "M1", "--as", "admin")
    assert result.exit_code == 0, result.output
    assert f"forum user {dora} approved and linked to member M1" in result.stdout

    assert queue.sim.user(dora).approved
    assert dora in {u.id for u in queue.sim.group_members("members")}
    row = registrations(runtime)["dora"]
    assert (row.status, row.reason, row.member_number, row.decided_by) == (
        "approved",
        "approved_by_staff",
        "M1",
        "admin",
    )
    assert links(runtime)["dora"] == ("M1", '["members"]')
    actor, action, target, details = registration_audit(runtime)[-1]
    assert (actor, action, target) == ("admin", "registration.approved", f"forum_user:{dora}")
    assert details["cause"] == "staff:admin"
    assert details["member_number"] == "M1"
    assert [
        (a, t, o, c) for a, t, o, c in forum_actions(runtime) if t in (f"user:{dora}", "group:members:dora")
    ] == [
        ("approve_user", f"user:{dora}", "done", "staff:admin"),
        ("add_group_members", "group:members:dora", "done", "staff:admin"),
    ]
    assert statuses(runtime)["zed"] == ("held", "member_not_found", None, None)

    # The forum's user_approved webhook comes back to the sidecar: the staff decision stands.
    audited = registration_audit(runtime)
    echo = queue.service.evaluate(dora, cause="delivery:2")
    assert echo is not None
    assert (echo.status, echo.reason, echo.changed) == ("approved", "approved_by_staff", False)
    assert registrations(runtime)["dora"].decided_by == "admin"
    assert registration_audit(runtime) == audited


def test_approve_fails_cleanly_while_the_email_is_unconfirmed(queue: Queue, runtime: Runtime) -> None:
    terry = queue.ids["terry"]
    before = (statuses(runtime), registration_audit(runtime), links(runtime))
    result = queue.run("approve", str(terry), "--member", "M3", "--as", "admin")
    assert result.exit_code == 1
    assert "error: PUT /admin/users/{id}/approve: 403" in result.stderr
    assert not queue.sim.user(terry).approved
    assert (statuses(runtime), registration_audit(runtime), links(runtime)) == before
    assert forum_actions(runtime)[-1] == ("approve_user", f"user:{terry}", "failed", "staff:admin")


def test_only_an_admin_of_the_forum_may_decide(queue: Queue, runtime: Runtime) -> None:
    zed = queue.ids["zed"]
    before = (statuses(runtime), registration_audit(runtime), forum_actions(runtime), writes(queue.sim))
    for actor in ("mod", "ann", "no-such-user"):
        approve = queue.run("approve", str(zed), "--member", "M1", "--as", actor)
        assert approve.exit_code == 1
        assert f"error: {actor!r} is not an admin of the forum" in approve.stderr
        reject = queue.run("reject", str(zed), "--reason", "spam", "--as", actor)
        assert reject.exit_code == 1
    assert (
        statuses(runtime),
        registration_audit(runtime),
        forum_actions(runtime),
        writes(queue.sim),
    ) == before
    assert not queue.sim.user(zed).approved


def test_approve_refuses_an_unknown_member_or_account(queue: Queue, runtime: Runtime) -> None:
    before = (statuses(runtime), registration_audit(runtime), writes(queue.sim))
    unknown_member = queue.run("approve", str(queue.ids["zed"]), "--member", "M404", "--as", "admin")
    assert unknown_member.exit_code == 1
    assert "error: no member M404" in unknown_member.stderr
    unknown_account = queue.run("approve", "9999", "--member", "M1", "--as", "admin")
    assert unknown_account.exit_code == 1
    assert "does not exist" in unknown_account.stderr
    assert (statuses(runtime), registration_audit(runtime), writes(queue.sim)) == before


def test_reject_deletes_the_pending_account_and_audits_the_reason(queue: Queue, runtime: Runtime) -> None:
    zed = queue.ids["zed"]
    result = queue.run("reject", str(zed), "--reason", "not a member of the association", "--as", "admin")
    assert result.exit_code == 0, result.output
    assert f"forum user {zed} rejected: not a member of the association" in result.stdout

    assert queue.sim.find_user(username="zed") is None
    row = registrations(runtime)["zed"]
    assert (row.status, row.reason, row.decided_by) == (
        "rejected",
        "not a member of the association",
        "admin",
    )
    actor, action, target, details = registration_audit(runtime)[-1]
    assert (actor, action, target) == ("admin", "registration.rejected", f"forum_user:{zed}")
    assert details["reason"] == "not a member of the association"
    assert details["cause"] == "staff:admin"
    assert forum_actions(runtime)[-1] == ("reject_user", f"user:{zed}", "done", "staff:admin")
    held = json.loads(queue.run("list", "--status", "held", "--json").stdout)
    assert sorted(r["username"] for r in held) == ["dora", "terry"]


def test_reject_refuses_an_approved_account(queue: Queue, runtime: Runtime) -> None:
    ann = queue.ids["ann"]
    result = queue.run("reject", str(ann), "--reason", "oops", "--as", "admin")
    assert result.exit_code == 1
    assert "approved already" in result.stderr
    assert queue.sim.user(ann).approved
    assert statuses(runtime)["ann"] == ("approved", "eligible_member", "M1", None)


def test_the_review_commands_need_a_configured_forum(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["registrations", "approve", "5", "--member", "M1", "--as", "admin"], env=env
    )
    assert result.exit_code == 1
    assert "no forum is configured" in result.stderr
