"""What the benchmarks share in measuring and reporting: a target's check, percentiles, the summary table's
rows. Imports nothing heavy: the scanner's benchmark judges its own peak memory."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Check:
    """One target: what it is, the figure measured, and whether the figure meets it (None: not judged, the
    figure is not available)."""

    name: str
    value: str
    passed: bool | None


def verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile, rounded to 0.01 (no interpolation: p99 of 100 samples is the slowest but one).

    None for no values, so the JSON output never holds NaN.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 2)


def summary_row(scope: str, name: str, value: str, judged: str, *, widths: tuple[int, int]) -> str:
    """A row of the summary table: scope, target, figure and verdict in columns."""
    name_width, value_width = widths
    return f"   {scope:<10} {name:<{name_width}} {value:<{value_width}} {judged}".rstrip()


def render_summary(
    checks: Sequence[tuple[str, Check]], *, widths: tuple[int, int], title: str = "== summary"
) -> list[str]:
    """The summary table's lines, one a (scope, check); callers add lines of their own after them."""
    lines = [title]
    lines.extend(
        summary_row(scope, check.name, check.value, verdict(check.passed), widths=widths)
        for scope, check in checks
    )
    return lines
