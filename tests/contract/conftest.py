"""The Discourse adapter over the in-process simulator, with every HTTP exchange it makes recorded.

The adapter is built as ``tests/forum/conftest.py``'s ``make_forum`` builds it (the test database's rate
bucket and action log, a sleeper that only moves the fixed clock), plus its own ``requests.Session`` whose
response hook records each exchange, and pointed at the simulator's base URL with the simulator's API key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import responses
from openapi_core import OpenAPI

from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.runtime import Runtime
from tests.contract.spec import Recorder, openapi_for
from tests.forum.conftest import ClockSleeper, make_forum

SIM_API_KEY = "contract-test-api-key-0123456789"
SIM_BASE_URL = "http://forum.test"


@pytest.fixture
def sim(clock: FixedClock) -> DiscourseSimulator:
    """The forum the sidecar really runs beside: it must approve users (Discourse's default is not to).
    Its rate limit is out of the way; the adapter's own budget is what the tests would otherwise meet."""
    return DiscourseSimulator(
        base_url=SIM_BASE_URL, clock=clock, api_key=SIM_API_KEY, must_approve_users=True, rate_limit=10_000
    )


@pytest.fixture
def openapi(sim: DiscourseSimulator) -> OpenAPI:
    return openapi_for(sim.base_url)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def mocked_sim(sim: DiscourseSimulator) -> Iterator[responses.RequestsMock]:
    with sim.mocked() as rsps:
        yield rsps


@pytest.fixture
def adapter(
    runtime: Runtime,
    config: Config,
    clock: FixedClock,
    sim: DiscourseSimulator,
    recorder: Recorder,
    mocked_sim: responses.RequestsMock,
) -> DiscourseForum:
    return make_forum(
        runtime,
        config,
        clock,
        ClockSleeper(clock),
        session=recorder.attach(requests.Session()),
        cause="contract",
        url=sim.base_url,
        api_key=SIM_API_KEY,
        api_username="system",
        rate_limit=10_000,
        rate_burst=1_000,
    )
