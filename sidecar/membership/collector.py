"""Pausing Python's cyclic garbage collector around bulk work on membership records.

An import, an export or a sweep builds a few hundred thousand small objects (records, rows, tuples) that
stay alive until the work ends and form no reference cycles. The cyclic collector still walks all of them
each time its allocation thresholds trip: on 100,000 members that was about a third of an import and of
loading everyone (bench/eligibility.py). Reference counting frees memory as usual while the collector is
paused; it resumes, with its usual thresholds, when the bulk work ends.

Used at the edges (the ``members`` commands, benchmarks, a sweep's job), never inside a decision.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pause the cyclic collector for the block, unless it was already off (then leave it alone).

    The collector is one per process: if two threads pause it at once, the first to finish resumes it and
    the other merely runs slower. Nothing depends on the pause for correctness.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
