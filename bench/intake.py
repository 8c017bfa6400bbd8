"""Webhook intake benchmark: how fast the sidecar verifies and stores Discourse deliveries.

Run from the project root with the project's virtualenv::

    .venv/bin/python bench/intake.py [--database sqlite|postgresql|both] [--requests N] [--clients C]
                                     [--rate R] [--pg-admin-url URL] [--json] [--check]

For each database the sidecar and a no-op Flask app (``bench/noop_app.py``) are served in turn by the same
gunicorn command on 127.0.0.1. Phase A sends signed deliveries as fast as C keep-alive clients can (closed
loop) to both and compares throughput; phase B sends deliveries on a fixed open-loop schedule and reports
latency. Afterwards the ``deliveries`` table must hold exactly one row per "stored" answer. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests
import scratch_db
from cli_args import positive_float, positive_int
from report import Check, percentile
from report import render_summary as render_summary_rows
from scratch_db import BenchError
from sqlalchemy import create_engine, func, select, table
from sqlalchemy.engine import make_url

from webhooks.signature import sign

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's bin/, where gunicorn and mug-sidecar live

SIDECAR_APP = "sidecar.app:create_app()"
NOOP_APP = "bench.noop_app:create_app()"
WEBHOOK_PATH = "/webhooks/discourse"
HEALTH_PATH = "/healthz"
INSTANCE = "https://forum.example.org"
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

TARGET_RATIO = 0.50  # sidecar throughput / no-op throughput
TARGET_P99_MS = 25.0  # phase-B service latency p99
MIN_RATE_SHARE = 0.95  # phase B must actually reach this share of the asked rate to count

REQUEST_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.05
STOP_TIMEOUT_S = 15.0
PHASE_LIMIT_S = 600.0  # no phase runs longer than this, whatever N and the server do
OPEN_LOOP_LEAD_S = 0.2  # time for every client thread to be waiting before the first scheduled send
MAX_LOG_ISSUES = 10
_ISSUE_MARKERS = (
    "Traceback",
    "[ERROR]",
    "[CRITICAL]",
    "WORKER TIMEOUT",
    '"level": "error"',
    '"level": "warn',
)


# --- payloads ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedDelivery:
    """One signed request, built before the clock starts so the client does no hashing while measured."""

    headers: dict[str, str]
    body: bytes


_EPOCH = datetime(2026, 1, 3, 3, 52, 37, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _group(group_id: int, name: str, automatic: bool, user_count: int) -> dict[str, Any]:
    return {
        "id": group_id,
        "automatic": automatic,
        "name": name,
        "display_name": name,
        "user_count": user_count,
        "mentionable_level": 0,
        "messageable_level": 0,
        "visibility_level": 0,
        "primary_group": False,
        "title": None,
        "grant_trust_level": None,
        "has_messages": False,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_cooked": None,
        "public_admission": False,
        "allow_membership_requests": False,
        "full_name": None,
        "default_notification_level": 3,
        "members_visibility_level": 0,
    }


def _user_option(user_id: int, rng: random.Random) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "mailing_list_mode": False,
        "mailing_list_mode_frequency": 1,
        "email_digests": rng.random() < 0.7,
        "email_level": 1,
        "email_messages_level": 0,
        "external_links_in_new_tab": False,
        "dark_scheme_id": None,
        "dynamic_favicon": False,
        "enable_quoting": True,
        "enable_defer": False,
        "digest_after_minutes": 10080,
        "automatically_unpin_topics": True,
        "auto_track_topics_after_msecs": 240000,
        "notification_level_when_replying": 2,
        "new_topic_duration_minutes": 2880,
        "email_previous_replies": 2,
        "email_in_reply_to": True,
        "like_notification_frequency": 1,
        "include_tl0_in_digests": False,
        "theme_ids": [2],
        "theme_key_seq": 0,
        "allow_private_messages": True,
        "enable_allowed_pm_users": False,
        "homepage_id": None,
        "hide_profile_and_presence": False,
        "text_size": "normal",
        "text_size_seq": 0,
        "title_count_mode": "notifications",
        "timezone": "Europe/Zurich",
    }


def user_document(user_id: int, rng: random.Random) -> dict[str, Any]:
    """A ``user_updated`` body shaped like Discourse's (about 3 KB, a few dozen keys); unique per user id."""
    username = f"member{user_id}"
    created = _EPOCH + timedelta(seconds=user_id * 37)
    seen = created + timedelta(seconds=rng.randrange(1, 86_400), milliseconds=rng.randrange(1000))
    avatar = f"/letter_avatar_proxy/v4/letter/m/{rng.randrange(16**6):06x}/{{size}}.png"
    user: dict[str, Any] = {
        "id": user_id,
        "username": username,
        "name": f"Member {user_id}",
        "avatar_template": avatar,
        "email": f"{username}@example.org",
        "secondary_emails": [],
        "last_posted_at": _stamp(seen - timedelta(minutes=5)),
        "last_seen_at": _stamp(seen),
        "created_at": _stamp(created),
        "muted": False,
        "trust_level": rng.randrange(5),
        "moderator": False,
        "admin": False,
        "title": "",
        "badge_count": rng.randrange(20),
        "time_read": rng.randrange(100_000),
        "recent_time_read": rng.randrange(10_000),
        "primary_group_id": None,
        "primary_group_name": None,
        "flair_group_id": None,
        "flair_name": None,
        "featured_topic": None,
        "staged": False,
        "pending_count": 0,
        "profile_view_count": rng.randrange(500),
        "second_factor_enabled": False,
        "can_upload_profile_header": True,
        "can_upload_user_card_background": True,
        "post_count": rng.randrange(1000),
        "locale": "en",
        "muted_category_ids": [],
        "regular_category_ids": [],
        "watched_tags": [],
        "tracked_tags": [],
        "muted_tags": [],
        "tracked_category_ids": [],
        "watched_category_ids": [4, 7],
        "system_avatar_template": avatar,
        "muted_usernames": [],
        "can_mute_users": True,
        "ignored_usernames": [],
        "can_ignore_users": True,
        "allowed_pm_usernames": [],
        "mailing_list_posts_per_day": 0,
        "accepted_answers": 0,
        "featured_user_badge_ids": [],
        "invited_by": None,
        "groups": [
            _group(10, "trust_level_0", True, 812),
            _group(11, "trust_level_1", True, 640),
            _group(41, "members", False, 377),
        ],
        "user_option": _user_option(user_id, rng),
    }
    return {"user": user}


