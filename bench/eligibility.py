"""Membership benchmark: import 100,000 members from CSV, then decide everyone's eligibility.

Run from the project root with the project's virtualenv::

    .venv/bin/python bench/eligibility.py [--organizations N] [--members N] [--seed S]
                                          [--database-url URL] [--tracemalloc] [--json] [--check]

Generates N organizations and N members (deterministic: the same seed gives the same files) as the CSV files
``mug-sidecar members import`` reads, imports them into a fresh SQLite database (and, with --database-url,
into a fresh database on that PostgreSQL server), imports them again (everything unchanged), then loads every
member with their organization and decides eligibility for all of them. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cli_args import positive_int
from report import Check, render_summary
from scratch_db import BenchError, databases

from sidecar.db.engine import make_engine, make_sessions
from sidecar.db.schema import upgrade
from sidecar.membership import csvformat
from sidecar.membership.collector import paused_collector
from sidecar.membership.eligibility import MembershipRules, decide
from sidecar.membership.importing import ImportReport, import_membership
from sidecar.membership.records import MemberRecord, MemberStatus, OrganizationRecord, OrganizationStatus
from sidecar.membership.repository import load_members, load_organizations
from sidecar.membership.source import CsvSource

TARGET_IMPORT_ROWS_PER_S = 20_000.0  # member rows per second, SQLite
TARGET_ELIGIBILITY_S = 2.0  # load and decide every member
TARGET_PEAK_MB = 300.0  # the whole process: generation, both imports, eligibility

AS_OF = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RULES = MembershipRules()


# --- data -------------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, choices: Sequence[tuple[float, str]]) -> str:
    roll = rng.random()
    for share, value in choices:
        if roll < share:
            return value
        roll -= share
    return choices[-1][1]


ORG_STATUSES = ((0.85, "active"), (0.10, "lapsed"), (0.05, "terminated"))
MEMBER_STATUSES = (
    (0.80, "active"),
    (0.08, "grace"),
    (0.04, "pending"),
    (0.05, "terminated"),
    (0.03, "deferred"),
)


def _paid_through(rng: random.Random) -> date | None:
    # Spread around the as-of date so every dues outcome (paid, in grace, unpaid, never) occurs.
    if rng.random() < 0.03:
        return None
    return AS_OF + timedelta(days=rng.randint(-120, 365))


def organizations(count: int, rng: random.Random) -> Iterator[OrganizationRecord]:
    for i in range(1, count + 1):
        domains = (f"org{i:05d}.example",) + ((f"org{i:05d}-mail.example",) if rng.random() < 0.3 else ())
        yield OrganizationRecord(
            f"ORG{i:05d}",
            f"Organization {i}",
            OrganizationStatus(_weighted(rng, ORG_STATUSES)),
            _paid_through(rng),
            domains,
        )


def members(count: int, organization_count: int, rng: random.Random) -> Iterator[MemberRecord]:
    for i in range(1, count + 1):
        individual = rng.random() < 0.10
        org = rng.randint(1, organization_count)
        domain = "home.example" if individual else f"org{org:05d}.example"
        emails = (f"m{i:06d}@{domain}",) + ((f"m{i:06d}@private.example",) if rng.random() < 0.4 else ())
        yield MemberRecord(
            f"M{i:06d}",
            None if individual else f"ORG{org:05d}",
            f"Member {i}",
            MemberStatus(_weighted(rng, MEMBER_STATUSES)),
            _paid_through(rng) if individual else None,
            tuple(sorted(emails)),
        )


def write_files(directory: Path, organization_count: int, member_count: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    orgs, people = directory / "organizations.csv", directory / "members.csv"
    with orgs.open("w", encoding="utf-8", newline="") as fh:
        csvformat.write_organizations(fh, organizations(organization_count, rng))
    with people.open("w", encoding="utf-8", newline="") as fh:
        csvformat.write_members(fh, members(member_count, organization_count, rng))
    return orgs, people


# --- databases --------------------------------------------------------------------------------------------


# --- measuring --------------------------------------------------------------------------------------------


@dataclass
class DatabaseResult:
    database: str
    organizations: int = 0
    members: int = 0
    import_seconds: float = 0.0
    import_rows_per_second: float = 0.0
    reimport_seconds: float = 0.0
    reimport_unchanged: int = 0
    running: EligibilityTiming | None = None  # the cyclic garbage collector running, as by default
    paused: EligibilityTiming | None = None  # the collector paused, as the members commands run
    reasons: dict[str, int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None


def _import(url: str, orgs: Path, people: Path) -> tuple[float, ImportReport]:
    engine = make_engine(url)
    sessions = make_sessions(engine)
    try:
        started = time.perf_counter()
        with paused_collector(), sessions.begin() as session:  # as `mug-sidecar members import` runs
            batch = CsvSource(organizations=orgs, members=people).read()
            report = import_membership(
                session,
                batch,
                rules=RULES,
                today=AS_OF,
                now=NOW,
                actor="bench",
                max_ineligible_share=1.0,
            )
        return time.perf_counter() - started, report
    finally:
        engine.dispose()


@dataclass
class EligibilityTiming:
    load_seconds: float
    decide_seconds: float
    total_seconds: float
    decisions_per_second: float
    reasons: dict[str, int]


def _eligibility(url: str, paused: bool) -> EligibilityTiming:
    """Load every member and organization and decide each member's eligibility as of AS_OF."""
    engine = make_engine(url)
    try:
        with paused_collector() if paused else nullcontext(), make_sessions(engine)() as session:
            started = time.perf_counter()
            organizations_by_id = load_organizations(session)
            everyone = load_members(session)
            loaded = time.perf_counter()
            reasons = Counter(
                decide(
                    m, organizations_by_id.get(m.org_id) if m.org_id is not None else None, RULES, AS_OF
                ).reason
                for m in everyone.values()
            )
            done = time.perf_counter()
    finally:
        engine.dispose()
    return EligibilityTiming(
        load_seconds=loaded - started,
        decide_seconds=done - loaded,
        total_seconds=done - started,
        decisions_per_second=sum(reasons.values()) / (done - loaded),
        reasons={str(reason): count for reason, count in reasons.most_common()},
    )


