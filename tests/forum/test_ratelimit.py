"""The shared token bucket: never more than the budget in any window, across clients and after a 429."""

from __future__ import annotations

import threading
from bisect import bisect_left

import pytest

from sidecar.clock import FixedClock, SystemClock
from sidecar.db.models import RateBucket
from sidecar.forum.ratelimit import LEASE_SECONDS, MAX_LEASE, Budget, SharedTokenBucket
from sidecar.runtime import Runtime
from tests.forum.conftest import ClockSleeper


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((i - bisect_left(times, t - window + 1e-9) + 1 for i, t in enumerate(times)), default=0)


def test_budget_is_never_exceeded_in_any_window(runtime: Runtime, clock: FixedClock) -> None:
    budget = Budget(limit=20, window_seconds=2.0, burst=5)
    sleeper = ClockSleeper(clock)
    buckets = [SharedTokenBucket(runtime.sessions, clock, budget) for _ in range(3)]  # three "processes"
    taken: list[float] = []
    for n in range(300):
        bucket = buckets[n % 3]
        assert bucket.take(max_wait=10, sleep=sleeper) == 0.0
        taken.append(clock.now().timestamp())
    assert max_in_window(taken, budget.window_seconds) <= budget.limit
    # ...and the budget is used, not starved: 300 calls at 7.5/s after the burst.
    elapsed = taken[-1] - taken[0]
    assert elapsed == pytest.approx((300 - budget.burst) / budget.refill_per_second, rel=0.02)


def test_a_rested_bucket_lets_a_burst_through_then_asks_to_wait(runtime: Runtime, clock: FixedClock) -> None:
    bucket = SharedTokenBucket(runtime.sessions, clock, Budget(limit=50, window_seconds=60, burst=10))
    assert [bucket.try_take() for _ in range(10)] == [0.0] * 10
    wait = bucket.try_take()
    assert wait == pytest.approx(60 / 40)
    assert bucket.take(max_wait=1.0, sleep=lambda s: None) == pytest.approx(wait)  # too long: handed back


def test_hold_off_makes_every_client_wait(runtime: Runtime, clock: FixedClock) -> None:
    budget = Budget(limit=50, window_seconds=60, burst=10)
    first = SharedTokenBucket(runtime.sessions, clock, budget)
    second = SharedTokenBucket(runtime.sessions, clock, budget)
    first.hold_off(30)
    assert second.try_take() == pytest.approx(30)
    clock.advance(30)
    assert second.try_take() == 0.0


def test_hold_off_never_shortens_a_longer_wait(runtime: Runtime, clock: FixedClock) -> None:
    bucket = SharedTokenBucket(runtime.sessions, clock, Budget(limit=50, window_seconds=60, burst=10))
    bucket.hold_off(60)
    bucket.hold_off(5)
    assert bucket.try_take() == pytest.approx(60)


def test_threads_share_the_bucket_without_overdrawing(runtime: Runtime) -> None:
    """Real concurrency on the database: 4 threads race for 10 tokens that refill slowly."""
    clock = SystemClock()
    bucket_budget = Budget(limit=11, window_seconds=3600, burst=10)
    granted: list[int] = []
    lock = threading.Lock()

    def grab() -> None:
        bucket = SharedTokenBucket(runtime.sessions, clock, bucket_budget)
        for _ in range(10):
            if bucket.try_take() == 0.0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert 10 <= len(granted) <= 11  # the burst, plus at most the one token refilled meanwhile


def bucket_row(runtime: Runtime) -> tuple[float, float]:
    """The shared bucket as the database holds it: (tokens, when it last changed)."""
    with runtime.sessions() as session:
        row = session.get(RateBucket, "forum")
        assert row is not None
        return row.tokens, row.updated_at


def test_the_default_budget_is_taken_a_token_at_a_time(runtime: Runtime, clock: FixedClock) -> None:
    budget = Budget(limit=50, window_seconds=60, burst=10)
    assert budget.lease == 1
    bucket = SharedTokenBucket(runtime.sessions, clock, budget)
    bucket.try_take()
    assert bucket_row(runtime)[0] == pytest.approx(9)


def test_a_generous_budget_is_taken_a_lease_at_a_time(runtime: Runtime, clock: FixedClock) -> None:
    budget = Budget(limit=10_000, window_seconds=1, burst=100)
    assert budget.lease == MAX_LEASE
    bucket = SharedTokenBucket(runtime.sessions, clock, budget)
    assert [bucket.try_take() for _ in range(MAX_LEASE)] == [0.0] * MAX_LEASE
    assert bucket_row(runtime)[0] == pytest.approx(100 - MAX_LEASE)  # one transaction took them all
    assert bucket.try_take() == 0.0
    assert bucket_row(runtime)[0] == pytest.approx(100 - 2 * MAX_LEASE)


def test_tokens_taken_ahead_are_dropped_when_they_are_old(runtime: Runtime, clock: FixedClock) -> None:
    bucket = SharedTokenBucket(runtime.sessions, clock, Budget(limit=10_000, window_seconds=1, burst=100))
    bucket.try_take()
    _, taken_at = bucket_row(runtime)
    clock.advance(LEASE_SECONDS / 2)
    bucket.try_take()
    assert bucket_row(runtime)[1] == taken_at  # spent from the lease: the database was not asked
    clock.advance(LEASE_SECONDS)
    bucket.try_take()
    assert bucket_row(runtime)[1] == pytest.approx(taken_at + 1.5 * LEASE_SECONDS)  # too old: a new lease


def test_a_429_drops_the_tokens_taken_ahead(runtime: Runtime, clock: FixedClock) -> None:
    bucket = SharedTokenBucket(runtime.sessions, clock, Budget(limit=10_000, window_seconds=1, burst=100))
    assert bucket.try_take() == 0.0
    bucket.hold_off(5)
    assert bucket.try_take() == pytest.approx(5)


def test_a_bucket_short_of_a_lease_still_gives_single_tokens(runtime: Runtime, clock: FixedClock) -> None:
    bucket = SharedTokenBucket(runtime.sessions, clock, Budget(limit=10_000, window_seconds=1, burst=10))
    assert bucket.budget.lease == MAX_LEASE  # more than the bucket holds
    assert [bucket.try_take() for _ in range(10)] == [0.0] * 10
    assert bucket_row(runtime)[0] == pytest.approx(0)
    assert bucket.try_take() > 0


def test_with_leases_a_window_sees_at_most_the_lease_more_than_the_limit(
    runtime: Runtime, clock: FixedClock
) -> None:
    """Calls spent from a lease trail their tokens by up to LEASE_SECONDS: the promise widens by that."""
    budget = Budget(limit=200, window_seconds=2.0, burst=20)
    assert budget.lease == 9
    sleeper = ClockSleeper(clock)
    buckets = [SharedTokenBucket(runtime.sessions, clock, budget) for _ in range(3)]
    calls: list[float] = []
    for n in range(1500):
        assert buckets[n % 3].take(max_wait=10, sleep=sleeper) == 0.0
        calls.append(clock.now().timestamp())
        clock.advance(0.003)  # the call itself
    assert max_in_window(calls, budget.window_seconds) <= budget.limit + budget.lease


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="burst"):
        Budget(limit=5, window_seconds=1, burst=5)
    with pytest.raises(ValueError, match="window"):
        Budget(limit=5, window_seconds=0, burst=1)