class DeliveryFactory:
    """Hands out signed deliveries with increasing event ids, so no two of one server run are duplicates."""

    def __init__(self, secret: bytes, seed: int = 20260103) -> None:
        self._secret = secret
        self._rng = random.Random(seed)
        self._next_id = 1

    def take(self, count: int) -> list[PreparedDelivery]:
        batch = [self._make(self._next_id + i) for i in range(count)]
        self._next_id += count
        return batch

    def _make(self, event_id: int) -> PreparedDelivery:
        body = json.dumps(user_document(event_id, self._rng), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Discourse-Instance": INSTANCE,
            "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": "user",
            "X-Discourse-Event": "user_updated",
            "X-Discourse-Event-Signature": sign(self._secret, body),
        }
        return PreparedDelivery(headers=headers, body=body)


# --- measuring --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: latency from the actual send, and (open loop only) from its scheduled send time."""

    service_s: float
    scheduled_s: float | None
    ok: bool
    finished_at: float


@dataclass(frozen=True)
class PhaseResult:
    name: str
    target: str  # "closed" or "<rate>/s"
    planned: int
    sent: int
    ok: int
    errors: int  # non-200, unexpected body, transport failure, or never sent before the time limit
    seconds: float
    rate: float  # successful requests per second
    p50_ms: float | None  # None when nothing was sent
    p99_ms: float | None
    max_ms: float | None
    scheduled_p50_ms: float | None = None
    scheduled_p99_ms: float | None = None
    server_cpu_ms: float | None = None  # CPU the server's processes spent per request sent (Linux only)
    error_examples: list[str] = field(default_factory=list)


Expect = Callable[[requests.Response], bool]


def expect_status(value: str) -> Expect:
    """A check that the answer is 200 with JSON ``{"status": value, ...}``."""

    def check(response: requests.Response) -> bool:
        if response.status_code != 200:
            return False
        try:
            document = response.json()
        except ValueError:
            return False
        return isinstance(document, dict) and document.get("status") == value

    return check