def bench_database(database: str, url: str, orgs: Path, people: Path, member_count: int) -> DatabaseResult:
    result = DatabaseResult(database)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    seconds, report = _import(url, orgs, people)
    result.organizations = report.plan.organizations.created
    result.members = report.plan.members.created
    result.import_seconds = seconds
    result.import_rows_per_second = result.members / seconds
    del report

    seconds, report = _import(url, orgs, people)
    result.reimport_seconds = seconds
    result.reimport_unchanged = report.plan.members.unchanged
    del report

    result.running = _eligibility(url, paused=False)
    result.paused = _eligibility(url, paused=True)
    result.reasons = result.running.reasons
    if result.members != member_count or result.reimport_unchanged != member_count:
        result.error = f"imported {result.members}, re-import unchanged {result.reimport_unchanged}"
    if database == "sqlite":
        result.checks.append(
            Check(
                f"import >= {TARGET_IMPORT_ROWS_PER_S:,.0f} rows/s",
                f"{result.import_rows_per_second:,.0f} rows/s",
                result.import_rows_per_second >= TARGET_IMPORT_ROWS_PER_S,
            )
        )
    # Judged with the collector running: a sweep or a report should not have to pause it to be quick.
    result.checks.append(
        Check(
            f"eligibility of {member_count:,} < {TARGET_ELIGIBILITY_S:g} s",
            f"{result.running.total_seconds:.2f} s",
            result.running.total_seconds < TARGET_ELIGIBILITY_S,
        )
    )
    return result


def peak_rss_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes; this benchmark runs on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- reporting --------------------------------------------------------------------------------------------


