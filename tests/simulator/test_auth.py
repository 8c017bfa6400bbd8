"""Authentication and the answer format, as Discourse's DefaultCurrentUserProvider and routes give them."""

from __future__ import annotations

from tests.simulator.conftest import API_KEY, Forum

INVALID_CREDENTIALS = {
    "errors": ["You are not permitted to view the requested resource. The API username or key is invalid."],
    "error_type": "invalid_access",
}


def test_json_answers_have_exactly_the_content_type_pydiscourse_accepts(forum: Forum) -> None:
    response = forum.api.get("/site.json")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_an_unknown_key_is_refused_with_discourses_body(forum: Forum) -> None:
    response = forum.api.get("/admin/users/list/active.json", headers={"Api-Key": "not-a-key"})

    assert response.status_code == 403
    assert response.json() == INVALID_CREDENTIALS
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_an_unknown_username_is_refused(forum: Forum) -> None:
    response = forum.api.as_user("nobody").get("/admin/users/1.json")

    assert response.status_code == 403
    assert response.json() == INVALID_CREDENTIALS


def test_the_key_works_with_any_admin_username_system_included(forum: Forum) -> None:
    assert forum.api.as_user("system").get("/admin/users/1.json").status_code == 200
    assert forum.api.as_user("ADMIN").get("/admin/users/1.json").status_code == 200


def test_a_key_in_the_query_string_is_not_an_api_call(forum: Forum) -> None:
    anonymous = forum.api.as_user("admin", key=None)

    response = anonymous.get(
        "/admin/users/list/active.json", params={"api_key": API_KEY, "api_username": "admin"}
    )

    assert response.status_code == 404  # anonymous: the admin routes do not exist for them
    assert response.json()["error_type"] == "not_found"


def test_admin_routes_do_not_exist_for_a_member(forum: Forum) -> None:
    forum.sim.create_user("bob", "bob@example.org")

    assert forum.api.as_user("bob").get("/admin/users/list/active.json").status_code == 404


def test_a_member_is_not_logged_in_without_a_key(forum: Forum) -> None:
    response = forum.api.as_user("admin", key=None).post("/posts.json", data={"raw": "x" * 30, "topic_id": 1})

    assert response.status_code == 403
    assert response.json() == {
        "errors": ["You need to be logged in to do that."],
        "error_type": "not_logged_in",
    }


def test_a_single_user_key_only_acts_as_its_user(forum: Forum) -> None:
    forum.sim.create_user("mo", "mo@example.org", moderator=True)
    forum.sim.add_api_key("mo-key", username="mo")

    assert forum.api.as_user("mo", key="mo-key").get("/admin/users/1.json").status_code == 200
    assert forum.api.as_user("admin", key="mo-key").get("/admin/users/1.json").status_code == 403


def test_a_suspended_api_user_is_refused(forum: Forum) -> None:
    mo = forum.sim.create_user("mo", "mo@example.org", moderator=True)
    mo.suspended_till = forum.clock.now().replace(year=2030)  # staff cannot be suspended through the API

    response = forum.api.as_user("mo").get("/admin/users/1.json")

    assert response.status_code == 403
    assert response.json()["errors"] == ["You are not permitted to view the requested resource."]


def test_unknown_paths_are_404_json(forum: Forum) -> None:
    response = forum.api.get("/no/such/thing.json")

    assert response.status_code == 404
    assert response.json() == {
        "errors": ["The requested URL or resource could not be found."],
        "error_type": "not_found",
    }


def test_every_request_is_logged_with_its_status(forum: Forum) -> None:
    forum.api.get("/site.json")
    forum.api.get("/admin/users/1.json", headers={"Api-Key": "bad"})

    logged = [(r.method, r.path, r.api_username, r.status) for r in forum.sim.requests]
    assert logged == [("GET", "/site.json", "admin", 200), ("GET", "/admin/users/1.json", "admin", 403)]
