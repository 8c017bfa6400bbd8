"""The site-wide admin API rate limit (dc: admin_api_key_limiter, lib/rate_limiter.rb), in both modes."""

from __future__ import annotations

from tests.simulator.conftest import Forum


def test_over_the_limit_is_429_with_discourses_body_and_headers(forum: Forum) -> None:
    forum.sim.configure_rate_limit(20, 2)

    statuses = [forum.api.get("/admin/users/1.json").status_code for _ in range(20)]
    refused = forum.api.get("/admin/users/1.json")

    assert statuses == [200] * 20
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/json; charset=utf-8"
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
    assert refused.json() == {
        "errors": [
            "You\u2019ve performed this action too many times. Please wait a few seconds before trying again."
        ],
        "error_type": "rate_limit",
        "extras": {"wait_seconds": 2, "time_left": "a few seconds"},
    }


def test_the_window_slides_on_the_injected_clock(forum: Forum) -> None:
    forum.sim.configure_rate_limit(20, 2)
    for _ in range(20):
        forum.api.get("/site.json")

    forum.clock.advance(2)
    at_the_edge = forum.api.get("/site.json")  # Discourse needs the oldest to be MORE than 2 s old
    forum.clock.advance(1)
    after = forum.api.get("/site.json")

    assert at_the_edge.status_code == 429
    assert at_the_edge.json()["extras"]["wait_seconds"] == 0
    assert after.status_code == 200


def test_one_bucket_for_all_keys_and_usernames(forum: Forum) -> None:
    forum.sim.configure_rate_limit(3, 60)
    forum.sim.add_api_key("second-key")
    forum.api.get("/site.json")
    forum.api.as_user("system").get("/site.json")
    forum.api.as_user("admin", key="second-key").get("/site.json")

    refused = forum.api.as_user("system", key="second-key").get("/site.json")

    assert refused.status_code == 429
    assert refused.json()["extras"] == {"wait_seconds": 60, "time_left": "1 minute"}


def test_refusals_and_bad_keys_are_not_counted(forum: Forum) -> None:
    forum.sim.configure_rate_limit(2, 30)
    forum.api.get("/site.json", headers={"Api-Key": "wrong"})
    forum.api.get("/site.json")
    forum.api.get("/site.json")
    refused = [forum.api.get("/site.json").status_code for _ in range(5)]
    forum.clock.advance(31)

    assert refused == [429] * 5
    assert forum.api.get("/site.json").status_code == 200
    assert forum.sim.limiter.refused == 5
    assert forum.sim.limiter.max_in_window == 2


def test_pacing_exactly_at_the_limit_is_refused_as_on_discourse(forum: Forum) -> None:
    # Integer-second timestamps and a strict "older than" make 20 per 2 s admit 20 per 3 whole seconds.
    forum.sim.configure_rate_limit(20, 2)
    statuses = []
    for _ in range(60):  # 10 requests a second
        statuses.append(forum.api.get("/site.json").status_code)
        forum.clock.advance(0.1)

    assert 429 in statuses


def test_max_in_window_shows_a_paced_client_never_exceeded_the_limit(forum: Forum) -> None:
    forum.sim.configure_rate_limit(20, 2)
    statuses = []
    for _ in range(60):  # 20 requests every 3.2 seconds
        statuses.append(forum.api.get("/site.json").status_code)
        forum.clock.advance(0.16)

    assert set(statuses) == {200}
    assert forum.sim.limiter.max_in_window <= 20
