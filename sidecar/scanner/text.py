"""Text helpers the detectors and the quote finder share."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def lower(text: str) -> str:
    """``text.lower()`` with the same length, so offsets found in it hold in ``text`` (a few characters, such
    as "İ", lower to two; those are left as they are). Cached for the post in hand: every detector asks."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
