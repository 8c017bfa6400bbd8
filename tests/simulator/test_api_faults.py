"""Injected API faults: latency, 5xx by rate or by count, reproducible draws; in both modes."""

from __future__ import annotations

from datetime import UTC, datetime

from werkzeug.test import Client

from sidecar.clock import FixedClock
from sidecar.forum.simulator import DiscourseSimulator
from tests.simulator.conftest import Forum


def test_latency_is_added_to_every_request(forum: Forum) -> None:
    slept: list[float] = []
    forum.sim.sleep = slept.append
    forum.sim.faults.latency = 0.25

    forum.api.get("/site.json")
    forum.api.get("/admin/users/1.json")

    assert slept == [0.25, 0.25]


def test_an_error_rate_of_one_fails_every_request_with_a_proxy_503(forum: Forum) -> None:
    forum.sim.faults.error_rate = 1.0

    response = forum.api.get("/admin/users/1.json")

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert "503 Service Temporarily Unavailable" in response.text
    assert forum.sim.limiter.accepted == 0  # the proxy answered: Discourse never counted it


def test_fail_next_fails_that_many_requests_with_json_if_asked(forum: Forum) -> None:
    forum.sim.faults.fail_next = 2
    forum.sim.faults.error_format = "json"

    statuses = [forum.api.get("/site.json").status_code for _ in range(3)]
    forum.sim.faults.fail_next = 1
    body = forum.api.get("/site.json").json()

    assert statuses == [503, 503, 200]
    assert body == {
        "errors": ["The site is in read only mode. Interactions are disabled."],
        "error_type": "read_only",
    }


def test_error_draws_are_reproducible_with_a_seed() -> None:
    def run() -> list[int]:
        sim = DiscourseSimulator(clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)), api_key="k", rng_seed=3)
        sim.faults.error_rate = 0.5
        app = sim.app
        client = Client(app)
        return [
            client.get("/site.json", headers={"Api-Key": "k", "Api-Username": "admin"}).status_code
            for _ in range(30)
        ]

    first = run()

    assert first == run()
    assert set(first) == {200, 503}
