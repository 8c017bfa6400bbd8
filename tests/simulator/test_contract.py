"""Responses validate against Discourse's official OpenAPI spec (tests/fixtures/discourse/openapi.json).

The spec was generated from Discourse's request specs, so it only knows the forum state they ran in: the
site does not require approval, no one is suspended, users have names and have posted, the site defines
two user fields. The forum below is put in that state; keys Discourse adds in other states (``approved``,
``suspended_till``...) are covered by the behavioural tests instead, and by tests/contract, which lists
them as gaps. Validation is openapi-core's (responses only: the requests here are the test's, not the
sidecar's; tests/contract validates the adapter's requests), with the spec's server set to the
simulator's base URL.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sidecar.forum.simulator import DiscourseSimulator
from tests.contract.spec import Exchange, assert_valid, openapi_for, response_problems, spec_operation
from tests.simulator.conftest import API_KEY

RAW = "A post long enough to be accepted by the forum."


def build_forum(clock: Any, *, user_fields: bool) -> DiscourseSimulator:
    sim = DiscourseSimulator(clock=clock, api_key=API_KEY, must_approve_users=False, rate_limit=10_000)
    sim.update_user(1, name="Forum Admin")
    if user_fields:
        sim.add_user_field("Membership number")
        sim.add_user_field("Company")
    group = sim.create_group("members")
    for name in ("bob", "carol"):
        user = sim.create_user(name, f"{name}@example.org", name.title(), trust_level=1)
        sim.log_in(user.id)
        post = sim.write_post(user.id, RAW, title=f"A topic written by {name}")
        sim.feature_topic(user.id, post.topic_id)
        sim.add_group_members(group.id, [user])
    sim.create_user("dave", "dave@example.org", "Dave")
    return sim


HEADERS = {"Api-Key": API_KEY, "Api-Username": "admin"}


# The spec of the admin user detail was generated on a site without user fields; the profile's with two.
NO_USER_FIELDS = {"/admin/users/{id}.json"}

CASES = [
    ("GET", "/admin/users/list/active.json", "/admin/users/list/{flag}.json", {}),
    ("GET", "/admin/users/2.json", "/admin/users/{id}.json", {}),
    ("PUT", "/admin/users/4/suspend.json", "/admin/users/{id}/suspend.json",
     {"data": {"suspend_until": "2030-01-01", "reason": "Lapsed"}}),
    ("PUT", "/admin/users/4/silence.json", "/admin/users/{id}/silence.json", {"data": {"reason": "Calm"}}),
    ("PUT", "/admin/users/4/deactivate.json", "/admin/users/{id}/deactivate.json", {}),
    ("POST", "/admin/users/2/log_out.json", "/admin/users/{id}/log_out.json", {}),
    ("PUT", "/admin/users/4/anonymize.json", "/admin/users/{id}/anonymize.json", {}),
    ("DELETE", "/admin/users/4.json", "/admin/users/{id}.json", {}),
    ("GET", "/groups/members.json", "/groups/{name}.json", {}),
    ("GET", "/groups/members/members.json", "/groups/{name}/members.json", {}),
    ("PUT", "/groups/41/members.json", "/groups/{id}/members.json", {"data": {"usernames": "dave"}}),
    ("DELETE", "/groups/41/members.json", "/groups/{id}/members.json", {"data": {"usernames": "bob"}}),
    ("POST", "/admin/groups.json", "/admin/groups.json", {"json": {"group": {"name": "board"}}}),
    ("POST", "/posts.json", "/posts.json", {"data": {"title": "A topic title long enough", "raw": RAW}}),
    ("GET", "/posts/1.json", "/posts/{id}.json", {}),
    ("PUT", "/posts/1.json", "/posts/{id}.json", {"data": {"post[raw]": RAW + " Edited."}}),
    ("POST", "/post_actions.json", "/post_actions.json", {"data": {"id": 2, "post_action_type_id": 8}}),
    ("GET", "/site.json", "/site.json", {}),
    ("POST", "/users.json", "/users.json",
     {"data": {"name": "Gina", "username": "gina", "email": "gina@example.org", "password": "long enough"}}),
    ("GET", "/u/bob.json", "/u/{username}.json", {}),
    ("GET", "/u/bob/emails.json", "/u/{username}/emails.json", {}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "url", "spec_path", "kwargs"), CASES, ids=[f"{c[0]} {c[2]}" for c in CASES]
)
def test_response_validates_against_the_official_spec(
    sim_clock: Any, method: str, url: str, spec_path: str, kwargs: dict[str, Any]
) -> None:
    sim = build_forum(sim_clock, user_fields=spec_path not in NO_USER_FIELDS)
    openapi = openapi_for(sim.base_url)

    with sim.mocked():
        response = requests.request(method, sim.base_url + url, headers=HEADERS, timeout=10, **kwargs)
    exchange = Exchange(response.request, response)

    assert spec_operation(method, url) == f"{method} {spec_path}"
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response_problems(openapi, exchange) == set()
    assert_valid(openapi, exchange, request=False)  # openapi-core's validate_response raises on any error
