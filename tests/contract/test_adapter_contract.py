"""Every call the Discourse adapter makes, checked against Discourse's official OpenAPI spec by openapi-core.

``scenario`` drives every public method of ``DiscourseForum`` against the simulator (in-process, under
``responses``), including the "already done" answers the adapter relies on, and records each exchange
from the adapter's own ``requests.Session``. Then:

- each exchange whose operation the spec has is validated, request and response; whatever openapi-core
  finds must be listed in ``SPEC_GAPS`` with its reason, and every entry there must still be found;
- the operations the spec lacks entirely must be exactly ``UNCOVERED``.

The forum is the one the sidecar runs beside, not the one the spec was generated on: it must approve users,
someone is suspended while being read, user fields are defined. Keys Discourse adds in that state are
listed as gaps (the behaviour behind them is in FACTS.md and the simulator's tests). A gap whose reason
starts with "DEFECT" is a bug in the adapter or the simulator, not in the spec: fix it there and drop it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from openapi_core import OpenAPI
from sqlalchemy import select

from sidecar.clock import FixedClock
from sidecar.db.models import ForumAction
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.port import FlagType, Outcome
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.runtime import Runtime
from tests.contract.spec import Exchange, Recorder, assert_valid, operation_of, problems, spec_operation

RAW = "A post long enough to be accepted by the forum."


@dataclass(frozen=True)
class Gap:
    operation: str  # the spec's "METHOD /template.json"
    problem: str  # exactly as tests/contract/spec.py:problems words it
    reason: str


# Why the spec is silent or wrong, in three kinds (see the module docstring for DEFECT).
LACKS = "the spec lacks what Discourse accepts (FACTS.md §3); its additionalProperties: false refuses it"
APPROVAL = "state: the spec was generated on a site not requiring approval; here it does (FACTS.md §2)"
NO_FIELDS = "state: the spec's admin user detail was generated on a site defining no user fields"
SUSPENDED = "state: no one was suspended when the spec was generated; keys appear only while suspended"
NEVER_SEEN = (
    "state: the spec's members had all posted and visited; Discourse sends null for those who have not"
)
ONLY_200 = "the spec documents only the 200 answer; the adapter reads this one as FACTS.md §2 / site.py say"

ADMIN_USER = "GET /admin/users/{id}.json"
LIST = "GET /admin/users/list/{flag}.json"
MEMBERS = "GET /groups/{name}/members.json"
FLAG = "POST /post_actions.json"
PROFILE = "GET /u/{username}.json"

# Known spec gaps: each one is a problem openapi-core reports on a recorded exchange. Nothing else may fail,
# and each entry must still be found (a stale entry fails the test too).
SPEC_GAPS: tuple[Gap, ...] = (
    # Parameters the adapter must send that the spec does not know.
    Gap(LIST, "request path parameter 'flag' $: 'pending' is not in the enum",
        f"{LACKS}: `pending` (active, not approved) is a flag; the enum still lists blocked/suspect"),
    Gap(LIST, "request path parameter 'flag' $: 'all' is not in the enum",
        f"{LACKS}: an unknown flag does not filter; find_users_by_email searches `all` with email="),
    Gap(FLAG, "request body $: unexpected key 'message'",
        f"{LACKS}: a notify_moderators flag (7) needs `message`"),
    Gap(FLAG, "request body $: unexpected key 'take_action'",
        f"{LACKS}: staff-only take_action=\"true\" agrees with the flag and hides the post"),
    Gap(MEMBERS, "request query parameter 'limit': not in the spec",
        f"{LACKS}: members are paged with limit/offset; the spec declares no parameters"),
    Gap(MEMBERS, "request query parameter 'offset': not in the spec",
        f"{LACKS}: members are paged with limit/offset; the spec declares no parameters"),
    # Keys of the forum the sidecar runs beside that the spec's generation state did not have.
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'approved'", APPROVAL),
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'can_approve'", APPROVAL),
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'user_fields'", NO_FIELDS),
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'suspend_reason'", SUSPENDED),
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'suspended_at'", SUSPENDED),
    Gap(ADMIN_USER, "response 200 body $: unexpected key 'suspended_till'", SUSPENDED),
    Gap(ADMIN_USER, "response 200 body $.suspended_by: object is not ['string', 'null']",
        f"{SUSPENDED}; the spec typed it from null samples, Discourse embeds a BasicUserSerializer object"
        " (dc: app/serializers/admin_detailed_user_serializer.rb `has_one :suspended_by`)"),
    Gap(MEMBERS, "response 200 body $.members[*].last_posted_at: null is not string", NEVER_SEEN),
    Gap(MEMBERS, "response 200 body $.members[*].last_seen_at: null is not string", NEVER_SEEN),
    # Answers other than 200 that the adapter turns into outcomes ("already done") or reads past.
    Gap("DELETE /admin/users/{id}.json", "response 403: status not documented",
        f"{ONLY_200}: a user who no longer exists is a 403 (the guardian sees nil); reject re-reads"),
    Gap(ADMIN_USER, "response 404: status not documented", f"{ONLY_200}: the re-read of a deleted user"),
    Gap("PUT /admin/users/{id}/suspend.json", "response 409: status not documented",
        f"{ONLY_200}: 409 when already suspended"),
    Gap("PUT /groups/{id}/members.json", "response 422: status not documented",
        f"{ONLY_200}: 422 member_already_exist when every user given is already a member"),
    Gap(FLAG, "response 403: status not documented", f"{ONLY_200}: 403 for a repeated flag"),
    Gap(PROFILE, "response 200 body $.user.featured_topic: null is not object",
        "state: the spec's profile was generated for a user with a featured topic; most have none"),
    Gap(PROFILE, "response 404: status not documented", f"{ONLY_200}: 404 for a username nobody has"),
)  # fmt: skip

# Calls the adapter makes that the spec does not describe at all (FACTS.md §3). A new one fails the test
# until it is added here, with the place its contract is written down.
UNCOVERED = frozenset(
    {
        "PUT /admin/users/{id}/approve.json",  # FACTS.md §2: PUT only, empty 200
        "PUT /admin/users/{id}/unsuspend.json",  # FACTS.md §2
        "GET /posts/by_number/{id}/{id}.json",  # PostsController#by_number: a topic's first post by number
    }
)


@dataclass
class Calls:
    """The adapter, remembering which of its methods the scenario called."""

    forum: DiscourseForum
    names: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.forum, name)
        if callable(attribute):
            self.names.append(name)
        return attribute


@dataclass
class Scenario:
    sim: DiscourseSimulator
    ids: dict[str, int]
    called: set[str]
    results: dict[str, Any]
    actions: list[tuple[str, str, str | None]]
    exchanges: list[Exchange]


def public_methods() -> set[str]:
    return {n for n, _ in inspect.getmembers(DiscourseForum, inspect.isfunction) if not n.startswith("_")}


def build_forum(sim: DiscourseSimulator) -> dict[str, int]:
    """Users in every state the adapter meets, a custom group, posts to read and flag."""
    ids: dict[str, int] = {}
    with sim.quietly():
        sim.add_user_field("Membership number", required=True)
        sim.add_user_field("Company")
        members = sim.create_group("members")
        for name in ("bob", "carol"):
            user = sim.create_user(name, f"{name}@example.org", name.title(), trust_level=1,
                                   user_fields={1: f"M-{name}", 2: "ACME"})  # fmt: skip
            sim.log_in(user.id)
            post = sim.write_post(user.id, RAW, title=f"A topic written by {name}")
            sim.add_group_members(members.id, [user])
            ids[name], ids[f"{name}_post"] = user.id, post.id
        for name in ("dave", "gina", "hank"):
            ids[name] = sim.create_user(name, f"{name}@example.org", name.title(), trust_level=1).id
        sim.log_in(ids["gina"])
        for name in ("erin", "frank"):  # pending: signed up, email confirmed, not approved
            user = sim.sign_up(name, f"{name}@example.org", name.title(), {1: f"M-{name}"})
            ids[name] = sim.confirm_email(user.id).id
    return ids


def drive(forum: Calls, clock: FixedClock, ids: dict[str, int]) -> dict[str, Any]:
    """Every public method, and the second calls whose "already done" answers the adapter reads."""
    r: dict[str, Any] = {}
    r["page"] = forum.list_users_page("active", 1)
    r["pending"] = list(forum.iter_users("pending"))
    r["by_email"] = forum.find_users_by_email("Bob@Example.org")
    r["by_username"] = forum.find_user_by_username("bob")
    r["no_username"] = forum.find_user_by_username("nobody-at-all")
    r["fields"] = forum.user_field_definitions()
    r["erin"] = forum.get_user(ids["erin"])
    r["approve"] = forum.approve_user(ids["erin"])
    r["reject"] = forum.reject_user(ids["frank"])
    r["reject_again"] = forum.reject_user(ids["frank"])
    until = clock.now() + timedelta(days=30)
    r["suspend"] = forum.suspend_user(ids["gina"], until=until, reason="Lapsed", message="Renew soon.")
    r["suspend_again"] = forum.suspend_user(ids["gina"], until=until, reason="Lapsed")
    r["gina_suspended"] = forum.get_user(ids["gina"])
    r["suspended"] = list(forum.iter_users("suspended"))
    r["unsuspend"] = forum.unsuspend_user(ids["gina"])
    r["log_out"] = forum.log_out_user(ids["gina"])
    r["anonymize"] = forum.anonymize_user(ids["hank"])
    r["add"] = forum.add_group_members("members", ["dave"])
    r["add_again"] = forum.add_group_members("members", ["dave"])
    r["members"] = forum.group_members("members")
    r["remove"] = forum.remove_group_members("members", ["dave"])
    r["remove_again"] = forum.remove_group_members("members", ["dave"])
    r["pm"] = forum.send_private_message(["bob"], "About your membership", "Please renew it soon.")
    r["post"] = forum.get_post(ids["bob_post"])
    r["topic_post"] = forum.get_topic_post(r["post"].topic_id, r["post"].post_number)
    r["flag"] = forum.flag_post(ids["carol_post"], message="Not a member any more.")
    r["flag_again"] = forum.flag_post(ids["carol_post"], message="Not a member any more.")
    r["hide"] = forum.flag_post(ids["bob_post"], flag_type=FlagType.SPAM, take_action=True)
    return r


@pytest.fixture
def scenario(
    adapter: DiscourseForum,
    sim: DiscourseSimulator,
    clock: FixedClock,
    recorder: Recorder,
    runtime: Runtime,
) -> Scenario:
    ids = build_forum(sim)
    calls = Calls(adapter)
    calls.forum = calls.with_cause("contract:scenario")  # the writes below are logged under this cause
    results = drive(calls, clock, ids)
    with runtime.sessions() as session:
        rows = session.execute(select(ForumAction).order_by(ForumAction.id)).scalars()
        actions = [(a.action, a.outcome, a.cause) for a in rows]
    return Scenario(sim, ids, set(calls.names), results, actions, list(recorder.exchanges))


def test_the_scenario_drives_every_method_and_gets_the_expected_outcomes(scenario: Scenario) -> None:
    r, ids, sim = scenario.results, scenario.ids, scenario.sim

    assert scenario.called == public_methods()
    assert {u.username for u in r["page"]} >= {"admin", "bob", "carol", "dave", "gina", "hank"}
    assert [u.username for u in r["pending"]] == ["erin", "frank"]
    assert [(u.username, u.email) for u in r["by_email"]] == [("bob", "bob@example.org")]
    assert [(f.name, f.required) for f in r["fields"]] == [("Membership number", True), ("Company", False)]
    assert (r["erin"].active, r["erin"].approved, r["erin"].email) == (True, False, "erin@example.org")
    assert (r["approve"], sim.user(ids["erin"]).approved) == (Outcome.DONE, True)
    assert (r["reject"], r["reject_again"]) == (Outcome.DONE, Outcome.ALREADY_DONE)
    assert ids["frank"] not in sim.users
    assert (r["suspend"], r["suspend_again"]) == (Outcome.DONE, Outcome.ALREADY_DONE)
    assert r["gina_suspended"].suspended_till is not None
    assert [u.username for u in r["suspended"]] == ["gina"]
    assert (r["unsuspend"], r["log_out"]) == (Outcome.DONE, Outcome.DONE)
    assert sim.user(ids["gina"]).suspended_till is None
    assert r["anonymize"] == sim.user(ids["hank"]).username
    assert r["anonymize"].startswith("anon")
    assert (r["add"], r["add_again"]) == (Outcome.DONE, Outcome.ALREADY_DONE)
    assert [m.username for m in r["members"]] == ["dave", "carol", "bob"]
    assert (r["remove"], r["remove_again"]) == (Outcome.DONE, Outcome.ALREADY_DONE)
    assert [u.username for u in sim.group_members("members")] == ["bob", "carol"]
    assert r["pm"].post_id is not None
    assert sim.post(r["pm"].post_id).topic_id == r["pm"].topic_id
    assert (r["post"].id, r["post"].raw, r["post"].hidden) == (ids["bob_post"], RAW, False)
    assert (r["topic_post"].id, r["topic_post"].raw, r["topic_post"].version) == (ids["bob_post"], RAW, 1)
    assert (r["flag"], r["flag_again"], r["hide"]) == (Outcome.DONE, Outcome.ALREADY_DONE, Outcome.DONE)
    assert sim.post(ids["bob_post"]).hidden
    assert {cause for _, _, cause in scenario.actions} == {"contract:scenario"}
    assert [(action, outcome) for action, outcome, _ in scenario.actions] == [
        ("approve_user", "done"),
        ("reject_user", "done"),
        ("reject_user", "already_done"),
        ("suspend_user", "done"),
        ("suspend_user", "already_done"),
        ("unsuspend_user", "done"),
        ("log_out_user", "done"),
        ("anonymize_user", "done"),
        ("add_group_members", "done"),
        ("add_group_members", "already_done"),
        ("remove_group_members", "done"),
        ("remove_group_members", "already_done"),
        ("send_private_message", "done"),
        ("flag_post", "done"),
        ("flag_post", "already_done"),
        ("flag_post", "done"),
    ]


def test_every_call_of_the_adapter_was_recorded(scenario: Scenario) -> None:
    recorded = [(e.method, e.path, e.response.status_code) for e in scenario.exchanges]

    assert recorded == [(r.method, r.path, r.status) for r in scenario.sim.requests]


def test_spec_covered_exchanges_validate_except_the_listed_gaps(scenario: Scenario, openapi: OpenAPI) -> None:
    covered = [e for e in scenario.exchanges if spec_operation(e.method, e.path) is not None]
    allowed = {(g.operation, g.problem) for g in SPEC_GAPS}
    found: set[tuple[str, str]] = set()
    unexpected: dict[str, set[str]] = {}
    for exchange in covered:
        operation = spec_operation(exchange.method, exchange.path)
        assert operation is not None
        seen = {(operation, p) for p in problems(openapi, exchange)}
        found |= seen
        if not seen:
            assert_valid(openapi, exchange)  # openapi-core's own validate_request/validate_response agree
        for _, problem in seen - allowed:
            unexpected.setdefault(str(exchange), set()).add(problem)

    assert covered
    assert unexpected == {}
    assert allowed - found == set(), "gaps no longer found: remove them from SPEC_GAPS"


def test_the_calls_the_spec_lacks_are_exactly_the_listed_ones(scenario: Scenario) -> None:
    uncovered = {operation_of(e) for e in scenario.exchanges if spec_operation(e.method, e.path) is None}

    assert uncovered == UNCOVERED
