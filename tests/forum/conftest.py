"""An adapter pointed at a fake forum URL, with a clock that the adapter's waits move forward."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import requests
import responses

from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.forum.actions import ActionLog
from sidecar.forum.discourse import DiscourseForum, Sleeper
from sidecar.forum.factory import budget_of
from sidecar.forum.ratelimit import SharedTokenBucket
from sidecar.runtime import Runtime

FORUM = "http://forum.test"
API_KEY = "test-api-key-0123456789"


class ClockSleeper:
    """Waits by moving the fixed clock, and remembers every wait."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture
def forum_config(config: Config) -> Config:
    forum = dataclasses.replace(config.forum, url=FORUM, api_key=API_KEY, api_username="system")
    return dataclasses.replace(config, forum=forum)


@pytest.fixture
def sleeper(clock: FixedClock) -> ClockSleeper:
    return ClockSleeper(clock)


def make_forum(
    runtime: Runtime,
    config: Config,
    clock: FixedClock,
    sleeper: ClockSleeper,
    *,
    session: requests.Session | None = None,
    cause: str = "test",
    **forum: object,
) -> DiscourseForum:
    """The adapter on the test's database and clock; ``forum`` overrides ForumConfig fields."""
    settings = dataclasses.replace(config.forum, **forum)  # type: ignore[arg-type]
    return DiscourseForum(
        settings,
        bucket=SharedTokenBucket(runtime.sessions, clock, budget_of(settings)),
        actions=ActionLog(runtime.sessions, clock),
        metrics=runtime.metrics,
        sleeper=Sleeper(sleeper),
        session=session,
        cause=cause,
    )


@pytest.fixture
def forum(runtime: Runtime, forum_config: Config, clock: FixedClock, sleeper: ClockSleeper) -> DiscourseForum:
    return make_forum(runtime, forum_config, clock, sleeper)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
