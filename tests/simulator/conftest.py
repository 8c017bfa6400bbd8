"""Fixtures for the simulator's tests: a simulator on a fixed clock, and ``forum``, which gives the same
tests the simulator in-process under ``responses`` and served over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from sidecar.clock import FixedClock
from sidecar.forum.simulator import DiscourseSimulator, start_background

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
API_KEY = "simulator-test-key"
WEBHOOK_SECRET = "simulator_webhook_secret_42"


@dataclass
class Api:
    """A thin HTTP client for the simulator: ``Api-Key``/``Api-Username`` headers on every call."""

    base_url: str
    username: str = "admin"
    key: str | None = API_KEY
    session: requests.Session = field(default_factory=requests.Session)

    def headers(self) -> dict[str, str]:
        if self.key is None:
            return {}
        return {"Api-Key": self.key, "Api-Username": self.username}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.session.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def as_user(self, username: str, key: str | None = API_KEY) -> Api:
        return Api(self.base_url, username=username, key=key, session=self.session)


@dataclass
class Forum:
    sim: DiscourseSimulator
    api: Api
    clock: FixedClock
    mode: str


@pytest.fixture
def sim_clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def sim(sim_clock: FixedClock) -> DiscourseSimulator:
    """A simulator whose rate limit is out of the way (the rate-limit tests set their own)."""
    return DiscourseSimulator(
        clock=sim_clock, api_key=API_KEY, rate_limit=10_000, webhook_secret=WEBHOOK_SECRET
    )


@pytest.fixture(params=["in-process", "loopback"])
def forum(request: pytest.FixtureRequest, sim: DiscourseSimulator, sim_clock: FixedClock) -> Iterator[Forum]:
    """The simulator reached through real ``requests`` calls: under ``responses``, or over loopback."""
    if request.param == "in-process":
        with sim.mocked():
            yield Forum(sim, Api(sim.base_url), sim_clock, request.param)
    else:
        running = start_background(sim)
        try:
            yield Forum(sim, Api(running.url), sim_clock, request.param)
        finally:
            running.stop()