class Recorder:
    """Collects samples and a few error descriptions from many client threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[str] = []

    def add(self, sample: Sample, error: str | None) -> None:
        with self._lock:
            self.samples.append(sample)
            if error is not None and len(self.errors) < 5:
                self.errors.append(error)

    def snapshot(self) -> tuple[list[Sample], list[str]]:
        with self._lock:
            return list(self.samples), list(self.errors)


def _send(
    session: requests.Session, url: str, delivery: PreparedDelivery, expect: Expect
) -> tuple[float, float, str | None]:
    """POST one delivery; returns (sent_at, finished_at, error or None)."""
    sent_at = time.perf_counter()
    try:
        response = session.post(url, data=delivery.body, headers=delivery.headers, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException as exc:
        return sent_at, time.perf_counter(), f"{type(exc).__name__}: {exc}"[:200]
    finished_at = time.perf_counter()
    if expect(response):
        return sent_at, finished_at, None
    return sent_at, finished_at, f"HTTP {response.status_code}: {response.text[:160]!r}"


def _run_threads(clients: int, target: Callable[[int], None], limit_s: float) -> None:
    """Run ``target(i)`` on ``clients`` daemon threads and wait for them, never longer than ``limit_s``."""
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + limit_s
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def run_closed_loop(
    name: str, url: str, deliveries: Sequence[PreparedDelivery], clients: int, expect: Expect
) -> PhaseResult:
    """Send every delivery as fast as ``clients`` threads can, each waiting for its answer before the next."""
    recorder = Recorder()
    next_index = iter(range(len(deliveries)))
    index_lock = threading.Lock()
    stop_at = time.perf_counter() + PHASE_LIMIT_S

    def client(_: int) -> None:
        with requests.Session() as session:
            while time.perf_counter() < stop_at:
                with index_lock:
                    index = next(next_index, None)
                if index is None:
                    return
                sent_at, finished_at, error = _send(session, url, deliveries[index], expect)
                recorder.add(Sample(finished_at - sent_at, None, error is None, finished_at), error)

    started = time.perf_counter()
    _run_threads(clients, client, PHASE_LIMIT_S + REQUEST_TIMEOUT_S + 5)
    return _summarise(name, "closed", len(deliveries), recorder, started)


def run_open_loop(
    name: str, url: str, deliveries: Sequence[PreparedDelivery], clients: int, rate: float, expect: Expect
) -> PhaseResult:
    """Send delivery k at ``start + k / rate`` whatever happened to earlier ones (an open-loop schedule).

    Delivery k goes to thread ``k % clients``. A thread still waiting for an earlier answer sends late; the
    service latency (from the actual send) then hides that wait, the scheduled latency includes it.
    """
    recorder = Recorder()
    start = time.perf_counter() + OPEN_LOOP_LEAD_S
    stop_at = start + len(deliveries) / rate + PHASE_LIMIT_S

    def client(offset: int) -> None:
        with requests.Session() as session:
            for index in range(offset, len(deliveries), clients):
                scheduled = start + index / rate
                pause = scheduled - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                if time.perf_counter() > stop_at:
                    return
                sent_at, finished_at, error = _send(session, url, deliveries[index], expect)
                sample = Sample(finished_at - sent_at, finished_at - scheduled, error is None, finished_at)
                recorder.add(sample, error)

    _run_threads(clients, client, stop_at - time.perf_counter() + REQUEST_TIMEOUT_S + 5)
    return _summarise(name, f"{rate:g}/s", len(deliveries), recorder, start)


def _summarise(name: str, target: str, planned: int, recorder: Recorder, started: float) -> PhaseResult:
    samples, examples = recorder.snapshot()
    ok = sum(1 for s in samples if s.ok)
    ended = max((s.finished_at for s in samples), default=started)
    seconds = max(ended - started, 1e-9)
    service = [s.service_s * 1000 for s in samples]
    scheduled = [s.scheduled_s * 1000 for s in samples if s.scheduled_s is not None]
    return PhaseResult(
        name=name,
        target=target,
        planned=planned,
        sent=len(samples),
        ok=ok,
        errors=planned - ok,
        seconds=round(seconds, 3),
        rate=round(ok / seconds, 1),
        p50_ms=percentile(service, 50),
        p99_ms=percentile(service, 99),
        max_ms=percentile(service, 100),
        scheduled_p50_ms=percentile(scheduled, 50),
        scheduled_p99_ms=percentile(scheduled, 99),
        error_examples=examples,
    )


# --- servers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    workers: int
    threads: int


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it; gunicorn binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def log_issues(path: Path) -> list[str]:
    """Lines of a server log that suggest trouble (tracebacks, errors, worker timeouts, warnings)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found = [line.strip()[:300] for line in text.splitlines() if any(m in line for m in _ISSUE_MARKERS)]
    return found[:MAX_LOG_ISSUES]


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll ``url`` until it answers 200, the server dies, or READY_TIMEOUT_S passes."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"server exited with {process.returncode} before it was ready:\n{_log_tail(log_path)}"
            )
        try:
            if requests.get(url, timeout=1.0).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(READY_POLL_S)
    raise BenchError(f"server not ready after {READY_TIMEOUT_S:g}s:\n{_log_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn's whole process group: SIGTERM for a graceful exit, SIGKILL if that takes too long."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    process_group: int


def server_cpu_seconds(process_group: int) -> float | None:
    """User + system CPU of every live process in the group, from /proc; None where there is no /proc.

    On a small machine the client and the server share the cores, so CPU per request says more about the
    server's cost than throughput alone.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[2]) == process_group:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def measured(server: RunningServer, phase: Callable[[], PhaseResult]) -> PhaseResult:
    """Run ``phase`` and attach the server's CPU time per request sent."""
    before = server_cpu_seconds(server.process_group)
    result = phase()
    after = server_cpu_seconds(server.process_group)
    if before is None or after is None or result.sent == 0:
        return result
    return replace(result, server_cpu_ms=round((after - before) / result.sent * 1000, 2))


@contextmanager
def serving(
    app: str, env: dict[str, str], settings: ServerSettings, log_path: Path
) -> Iterator[RunningServer]:
    """Serve ``app`` with gunicorn (gthread) on a free 127.0.0.1 port, yield its base URL, always stop it."""
    port = free_port()
    command = [
        str(BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(settings.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(settings.threads),
        "--chdir",
        str(ROOT),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base + HEALTH_PATH, log_path)
        yield RunningServer(base_url=base, process_group=process.pid)
    finally:
        _stop(process)


# --- databases --------------------------------------------------------------------------------------------


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'bench.db'}"


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    """A fresh database on the admin URL's server for this run, dropped afterwards."""
    return scratch_db.postgres_database(admin_url, f"mug_bench_{os.getpid()}")


def server_env(database_url: str, state_dir: Path, secret: str) -> dict[str, str]:
    """The servers' environment: ours minus any MUG_* the caller had set, plus the bench configuration."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MUG_")}
    env.update(
        MUG_DATABASE_URL=database_url,
        MUG_FORUM_WEBHOOK_SECRET=secret,
        MUG_SERVER_STATE_DIR=str(state_dir),
        MUG_LOGGING_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )
    return env


def upgrade_schema(env: dict[str, str]) -> None:
    """Create the schema the way an operator would, so the bench serves the same tables as production."""
    result = subprocess.run(
        [str(BIN / "mug-sidecar"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(
            f"mug-sidecar db upgrade failed ({result.returncode}): {result.stderr.strip()[-500:]}"
        )


def count_deliveries(database_url: str) -> int:
    """Rows in ``deliveries``, read on a fresh connection after the servers stopped: what really persisted."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table("deliveries"))).scalar_one())
    finally:
        engine.dispose()


# --- one database -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    databases: list[str]
    requests: int
    clients: int
    rate: float
    duration: float
    warmup: int
    pg_admin_url: str
    server: ServerSettings


@dataclass
class DatabaseResult:
    database: str
    url: str = ""
    # The 1-minute load average when the run began: other work on the host skews every figure.
    load_before: float | None = None
    error: str | None = None
    body_bytes: int = 0
    phases: list[PhaseResult] = field(default_factory=list)
    throughput_ratio: float | None = None
    stored_responses: int = 0
    delivery_rows: int | None = None
    server_log_issues: dict[str, list[str]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


def _phase_b_count(options: Options) -> int:
    return max(1, min(options.requests, round(options.rate * options.duration)))


def _measure_noop(options: Options, env: dict[str, str], workdir: Path, result: DatabaseResult) -> None:
    """Baseline: warm-up, phase A and (for reference) phase B against the no-op app."""
    factory = DeliveryFactory(env["MUG_FORUM_WEBHOOK_SECRET"].encode())
    warmup, closed, opened = (
        factory.take(n) for n in (options.warmup, options.requests, _phase_b_count(options))
    )
    expect = expect_status("ok")
    log_path = workdir / "noop.log"
    with serving(NOOP_APP, env, options.server, log_path) as server:
        url = server.base_url + WEBHOOK_PATH
        run_closed_loop("warm-up", url, warmup, options.clients, expect)
        phase_a = measured(server, lambda: run_closed_loop("A noop", url, closed, options.clients, expect))
        phase_b = measured(
            server, lambda: run_open_loop("B noop", url, opened, options.clients, options.rate, expect)
        )
    result.phases += [phase_a, phase_b]
    result.server_log_issues["noop"] = log_issues(log_path)


def _measure_sidecar(options: Options, env: dict[str, str], workdir: Path, result: DatabaseResult) -> None:
    """The real thing: warm-up, phase A and phase B against the sidecar; counts every "stored" answer."""
    factory = DeliveryFactory(env["MUG_FORUM_WEBHOOK_SECRET"].encode())
    warmup, closed, opened = (
        factory.take(n) for n in (options.warmup, options.requests, _phase_b_count(options))
    )
    result.body_bytes = round(sum(len(d.body) for d in closed) / max(1, len(closed)))
    expect = expect_status("stored")
    log_path = workdir / "sidecar.log"
    with serving(SIDECAR_APP, env, options.server, log_path) as server:
        url = server.base_url + WEBHOOK_PATH
        warm = run_closed_loop("warm-up", url, warmup, options.clients, expect)
        phase_a = measured(server, lambda: run_closed_loop("A sidecar", url, closed, options.clients, expect))
        phase_b = measured(
            server, lambda: run_open_loop("B sidecar", url, opened, options.clients, options.rate, expect)
        )
    result.phases += [phase_a, phase_b]
    result.stored_responses = warm.ok + phase_a.ok + phase_b.ok
    result.server_log_issues["sidecar"] = log_issues(log_path)


def bench_database(database: str, options: Options) -> DatabaseResult:
    """Everything for one database, in a temp dir that holds the SQLite file, state dir and server logs."""
    result = DatabaseResult(database=database, load_before=_load_average())
    try:
        with tempfile.TemporaryDirectory(prefix="mug-bench-") as tmp:
            workdir = Path(tmp)
            target = (
                sqlite_database(workdir) if database == "sqlite" else postgres_database(options.pg_admin_url)
            )
            with target as url:
                result.url = make_url(url).render_as_string(hide_password=True)
                env = server_env(url, workdir / "state", secrets.token_urlsafe(24))
                upgrade_schema(env)
                _measure_noop(options, env, workdir, result)
                _measure_sidecar(options, env, workdir, result)
                result.delivery_rows = count_deliveries(url)
    except (BenchError, OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        result.error = str(exc)
    result.throughput_ratio = _ratio(result)
    result.checks = _checks(result, options)
    return result


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _phase(result: DatabaseResult, name: str) -> PhaseResult | None:
    return next((p for p in result.phases if p.name == name), None)


def _ratio(result: DatabaseResult) -> float | None:
    noop, sidecar = _phase(result, "A noop"), _phase(result, "A sidecar")
    if noop is None or sidecar is None or noop.rate <= 0:
        return None
    return round(sidecar.rate / noop.rate, 3)


def _checks(result: DatabaseResult, options: Options) -> list[Check]:
    ratio = result.throughput_ratio
    checks = [
        Check(
            f"throughput ratio >= {TARGET_RATIO:.2f}",
            "n/a" if ratio is None else f"{ratio:.2f}",
            ratio is not None and ratio >= TARGET_RATIO,
        )
    ]
    phase_b = _phase(result, "B sidecar")
    if phase_b is None:
        checks.append(Check(f"phase-B p99 < {TARGET_P99_MS:g} ms at {options.rate:g}/s", "n/a", False))
    else:
        p99 = phase_b.p99_ms
        reached = phase_b.rate >= MIN_RATE_SHARE * options.rate
        value = f"{_fmt(p99)} ms, {phase_b.rate:g}/s, {phase_b.errors} err"
        passed = p99 is not None and p99 < TARGET_P99_MS and reached and phase_b.errors == 0
        checks.append(Check(f"phase-B p99 < {TARGET_P99_MS:g} ms at {options.rate:g}/s", value, passed))
    rows = result.delivery_rows
    checks.append(
        Check(
            "deliveries rows == stored answers",
            "n/a" if rows is None else f"{rows} / {result.stored_responses}",
            rows is not None and rows == result.stored_responses,
        )
    )
    return checks


# --- reporting --------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_database(result: DatabaseResult, options: Options) -> str:
    server = options.server
    lines = [
        f"== {result.database}: {result.url or '(no database)'}",
        f"   gunicorn gthread {server.workers} workers x {server.threads} threads, {options.clients} clients,"
        f" body ~{result.body_bytes} B, {os.cpu_count()} cores, load average {_fmt(result.load_before, 2)}"
        " at start",
    ]
    if result.phases:
        header = (
            f"   {'phase':<10} {'target':>8} {'sent':>6} {'ok':>6} {'err':>5} {'req/s':>8} "
            f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'sched p50':>9} {'sched p99':>9} {'cpu/req':>8}"
        )
        lines += [header, "   " + "-" * (len(header) - 3)]
        for p in result.phases:
            lines.append(
                f"   {p.name:<10} {p.target:>8} {p.sent:>6} {p.ok:>6} {p.errors:>5} {p.rate:>8.1f} "
                f"{_fmt(p.p50_ms):>7} {_fmt(p.p99_ms):>7} {_fmt(p.max_ms):>7} "
                f"{_fmt(p.scheduled_p50_ms):>9} {_fmt(p.scheduled_p99_ms):>9} {_fmt(p.server_cpu_ms, 2):>8}"
            )
            lines += [f"      error: {e}" for e in p.error_examples]
    lines.append(f"   sidecar/noop throughput: {_fmt(result.throughput_ratio, 2)}")
    lines.append(
        f"   deliveries rows: {_fmt_opt(result.delivery_rows)}, stored answers: {result.stored_responses}"
    )
    for server_name, issues in result.server_log_issues.items():
        lines += [f"   {server_name} log: {issue}" for issue in issues]
    if result.error:
        lines.append(f"   ERROR: {result.error}")
    return "\n".join(lines)


def _fmt_opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def render_summary(results: Sequence[DatabaseResult]) -> str:
    checks = [(result.database, check) for result in results for check in result.checks]
    return "\n".join(render_summary_rows(checks, widths=(36, 32)))


def to_json(results: Sequence[DatabaseResult], options: Options) -> str:
    document = {
        "settings": asdict(options),
        "targets": {"throughput_ratio": TARGET_RATIO, "phase_b_p99_ms": TARGET_P99_MS},
        "databases": [asdict(r) for r in results],
        "passed": all_passed(results),
    }
    return json.dumps(document, indent=2)


def all_passed(results: Sequence[DatabaseResult]) -> bool:
    return all(r.error is None and all(c.passed for c in r.checks) for r in results)


# --- command line -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> tuple[Options, bool, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--requests", type=positive_int, default=3000, help="deliveries in phase A (default 3000)"
    )
    parser.add_argument("--clients", type=positive_int, default=8, help="client threads (default 8)")
    parser.add_argument(
        "--rate", type=positive_float, default=200.0, help="phase-B rate per second (default 200)"
    )
    parser.add_argument("--duration", type=positive_float, default=10.0, help="phase-B seconds (default 10)")
    parser.add_argument("--warmup", type=positive_int, default=100, help="uncounted warm-up requests")
    parser.add_argument("--workers", type=positive_int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=positive_int, default=8, help="threads per worker (default 8)")
    parser.add_argument(
        "--pg-admin-url", default=DEFAULT_PG_ADMIN_URL, help="server to create the bench db on"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    args = parser.parse_args(argv)
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    options = Options(
        databases=databases,
        requests=args.requests,
        clients=args.clients,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        pg_admin_url=args.pg_admin_url,
        server=ServerSettings(workers=args.workers, threads=args.threads),
    )
    return options, args.json, args.check


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (or, with --check, 1 when a target fails); 2 when a database run could not be completed."""
    options, as_json, check = parse_args(argv)
    results: list[DatabaseResult] = []
    for database in options.databases:
        print(f"benchmarking {database} ...", file=sys.stderr, flush=True)
        result = bench_database(database, options)
        results.append(result)
        if not as_json:
            print(render_database(result, options), flush=True)
    if as_json:
        print(to_json(results, options))
    else:
        print(render_summary(results))
    if any(r.error for r in results):
        return 2
    return 1 if check and not all_passed(results) else 0


if __name__ == "__main__":
    sys.exit(main())
