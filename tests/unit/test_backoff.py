import random

import pytest

from sidecar.jobs.backoff import retry_delay


def test_delay_doubles_per_attempt_within_jitter_bounds() -> None:
    rng = random.Random(7)
    for attempt, full in [(1, 10.0), (2, 20.0), (3, 40.0), (4, 80.0)]:
        delays = [retry_delay(attempt, base=10, cap=3600, rng=rng) for _ in range(200)]
        assert all(full / 2 <= d <= full for d in delays)
        assert max(delays) - min(delays) > full / 4  # jitter really spreads them


def test_delay_is_capped() -> None:
    assert all(retry_delay(40, base=10, cap=300, rng=random.Random(i)) <= 300 for i in range(50))
    assert all(retry_delay(40, base=10, cap=300, rng=random.Random(i)) >= 150 for i in range(50))


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        retry_delay(0, base=1, cap=2)
