"""Retry delays: exponential with jitter, so failing deliveries do not retry in lockstep."""

from __future__ import annotations

import random


def retry_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    "Equal jitter": half the exponential delay is fixed, half is random, so a delay never collapses to
    zero and retries still spread out.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    delay = min(cap, base * 2.0 ** min(attempt - 1, 32))
    draw: float = (rng or random).random()  # jitter, not a secret
    return delay / 2 + draw * delay / 2