def render(result: DatabaseResult) -> str:
    lines = [
        f"== {result.database}: {result.organizations:,} organizations, {result.members:,} members",
        f"   import (collector paused, as `members import`)  {result.import_seconds:6.2f} s"
        f"  {result.import_rows_per_second:>9,.0f} member rows/s",
        f"   re-import, everything unchanged                {result.reimport_seconds:6.2f} s"
        f"  {result.reimport_unchanged:>9,} unchanged",
        f"   {'eligibility of everyone':<28} {'load s':>8} {'decide s':>9} {'total s':>8}"
        f" {'decisions/s':>12}",
    ]
    for label, timing in (("collector running", result.running), ("collector paused", result.paused)):
        if timing is not None:
            lines.append(
                f"     {label:<26} {timing.load_seconds:>8.2f} {timing.decide_seconds:>9.2f}"
                f" {timing.total_seconds:>8.2f} {timing.decisions_per_second:>12,.0f}"
            )
    lines.append(
        "   reasons: " + ", ".join(f"{reason} {count:,}" for reason, count in result.reasons.items())
    )
    if result.error:
        lines.append(f"   ERROR: {result.error}")
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (or, with --check, 1 when a target fails); 2 when a database run could not be completed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--organizations", type=positive_int, default=10_000, help="default 10,000")
    parser.add_argument("--members", type=positive_int, default=100_000, help="default 100,000")
    parser.add_argument("--seed", type=int, default=20261128, help="random seed of the generated files")
    parser.add_argument(
        "--database-url",
        help="also run on this PostgreSQL server, in a database created for the run and dropped after",
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also report Python's allocation peak (slows every timing)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    args = parser.parse_args(argv)

    if args.tracemalloc:
        tracemalloc.start()
    results: list[DatabaseResult] = []
    with tempfile.TemporaryDirectory(prefix="mug-bench-eligibility-") as tmp:
        directory = Path(tmp)
        print(
            f"generating {args.organizations:,} organizations, {args.members:,} members ...", file=sys.stderr
        )
        orgs, people = write_files(directory, args.organizations, args.members, args.seed)
        scratch = f"mug_bench_eligibility_{os.getpid()}"
        for database, opened in databases(f"sqlite:///{directory / 'bench.db'}", args.database_url, scratch):
            print(f"benchmarking {database} ...", file=sys.stderr, flush=True)
            try:
                with opened as url:
                    results.append(bench_database(database, url, orgs, people, args.members))
            except BenchError as exc:
                results.append(DatabaseResult(database, error=str(exc)))
    peak_mb = peak_rss_mb()
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None

    if traced_mb is None:
        checks = [(r.database, c) for r in results for c in r.checks]
        memory = Check(
            f"peak memory < {TARGET_PEAK_MB:g} MB", f"{peak_mb:.0f} MB (maxrss)", peak_mb < TARGET_PEAK_MB
        )
    else:
        # Tracing slows everything several times over and adds its own memory: only its peak is judged.
        checks = []
        memory = Check(
            f"peak memory < {TARGET_PEAK_MB:g} MB",
            f"{traced_mb:.0f} MB (tracemalloc)",
            traced_mb < TARGET_PEAK_MB,
        )
    checks.append(("process", memory))
    passed = all(c.passed for _, c in checks) and not any(r.error for r in results)
    if args.json:
        document = {
            "settings": {"organizations": args.organizations, "members": args.members, "seed": args.seed},
            "targets": {
                "import_rows_per_second": TARGET_IMPORT_ROWS_PER_S,
                "eligibility_seconds": TARGET_ELIGIBILITY_S,
                "peak_mb": TARGET_PEAK_MB,
            },
            "databases": [asdict(r) for r in results],
            "peak_rss_mb": round(peak_mb, 1),
            "tracemalloc_peak_mb": None if traced_mb is None else round(traced_mb, 1),
            "checks": [{"scope": scope, **asdict(c)} for scope, c in checks],
            "passed": passed,
        }
        print(json.dumps(document, indent=2))
    else:
        for result in results:
            print(render(result))
        if traced_mb is not None:
            print(f"== tracemalloc peak: {traced_mb:.0f} MB (timings above ran under tracemalloc)")
        print("\n".join(render_summary(checks, widths=(34, 20))))
    if any(r.error for r in results):
        return 2
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
