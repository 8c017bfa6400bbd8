"""Sensitive-information warnings end to end: post_created webhooks through intake and worker to the forum.

Run from the project root with the project's virtualenv::

    .venv/bin/python bench/posts.py [--posts N] [--findings-share S] [--senders K] [--rate R]
                                    [--texts corpus|short] [--seed S] [--database-url URL]
                                    [--worker process|thread|standalone] [--profile [--profile-out FILE]]
                                    [--every-event]
                                    [--json] [--check]

The Discourse simulator runs in a process of its own (the forum is another system): it serves its API on
127.0.0.1 with its rate limit lifted and sends its webhooks, signed, to the sidecar, for the events the README
tells an admin to subscribe to (--every-event: all of them). The sidecar runs as
``mug-sidecar serve`` runs it: the web app under waitress and its worker in a child process, woken by the
intake (``--worker thread``: a thread of the web app's process, as with ``worker.separate_process = false``;
``--worker standalone``: ``mug-sidecar worker``, which polls, beside ``serve --no-worker``), on a fresh
SQLite database (and, with --database-url, then on a fresh database on that PostgreSQL server). Forum users
write N posts, a share of them with something the scanner reports (a card number, a password in a
configuration, a phone number...); each ``post_created`` goes through intake and worker, and the worker
warns the authors.

Measured: end-to-end throughput (posts over the time from the first delivery received to the last one
finished), intake and worker rates apart, the time from a post's delivery to its author's private message,
and the forum calls per post with and without findings, read from the simulator's request log. See
README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import functools
import http.client
import json
import logging
import multiprocessing
import os
import pstats
import random
import re
import resource
import secrets
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cli_args import positive_float, positive_int
from report import Check, percentile, render_summary
from scratch_db import BenchError, databases
from sqlalchemy import select
from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from sidecar.app import create_app
from sidecar.config import Config, DatabaseConfig, ForumConfig, ScanningConfig, ServerConfig
from sidecar.db.models import Delivery, DeliveryStatus, PostFinding, PostScan
from sidecar.db.schema import upgrade
from sidecar.forum.factory import build_forum
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.jobs.doorbell import Doorbell
from sidecar.jobs.process import WorkerProcess, spawn_context
from sidecar.jobs.worker import Worker
from sidecar.logs import configure_logging
from sidecar.runtime import Runtime, build_runtime
from sidecar.scanner.cli import build_scanner
from webhooks.dispatch import make_processor
from webhooks.handlers import build_registry

ROOT = Path(__file__).resolve().parent.parent

TARGET_POSTS_PER_SECOND = 300.0  # end to end, SQLite
WEBHOOK_PATH = "/webhooks/discourse"
API_USERNAME = "system"
MAX_POST_LENGTH = 32_000  # Discourse's max_post_length: the forum refuses longer posts
POOL_MIN, POOL_MAX = 400, 2000  # texts generated and scanned once, then reused across the posts
CLEAN_AUTHORS = 200  # clean posts are spread over these; each post with findings has an author of its own
TOPICS = 100
INTAKE_THREADS = ServerConfig().threads  # as `mug-sidecar serve` runs waitress
SETTLE_POLL_S = 0.1
PROGRESS_EVERY_S = 10.0
FORUM_CALL_TIMEOUT_S = 120.0
PROFILE_ROWS = 25
MAX_LOG_ISSUES = 10
_ISSUE_MARKERS = ("Traceback", '"level": "error"', '"level": "warn', '"level": "critical"')


# --- the texts ------------------------------------------------------------------------------------------


@dataclass
class Texts:
    """Post texts the scanner was run on once: clean ones, and ones whose findings call for a message."""

    source: str
    generated: int
    clean: list[str]
    findings: list[str]
    flagged: list[bool]  # per findings text: one of its findings calls for a flag too
    left_out: dict[str, int]  # texts of the pool not used, by reason
    scan_ms_clean: float  # the scanner alone, mean per text
    scan_ms_findings: float
    chars_clean: float  # mean length
    chars_findings: float


def _luhn_complete(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


_CLEAN_LINES = (
    "Thanks, that did it. After the firmware update the handsets registered again on the first try.",
    "We moved our trunk to the new provider last month and call quality has been fine since.",
    "Has anyone tried the {model} with the new release? Ours reboots every night at 03:00.",
    "The echo went away once we set the jitter buffer to adaptive and disabled comfort noise.",
    "Our board meets on the second Tuesday; the minutes from last time are in the shared folder.",
    "I'd check the codec order first: the carrier only offers G.711 and the phone asks for G.722.",
)
_MODELS = ("T54W", "VVX 450", "SPA504G", "D865", "CP-8845")


def builtin_posts(seed: int, count: int) -> list[str]:
    """A small stand-in for bench/corpus: short prose, a fifth of it with a card, a password or a phone."""
    rng = random.Random(seed)
    posts = []
    for _ in range(count):
        lines = [rng.choice(_CLEAN_LINES).format(model=rng.choice(_MODELS)) for _ in range(rng.randint(2, 6))]
        kind = rng.randrange(15)
        if kind == 0:
            card = _luhn_complete("4" + "".join(str(rng.randrange(10)) for _ in range(14)))
            lines.append(f"They charged my card {card[:4]} {card[4:8]} {card[8:12]} {card[12:]} twice.")
        elif kind == 1:
            word = "".join(rng.choice("abcdefghkmnpqrstuvwxyz23456789") for _ in range(12))
            lines.append(f"My config:\n\n```\n[trunk]\nusername=office\npassword={word}\n```")
        elif kind == 2:
            number = f"+41 79 {rng.randint(200, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            lines.append(f"Call me on my mobile {number} after six.")
        posts.append("\n\n".join(lines))
    return posts


def corpus_posts(seed: int, count: int, kind: str) -> tuple[str, list[str]]:
    """Posts of bench/corpus (labelled for the scanner's evaluation), or the short stand-in above: asked for
    (``kind`` "short"), or when bench/corpus is not there."""
    if kind == "short":
        return "short posts of the built-in generator", builtin_posts(seed, count)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        from bench.corpus.generate import generate
    except ImportError:
        return "built-in generator (bench/corpus not found)", builtin_posts(seed, count)
    return f"bench/corpus, seed {seed}", [post["raw"] for post in generate(seed, count)]


def choose_texts(config: Config, seed: int, pool: int, kind: str = "corpus") -> Texts:
    """Generate ``pool`` texts and sort them by what the sidecar's scanner (built from ``config``) finds."""
    source, raws = corpus_posts(seed, pool, kind)
    scanner = build_scanner(config)
    actions = config.scanning.actions
    clean: list[str] = []
    findings: list[str] = []
    flagged: list[bool] = []
    left_out: Counter[str] = Counter()
    seconds = {"clean": 0.0, "findings": 0.0}
    for raw in raws:
        if len(raw) > MAX_POST_LENGTH:
            left_out["longer than max_post_length"] += 1
            continue
        started = time.perf_counter()
        found = scanner.scan(raw)
        took = time.perf_counter() - started
        severities = {f.severity for f in found}
        if not found:
            clean.append(raw)
            seconds["clean"] += took
        elif any("pm" in getattr(actions, s) for s in severities):
            findings.append(raw)
            flagged.append(any("flag" in getattr(actions, s) for s in severities))
            seconds["findings"] += took
        else:
            left_out["findings that call for no message"] += 1
    if not clean or not findings:
        raise BenchError(f"{source}: {len(clean)} clean texts and {len(findings)} with findings in {pool}")
    return Texts(
        source=source,
        generated=len(raws),
        clean=clean,
        findings=findings,
        flagged=flagged,
        left_out=dict(left_out),
        scan_ms_clean=round(seconds["clean"] / len(clean) * 1000, 3),
        scan_ms_findings=round(seconds["findings"] / len(findings) * 1000, 3),
        chars_clean=round(sum(map(len, clean)) / len(clean), 1),
        chars_findings=round(sum(map(len, findings)) / len(findings), 1),
    )


# --- the plan -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    author: str
    topic: int  # index into the forum's topics
    text: int  # index into Texts.clean or Texts.findings
    findings: bool


def make_plan(texts: Texts, posts: int, share: float, seed: int) -> list[Planned]:
    """Posts in a seeded random order; texts used in turn; every post with findings by an author of its own
    (one message per author per ``scanning.pm_window_minutes`` would otherwise hold warnings back)."""
    rng = random.Random(seed)
    with_findings = set(rng.sample(range(posts), round(posts * share)))
    clean_order = list(range(len(texts.clean)))
    findings_order = list(range(len(texts.findings)))
    rng.shuffle(clean_order)
    rng.shuffle(findings_order)
    plan = []
    clean_seen = findings_seen = 0
    for index in range(posts):
        topic = rng.randrange(TOPICS)
        if index in with_findings:
            text = findings_order[findings_seen % len(findings_order)]
            plan.append(Planned(f"writer{findings_seen:05d}", topic, text, True))
            findings_seen += 1
        else:
            text = clean_order[clean_seen % len(clean_order)]
            plan.append(Planned(f"member{rng.randrange(CLEAN_AUTHORS):04d}", topic, text, False))
            clean_seen += 1
    return plan


# --- the forum, in a process of its own ------------------------------------------------------------------


@dataclass(frozen=True)
class ForumSettings:
    api_key: str
    webhook_url: str
    webhook_secret: str
    senders: int
    events: tuple[str, ...] | None  # the hook's subscription; None: every event


@dataclass(frozen=True)
class ForumFailure:
    text: str


@dataclass
class ForumReport:
    """What the forum saw after setup: API requests, private messages, flags, webhooks, its CPU time."""

    requests: list[tuple[datetime, str, str, int]]  # at, method, path, status
    messages: list[tuple[datetime, int, list[int]]]  # PM topics: created_at, author id, allowed user ids
    flags: list[tuple[datetime, int]]  # created_at, post id
    emitted: dict[str, int]  # deliveries queued, by event name
    send_failures: int  # deliveries whose answer was not 2xx (or no answer)
    cpu_seconds: float


class ForumSide:
    """The simulator and its webhook senders; the parent drives it through ``handle``."""

    def __init__(self, settings: ForumSettings) -> None:
        self.sim = DiscourseSimulator(
            api_key=settings.api_key,
            webhook_secret=settings.webhook_secret,
            must_approve_users=False,
            rate_limit=10**9,  # lifted: the sidecar's own budget is what a real forum's limit protects
        )
        # No webhook URL yet, so start_background starts no sending thread of its own: K senders below.
        self.running = start_background(self.sim)
        self.sim.webhooks.configure(
            url=settings.webhook_url, events=settings.events, every_event=settings.events is None
        )
        self.stop = threading.Event()
        self.senders = [
            threading.Thread(target=self._send, name=f"webhooks-{n}", daemon=True)
            for n in range(settings.senders)
        ]
        for sender in self.senders:
            sender.start()
        self.users: dict[str, int] = {}
        self.topics: list[int] = []
        self.marks = (0, 0, 0, 0)

    def _send(self) -> None:
        """Deliver from the simulator's outbox, as Discourse's background jobs do, several at once.

        Over one kept-alive ``http.client`` connection per sender: ``requests`` cost the forum process more
        CPU per delivery than the sidecar spent storing it, and on this host the two share the cores (a real
        forum runs elsewhere)."""
        connection: http.client.HTTPConnection | None = None

        def post(url: str, headers: dict[str, str], body: bytes) -> int:
            nonlocal connection
            target = urlsplit(url)
            if connection is None:
                connection = http.client.HTTPConnection(target.netloc, timeout=20.0)
            try:
                connection.request("POST", target.path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = None  # a fresh connection for the next delivery; this one is recorded failed
                raise
            return response.status

        while not self.stop.is_set():
            if self.sim.webhooks.deliver_next(post) is None:
                self.stop.wait(0.002)
        if connection is not None:
            connection.close()

    def handle(self, command: str, argument: Any) -> Any:
        match command:
            case "setup":
                return self.setup(argument)
            case "write":
                return self.write(*argument)
            case "idle":
                return self.sim.webhooks.flush(timeout=0)
            case "report":
                return self.report()
        raise ValueError(f"unknown command {command!r}")

    def setup(self, usernames: Sequence[str]) -> dict[str, int]:
        """Authors and topics, made before the sidecar watches (no webhook)."""
        sim = self.sim
        with sim.quietly():
            admin = sim.find_user(username="admin")
            assert admin is not None
            for name in usernames:
                self.users[name] = sim.create_user(name, f"{name}@members.example", emit=False).id
            for n in range(TOPICS):
                title = f"Bench topic number {n + 1} about phones and trunks"
                post = sim.write_post(
                    admin.id, "The first post of a topic the benchmark writes in.", title=title
                )
                self.topics.append(post.topic_id)
        with sim.lock:
            self.marks = (len(sim.requests), max(sim.topics), len(sim.flags), len(sim.webhooks.history))
        return self.users

    def write(self, rows: Sequence[tuple[str, int, str]], rate: float | None) -> list[tuple[int, datetime]]:
        """Write the posts (author, topic index, text), at ``rate`` a second or as fast as possible."""
        written = []
        started = time.perf_counter()
        for index, (author, topic, raw) in enumerate(rows):
            if rate:
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            post = self.sim.write_post(self.users[author], raw, topic_id=self.topics[topic])
            written.append((post.id, post.created_at))
        return written

    def report(self) -> ForumReport:
        sim = self.sim
        requests_mark, topic_mark, flags_mark, history_mark = self.marks
        with sim.lock:
            received = [(r.at, r.method, r.path, r.status) for r in sim.requests[requests_mark:]]
            messages = [
                (t.created_at, t.user_id, list(t.allowed_user_ids))
                for t in sim.topics.values()
                if t.id > topic_mark and t.is_private_message
            ]
            flags = [(f.created_at, f.post_id) for f in list(sim.flags.values())[flags_mark:]]
        history = sim.webhooks.events()[history_mark:]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return ForumReport(
            requests=received,
            messages=messages,
            flags=flags,
            emitted=dict(Counter(d.event_name for d in history).most_common()),
            send_failures=sum(1 for d in history if not d.delivered),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )

    def close(self) -> None:
        self.stop.set()
        for sender in self.senders:
            sender.join(timeout=10)
        self.running.stop()


def forum_process(conn: Connection, settings: ForumSettings) -> None:
    """The child process: answer the parent's commands until it says stop."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request on the terminal
    side = ForumSide(settings)
    conn.send(side.running.url)
    try:
        while True:
            command, argument = conn.recv()
            if command == "stop":
                break
            try:
                conn.send(side.handle(command, argument))
            except Exception:  # noqa: BLE001 -- reported to the parent, which stops the run
                conn.send(ForumFailure(traceback.format_exc()))
    finally:
        side.close()
        conn.close()


class Forum:
    """The parent's handle on the forum process."""

    def __init__(self, settings: ForumSettings) -> None:
        context = multiprocessing.get_context("spawn")  # the parent has threads: no fork
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=forum_process, args=(child, settings), name="forum", daemon=True
        )
        self._process.start()
        child.close()
        self.url: str = self._receive(FORUM_CALL_TIMEOUT_S)

    def _receive(self, timeout: float) -> Any:
        if not self._conn.poll(timeout):
            raise BenchError(f"the forum process did not answer within {timeout:.0f} s")
        try:
            reply = self._conn.recv()
        except EOFError:
            raise BenchError("the forum process ended") from None
        if isinstance(reply, ForumFailure):
            raise BenchError(f"the forum process failed:\n{reply.text}")
        return reply

    def call(self, command: str, argument: Any = None, timeout: float = FORUM_CALL_TIMEOUT_S) -> Any:
        self._conn.send((command, argument))
        return self._receive(timeout)

    def stop(self) -> None:
        with suppress(OSError):
            self._conn.send(("stop", None))
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._conn.close()


# --- the sidecar ------------------------------------------------------------------------------------------


class Intake:
    """The web app under waitress, as ``mug-sidecar serve`` runs it, on 127.0.0.1 (any free port)."""

    def __init__(self, runtime: Runtime) -> None:
        self._map: dict[int, Any] = {}
        server = create_server(
            create_app(runtime=runtime), host="127.0.0.1", port=0, threads=INTAKE_THREADS, map=self._map
        )
        assert isinstance(server, TcpWSGIServer)
        self._server = server
        host, port = server.getsockname()
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=server.run, name="intake", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.task_dispatcher.shutdown()
        # Closed from the server's own loop: its map empties and run() returns. (The stubs call the
        # trigger an int.)
        trigger: Any = self._server.trigger
        trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
        self._thread.join(timeout=10)


class WorkerThread:
    """The sidecar's worker in a thread, as ``serve`` embeds it; CPU time measured, maybe profiled."""

    def __init__(self, worker: Worker, profile: bool) -> None:
        self._worker = worker
        self.stop = threading.Event()
        # The thread's CPU time, not the wall clock: other processes on the host, and the intake threads
        # holding the interpreter lock, would otherwise be charged to whatever the worker was doing.
        self.profile = cProfile.Profile(time.thread_time) if profile else None
        self.cpu_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="worker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.thread_time()
        if self.profile is not None:
            self.profile.enable()
        try:
            self._worker.run(self.stop)
        finally:
            if self.profile is not None:
                self.profile.disable()
            self.cpu_seconds = time.thread_time() - started

    def join(self) -> None:
        self.stop.set()
        self._worker.wake()
        self._thread.join(timeout=60)


def _worker_main(config: Config, log_path: str, stop: Any, done: Any) -> None:
    """The worker as ``mug-sidecar worker`` runs it, in a process of its own. It says when it is ready to
    work (a worker thread is built before the run too), then sends back the CPU seconds of its run."""
    with open(log_path, "w", encoding="utf-8") as log_file:
        configure_logging(config.logging.level, "json", stream=log_file)
        runtime = build_runtime(config)
        worker = make_worker(runtime)
        stopping = threading.Event()
        threading.Thread(target=lambda: (stop.wait(), stopping.set()), daemon=True).start()
        done.put("ready")
        started = time.process_time()
        try:
            worker.run(stopping)
        finally:
            runtime.engine.dispose()
            done.put(time.process_time() - started)


class StandaloneWorker:
    """The worker in a process of its own (``serve --no-worker`` beside ``mug-sidecar worker``)."""

    profile = None

    def __init__(self, config: Config, log_path: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._done: Any = context.Queue()
        self.cpu_seconds = 0.0
        self._process = context.Process(
            target=_worker_main, args=(config, str(log_path), self._stop, self._done), daemon=True
        )
        self._process.start()
        # Posts are written once the worker runs, as they are once `mug-sidecar worker` has started: a run
        # that began with the worker still importing would count its start-up as time spent on posts.
        try:
            ready = self._done.get(timeout=120)
        except Exception as exc:  # queue.Empty, or the process died before it could say
            raise BenchError(f"the worker process did not start: {exc!r}") from exc
        if ready != "ready":
            raise BenchError(f"the worker process did not start: {ready!r}")

    def join(self) -> None:
        self._stop.set()
        with suppress(Exception):  # a worker that died reports nothing: its deliveries show it
            self.cpu_seconds = self._done.get(timeout=60)
        self._process.join(timeout=60)


class ServedWorker:
    """The worker as ``serve`` runs it: ``sidecar.jobs.process.WorkerProcess``, a child woken by the intake's
    doorbell. Its CPU time is read from the kernel once it has ended (the forum's process, the other child,
    ends later and reports its own)."""

    profile = None

    def __init__(self, config: Config, doorbell: Doorbell, log_path: Path) -> None:
        self.cpu_seconds = 0.0
        self._before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._process: WorkerProcess | None = WorkerProcess(
            config, doorbell, functools.partial(logged_worker, str(log_path))
        )
        # Posts are written once the worker runs, as they are at a forum once `serve` has started.
        self._process.start()
        if not self._process.wait_ready():
            raise BenchError("the worker process did not start")
        self._start_up = process_cpu_seconds(self._process.pid)  # imports, the scanner: not the run's

    def join(self) -> None:
        if self._process is None:
            return
        self._process.stop(timeout=60)
        self._process = None
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        whole = (after.ru_utime - self._before.ru_utime) + (after.ru_stime - self._before.ru_stime)
        self.cpu_seconds = whole - self._start_up


def process_cpu_seconds(pid: int | None) -> float:
    """A running process's CPU seconds so far, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def logged_worker(log_path: str, runtime: Runtime, doorbell: Doorbell) -> Worker:
    """In serve's child process: its log lines to the worker's log file, not the terminal; the worker."""
    configure_logging(runtime.config.logging.level, "json", stream=open(log_path, "a", encoding="utf-8"))  # noqa: SIM115
    return make_worker(runtime, doorbell)


def bench_config(url: str, state_dir: Path, secret: str, api_key: str) -> Config:
    """Defaults, but the database, the forum's key and secret, a budget no run reaches, a scratch state
    directory and a fingerprint key. The forum's URL is added once the forum runs (as ``serve`` does)."""
    forum = dataclasses.replace(
        ForumConfig(),
        api_key=api_key,
        api_username=API_USERNAME,
        webhook_secret=secret,
        rate_limit=10_000_000,
        rate_burst=5_000_000,
    )
    return Config(
        server=dataclasses.replace(ServerConfig(), state_dir=str(state_dir)),
        database=DatabaseConfig(url=url),
        forum=forum,
        scanning=dataclasses.replace(ScanningConfig(), fingerprint_key=secrets.token_urlsafe(24)),
    )


def make_worker(runtime: Runtime, doorbell: Doorbell | None = None) -> Worker:
    """``sidecar.cli.make_worker`` without its periodic jobs (registration and termination sweeps), whose
    forum calls are no part of a post's path. ``serve`` gives its worker the intake's doorbell."""
    processor = make_processor(
        build_registry(),
        sessions=runtime.sessions,
        clock=runtime.clock,
        config=runtime.config,
        forum=build_forum(runtime),
    )
    return Worker(
        runtime.sessions,
        processor,
        settings=runtime.config.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
        name="bench-worker",
        doorbell=doorbell,
    )


def inbox_counts(runtime: Runtime) -> tuple[int, int]:
    """Deliveries stored, and those of them not finished (one count by status, as /metrics reads it)."""
    counts = runtime.queue_counts()
    return sum(counts.values()), sum(counts[status.value] for status in DeliveryStatus.unfinished())


def settle(runtime: Runtime, forum: Forum, deadline: float) -> None:
    """Wait until the forum has nothing left to send, the inbox nothing left to do, and it stays so (a
    delivery the worker's own call fired is queued before the call returns)."""
    last_progress = time.monotonic()
    while True:
        before = inbox_counts(runtime)
        if before[1] == 0 and forum.call("idle") and inbox_counts(runtime) == before:
            return
        now = time.monotonic()
        if now > deadline:
            raise BenchError(
                f"not settled in time: {before[0]:,} deliveries stored, {before[1]:,} unfinished"
            )
        if now - last_progress >= PROGRESS_EVERY_S:
            last_progress = now
            print(
                f"  ... {before[0]:,} deliveries stored, {before[1]:,} unfinished",
                file=sys.stderr,
                flush=True,
            )
        time.sleep(SETTLE_POLL_S)


# --- measuring ------------------------------------------------------------------------------------------


@dataclass
class Rate:
    count: int
    seconds: float
    per_second: float


@dataclass
class Spread:
    count: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass
class Calls:
    posts: int = 0
    reads: int = 0
    messages: int = 0
    flags: int = 0
    as_expected: int = 0  # posts with findings that got exactly what the target allows


@dataclass
class DatabaseResult:
    database: str
    posts: int = 0
    with_findings: int = 0
    expected_flags: int = 0
    authors: int = 0
    senders: int = 0
    rate_asked: float | None = None
    profiled: bool = False
    worker: str = "process"  # serve's child process, a thread of the intake's process, or standalone
    load_at_start: float = 0.0  # the host's 1-minute load average: other work competing for the cores
    write_seconds: float = 0.0
    emitted: dict[str, int] = field(default_factory=dict)
    send_failures: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)  # by status
    retried: int = 0  # deliveries attempted more than once
    rates: dict[str, Rate] = field(default_factory=dict)
    latency: dict[str, Spread] = field(default_factory=dict)
    calls: dict[str, Calls] = field(default_factory=dict)
    endpoints: dict[str, int] = field(default_factory=dict)
    unattributed: dict[str, int] = field(default_factory=dict)
    not_ok: int = 0  # forum answers other than 2xx
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    log_issues: list[str] = field(default_factory=list)
    profile: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None


def spread(seconds: Sequence[float]) -> Spread:
    ms = [s * 1000 for s in seconds]
    return Spread(len(ms), percentile(ms, 50), percentile(ms, 99), round(max(ms), 2) if ms else None)


def rate(count: int, first: datetime | None, last: datetime | None) -> Rate:
    seconds = (last - first).total_seconds() if first and last else 0.0
    return Rate(count, round(seconds, 3), round(count / seconds, 1) if seconds > 0 else 0.0)


_POST_READ = re.compile(r"^/posts/(\d+)(?:\.json)?$")
_IDS = re.compile(r"/\d+(?=[/.]|$)")


def _endpoint(method: str, path: str) -> str:
    return f"{method} {_IDS.sub('/{id}', path)}"


def count_calls(
    result: DatabaseResult, report: ForumReport, post_ids: dict[int, Planned], user_ids: dict[str, int]
) -> dict[int, list[int]]:
    """Forum calls by post: reads by the post id in the path, messages by their recipient (the author of
    one post with findings, or a clean post's author), flags by the flagged post. Returns reads, messages
    and flags per post id."""
    per_post = {post_id: [0, 0, 0] for post_id in post_ids}
    author_post = {user_ids[p.author]: post_id for post_id, p in post_ids.items() if p.findings}
    clean_authors = {user_ids[p.author] for p in post_ids.values() if not p.findings}
    endpoints: Counter[str] = Counter()
    unattributed: Counter[str] = Counter()
    clean_messages = 0
    writes = {"messages": 0, "flags": 0}
    for _, method, path, status in report.requests:
        endpoint = _endpoint(method, path)
        endpoints[endpoint] += 1
        if not 200 <= status < 300:
            result.not_ok += 1
        read = _POST_READ.match(path) if method == "GET" else None
        if read and int(read.group(1)) in per_post:
            per_post[int(read.group(1))][0] += 1
        elif method == "POST" and endpoint in ("POST /posts.json", "POST /posts"):
            writes["messages"] += 1
        elif method == "POST" and endpoint in ("POST /post_actions.json", "POST /post_actions"):
            writes["flags"] += 1
        else:
            unattributed[endpoint] += 1
    attributed_messages = 0
    for _, _, allowed in report.messages:
        for user_id in allowed:
            if user_id in author_post:
                per_post[author_post[user_id]][1] += 1
                attributed_messages += 1
            elif user_id in clean_authors:
                clean_messages += 1
                attributed_messages += 1
    attributed_flags = 0
    for _, post_id in report.flags:
        if post_id in per_post:
            per_post[post_id][2] += 1
            attributed_flags += 1
    # A flag with a message makes the forum write a PM to the staff itself: no request of its own.
    if writes["messages"] > attributed_messages:
        unattributed["POST /posts.json (a PM to nobody who posted)"] += (
            writes["messages"] - attributed_messages
        )
    if writes["flags"] > attributed_flags:
        unattributed["POST /post_actions.json (no post of the run)"] += writes["flags"] - attributed_flags

    clean, findings = Calls(), Calls()
    for post_id, (reads, messages, flags) in per_post.items():
        planned = post_ids[post_id]
        calls = findings if planned.findings else clean
        calls.posts += 1
        calls.reads += reads
        calls.messages += messages
        calls.flags += flags
        if planned.findings:
            calls.as_expected += reads == 1 and messages == 1 and flags <= 1
    clean.messages += clean_messages  # to a clean post's author: counted against the clean posts
    result.calls = {"clean": clean, "with findings": findings}
    result.endpoints = dict(endpoints.most_common())
    result.unattributed = dict(unattributed.most_common())
    return per_post


def measure(
    result: DatabaseResult,
    runtime: Runtime,
    report: ForumReport,
    written: list[tuple[int, datetime]],
    plan: list[Planned],
    user_ids: dict[str, int],
) -> None:
    post_ids = {post_id: planned for (post_id, _), planned in zip(written, plan, strict=True)}
    created = dict(written)
    with runtime.sessions() as session:
        deliveries = session.execute(
            select(
                Delivery.event_name,
                Delivery.subject,
                Delivery.status,
                Delivery.attempts,
                Delivery.received_at,
                Delivery.finished_at,
            )
        ).all()
        scans = session.execute(select(PostScan.post_id, PostScan.status, PostScan.findings)).all()
        finding_posts = set(session.execute(select(PostFinding.post_id).distinct()).scalars())

    received: dict[int, datetime] = {}
    finished: dict[int, datetime] = {}
    for d in deliveries:
        if d.event_name == "post_created" and d.subject and d.subject.startswith("post:"):
            post_id = int(d.subject.removeprefix("post:"))
            if post_id in post_ids and post_id not in received:
                received[post_id] = d.received_at
                if d.finished_at is not None:
                    finished[post_id] = d.finished_at
    result.deliveries = dict(Counter(str(d.status) for d in deliveries).most_common())
    result.retried = sum(1 for d in deliveries if d.attempts > 1)
    finish_times = [d.finished_at for d in deliveries if d.finished_at is not None]
    first_received = min(received.values(), default=None)
    last_finished = max(finish_times, default=None)
    result.rates = {
        "intake": rate(len(received), first_received, max(received.values(), default=None)),
        "worker": rate(len(finish_times), min(finish_times, default=None), last_finished),
        "end to end": rate(len(post_ids), first_received, last_finished),
    }

    per_post = count_calls(result, report, post_ids, user_ids)
    author_post = {user_ids[p.author]: post_id for post_id, p in post_ids.items() if p.findings}
    first_message: dict[int, datetime] = {}
    for at, _, allowed in sorted(report.messages):
        for user_id in allowed:
            if user_id in author_post:
                first_message.setdefault(author_post[user_id], at)
    result.latency = {
        "post written -> delivery stored": spread(
            [(received[p] - created[p]).total_seconds() for p in received]
        ),
        "delivery stored -> finished, clean": spread(
            [(finished[p] - received[p]).total_seconds() for p in finished if not post_ids[p].findings]
        ),
        "delivery stored -> PM created": spread(
            [(at - received[p]).total_seconds() for p, at in first_message.items() if p in received]
        ),
    }

    problems = result.problems
    if len(received) != len(post_ids):
        problems.append(f"{len(post_ids) - len(received):,} posts have no post_created delivery")
    unexpected = set(result.deliveries) - {str(DeliveryStatus.DONE), str(DeliveryStatus.IGNORED)}
    if unexpected:
        problems.append(f"deliveries not done: {', '.join(sorted(unexpected))}")
    if result.retried:
        problems.append(f"{result.retried:,} deliveries needed more than one attempt")
    if report.send_failures:
        problems.append(f"{report.send_failures:,} webhook deliveries were not answered 2xx")
    scanned = Counter(post_id for post_id, _, _ in scans if post_id in post_ids)
    if set(scanned) != set(post_ids) or any(n != 1 for n in scanned.values()):
        problems.append(f"post scans: {len(scanned):,} posts scanned of {len(post_ids):,}, expected one each")
    if any(status != "done" for post_id, status, _ in scans if post_id in post_ids):
        problems.append("post scans not done")
    wanted = {p for p, planned in post_ids.items() if planned.findings}
    with_rows = {p for p, _, n in scans if p in post_ids and n > 0}
    if with_rows != wanted or finding_posts & set(post_ids) != wanted:
        problems.append(
            f"posts with findings: {len(with_rows):,} scans and {len(finding_posts & set(post_ids)):,} in the"
            f" queue, {len(wanted):,} expected"
        )
    flagged = sum(1 for p in wanted if per_post[p][2])
    if flagged != result.expected_flags:
        problems.append(f"{flagged:,} posts flagged, {result.expected_flags:,} have a finding to flag")


def log_issues(path: Path) -> list[str]:
    if not path.exists():
        return []
    issues = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if any(marker in line for marker in _ISSUE_MARKERS):
                issues.append(line.rstrip()[:300])
                if len(issues) >= MAX_LOG_ISSUES:
                    break
    return issues


def profile_rows(profile: cProfile.Profile) -> dict[str, list[dict[str, Any]]]:
    """The worker's functions by own time (everything), and the project's own by cumulative time."""
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.items():
        short, ours = filename, filename.startswith(str(ROOT) + "/") and "/.venv/" not in filename
        for marker in ("site-packages/", str(ROOT) + "/"):
            if marker in filename:
                short = filename.split(marker, 1)[1]
        function = f"{short}:{line}({name})"
        rows.append({"function": function, "calls": calls, "own_s": own, "cum_s": cumulative, "ours": ours})

    def top(selected: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        selected.sort(key=lambda r: r[key], reverse=True)
        return [
            {
                "function": r["function"],
                "calls": r["calls"],
                "own_s": round(r["own_s"], 3),
                "cum_s": round(r["cum_s"], 3),
            }
            for r in selected[:PROFILE_ROWS]
        ]

    return {
        "by own time": top(list(rows), "own_s"),
        "the project's functions by cumulative time": top(
            [r for r in rows if r["ours"] and not r["function"].startswith("bench/")], "cum_s"
        ),
    }


def bench_database(
    database: str, url: str, texts: Texts, plan: list[Planned], args: argparse.Namespace
) -> DatabaseResult:
    result = DatabaseResult(
        database,
        posts=len(plan),
        with_findings=sum(1 for p in plan if p.findings),
        expected_flags=sum(1 for p in plan if p.findings and texts.flagged[p.text]),
        authors=len({p.author for p in plan}),
        senders=args.senders,
        rate_asked=args.rate,
        profiled=args.profile,
        worker=args.worker,
        load_at_start=round(os.getloadavg()[0], 2),
    )
    with tempfile.TemporaryDirectory(prefix="mug-bench-posts-") as tmp:
        secret, api_key = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        config = bench_config(url, Path(tmp), secret, api_key)
        log_path = Path(tmp) / "sidecar.log"
        with log_path.open("w", encoding="utf-8") as log_file:
            configure_logging(config.logging.level, "json", stream=log_file)
            try:
                run(result, config, texts, plan, args, secret, api_key, log_path.with_name("worker.log"))
            finally:
                configure_logging("WARNING", "text")
        result.log_issues = log_issues(log_path) + log_issues(log_path.with_name("worker.log"))
    return result


def run(
    result: DatabaseResult,
    config: Config,
    texts: Texts,
    plan: list[Planned],
    args: argparse.Namespace,
    secret: str,
    api_key: str,
    worker_log: Path,
) -> None:
    runtime = build_runtime(config)
    if args.worker == "process":  # serve's child hears the intake through a pipe
        runtime = dataclasses.replace(runtime, arrivals=Doorbell.across_processes(spawn_context()))
    stops: list[Callable[[], None]] = [runtime.engine.dispose]
    try:
        upgrade(runtime.engine)
        intake = Intake(runtime)
        stops.append(intake.stop)
        events = None if args.every_event else tuple(sorted(build_registry().handled_events()))
        forum = Forum(ForumSettings(api_key, intake.url + WEBHOOK_PATH, secret, args.senders, events))
        stops.append(forum.stop)
        settings = dataclasses.replace(config.forum, url=forum.url)
        work_runtime = dataclasses.replace(runtime, config=dataclasses.replace(config, forum=settings))
        authors = sorted({p.author for p in plan})
        user_ids: dict[str, int] = forum.call("setup", authors)

        rows = [(p.author, p.topic, (texts.findings if p.findings else texts.clean)[p.text]) for p in plan]
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        worker: WorkerThread | ServedWorker | StandaloneWorker
        if args.worker == "process":
            worker = ServedWorker(work_runtime.config, runtime.arrivals, worker_log)
        elif args.worker == "standalone":
            worker = StandaloneWorker(work_runtime.config, worker_log)
        else:
            worker = WorkerThread(make_worker(work_runtime, runtime.arrivals), args.profile)
        stops.append(worker.join)
        started = time.monotonic()
        written: list[tuple[int, datetime]] = forum.call("write", (rows, args.rate), timeout=3600.0)
        result.write_seconds = round(time.monotonic() - started, 3)
        settle(runtime, forum, deadline=time.monotonic() + 60 + len(plan) * 0.1)
        worker.join()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        report: ForumReport = forum.call("report")
        process_cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
        in_process = worker.cpu_seconds if args.worker == "thread" else 0.0  # a thread is in process_cpu
        result.cpu_seconds = {
            "worker": round(worker.cpu_seconds, 2),
            "intake and the rest": round(process_cpu - in_process, 2),
            "forum process": round(report.cpu_seconds, 2),
        }
        result.emitted = report.emitted
        result.send_failures = report.send_failures
        measure(result, runtime, report, written, plan, user_ids)
        if worker.profile is not None:
            result.profile = profile_rows(worker.profile)
            if args.profile_out:
                worker.profile.dump_stats(args.profile_out)
    finally:
        for stop in reversed(stops):
            stop()

    calls = result.calls
    clean, findings = calls["clean"], calls["with findings"]
    clean_calls = clean.reads + clean.messages + clean.flags
    unattributed = sum(result.unattributed.values())
    result.checks = [
        Check(
            "clean post: no forum call",
            f"{clean_calls:,} calls, {clean.posts:,} posts"
            + (f", {unattributed:,} unattributed" if unattributed else ""),
            clean_calls == 0 and unattributed == 0,
        ),
        Check(
            "with findings: 1 read, 1 PM, <= 1 flag",
            f"{findings.as_expected:,} / {findings.posts:,} posts",
            findings.as_expected == findings.posts and findings.posts > 0,
        ),
        Check(
            "every post scanned, every delivery done",
            "as expected" if not result.problems else f"{len(result.problems)} problems",
            not result.problems,
        ),
    ]
    if result.database == "sqlite" and not args.profile and args.rate is None:
        throughput = result.rates["end to end"].per_second
        result.checks.append(
            Check(
                f"end to end >= {TARGET_POSTS_PER_SECOND:g} posts/s",
                f"{throughput:,.0f} posts/s",
                throughput >= TARGET_POSTS_PER_SECOND,
            )
        )


# --- reporting ------------------------------------------------------------------------------------------


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items()) or "none"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def render_texts(texts: Texts) -> str:
    left_out = f" ({_listing(texts.left_out)} left out)" if texts.left_out else ""
    return (
        f"== texts: {texts.source}, {texts.generated:,} generated and scanned once:"
        f" {len(texts.clean):,} clean and {len(texts.findings):,} with findings used{left_out}\n"
        f"   mean length {texts.chars_clean:,.0f} chars clean, {texts.chars_findings:,.0f} with findings;"
        f" the scanner alone {texts.scan_ms_clean:.2f} ms a clean text, {texts.scan_ms_findings:.2f} ms one"
        " with findings"
    )


def render(result: DatabaseResult) -> str:
    pace = f"written at {result.rate_asked:g}/s" if result.rate_asked else "written as fast as possible"
    lines = [
        f"== {result.database}: {result.posts:,} posts ({result.with_findings:,} with findings,"
        f" {result.posts - result.with_findings:,} clean) by {result.authors:,} authors in {TOPICS} topics,"
        f" {pace}; {result.senders} webhook senders"
        + ("; worker PROFILED (slower)" if result.profiled else ""),
        f"   host: {os.cpu_count()} cores, load average {result.load_at_start:.2f} when the run began",
    ]
    if result.rates:
        written = result.posts / result.write_seconds if result.write_seconds else 0.0
        lines += [
            f"   forum: posts written in {result.write_seconds:.1f} s ({written:,.0f}/s); deliveries sent:"
            f" {_listing(result.emitted)}",
            f"   sidecar: deliveries {_listing(result.deliveries)}; retried {result.retried:,}",
            f"   {'rates':<40} {'count':>7} {'seconds':>8} {'per s':>8}",
        ]
        labels = {
            "intake": "intake (post_created stored)",
            "worker": "worker (every delivery finished)",
            "end to end": "end to end (first stored -> last finished)",
        }
        for key, label in labels.items():
            r = result.rates[key]
            lines.append(f"     {label:<42} {r.count:>5,} {r.seconds:>8.2f} {r.per_second:>8,.1f}")
        lines.append(f"   {'latency':<40} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for label, s in result.latency.items():
            lines.append(
                f"     {label:<42} {s.count:>5,} {_ms(s.p50_ms):>8} {_ms(s.p99_ms):>8} {_ms(s.max_ms):>8}"
            )
        lines.append(
            f"   {'forum calls':<22} {'posts':>7} {'reads':>7} {'PMs':>7} {'flags':>7} {'per post':>9}"
        )
        for label, c in result.calls.items():
            per_post = (c.reads + c.messages + c.flags) / c.posts if c.posts else 0.0
            lines.append(
                f"     {label:<20} {c.posts:>7,} {c.reads:>7,} {c.messages:>7,} {c.flags:>7,}"
                f" {per_post:>9.2f}"
            )
        lines += [
            f"     posts with a finding to flag: {result.expected_flags:,};"
            f" answers not 2xx: {result.not_ok:,}",
            f"     by endpoint: {_listing(result.endpoints)}",
        ]
        if result.unattributed:
            lines.append(f"     NOT ATTRIBUTED: {_listing(result.unattributed)}")
        cpu = result.cpu_seconds
        per_post = cpu["worker"] / result.posts * 1000 if result.posts else 0.0
        run_seconds = result.rates["end to end"].seconds
        on_cpu = f", on CPU {cpu['worker'] / run_seconds:.0%} of the run" if run_seconds else ""
        where = "thread" if result.worker == "thread" else "process"
        lines.append(
            f"   cpu: worker {where} {cpu['worker']:.1f} s ({per_post:.2f} ms a post{on_cpu});"
            f" intake and the rest {cpu['intake and the rest']:.1f} s;"
            f" forum process {cpu['forum process']:.1f} s"
        )
    lines += [f"   PROBLEM: {problem}" for problem in result.problems]
    if result.log_issues:
        lines.append("   sidecar log:")
        lines += [f"     {issue}" for issue in result.log_issues]
    for title, rows in result.profile.items():
        lines.append(f"   worker profile (CPU time), {title}:")
        lines.append(f"     {'function':<74} {'calls':>9} {'own s':>8} {'cum s':>8}")
        for row in rows:
            lines.append(
                f"     {row['function'][-74:]:<74} {row['calls']:>9,}"
                f" {row['own_s']:>8.3f} {row['cum_s']:>8.3f}"
            )
    if result.error:
        lines.append(f"   ERROR: {result.error}")
    return "\n".join(lines)


# --- command line ---------------------------------------------------------------------------------------


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 (or, with --check, 1 when a target fails); 2 when a database run could not be completed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=positive_int, default=10_000, help="posts written (10,000)")
    parser.add_argument(
        "--findings-share", type=_share, default=0.10, help="share of the posts with findings (0.10)"
    )
    parser.add_argument(
        "--senders",
        type=positive_int,
        default=4,
        help="webhook deliveries the forum has in flight at once (4)",
    )
    parser.add_argument(
        "--rate",
        type=positive_float,
        help="write the posts at this many a second (default: as fast as possible)",
    )
    parser.add_argument(
        "--texts",
        choices=("corpus", "short"),
        default="corpus",
        help="bench/corpus posts (default), or short prose from a built-in generator",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the texts and of the plan (7)")
    parser.add_argument(
        "--database-url",
        "--pg-admin-url",
        dest="database_url",
        help="also run on this PostgreSQL server, in a database created for the run and dropped after",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the worker thread (cProfile; throughput not judged)"
    )
    parser.add_argument("--profile-out", metavar="FILE", help="with --profile, also write the pstats file")
    parser.add_argument(
        "--worker",
        choices=("process", "thread", "standalone"),
        default="process",
        help="where the worker runs: serve's child process (the default), a thread of serve's process"
        " (worker.separate_process = false), or `mug-sidecar worker` beside `serve --no-worker`",
    )
    parser.add_argument(
        "--every-event",
        action="store_true",
        help='the forum\'s hook sends every event ("Send me everything"), not only those the README lists',
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every target passes")
    args = parser.parse_args(argv)
    if args.profile and args.worker != "thread":
        parser.error("--profile profiles the worker thread: it needs --worker thread")

    print("generating and scanning the texts ...", file=sys.stderr, flush=True)
    scanning = Config(
        scanning=dataclasses.replace(ScanningConfig(), fingerprint_key=secrets.token_urlsafe(24))
    )
    pool = min(POOL_MAX, max(POOL_MIN, args.posts))
    try:
        texts = choose_texts(scanning, args.seed, pool, args.texts)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    plan = make_plan(texts, args.posts, args.findings_share, args.seed)
    if not args.json:
        print(render_texts(texts), flush=True)

    results: list[DatabaseResult] = []
    with tempfile.TemporaryDirectory(prefix="mug-bench-posts-") as tmp:
        scratch = f"mug_bench_posts_{os.getpid()}"
        for database, opened in databases(f"sqlite:///{Path(tmp) / 'bench.db'}", args.database_url, scratch):
            print(f"benchmarking {database} ...", file=sys.stderr, flush=True)
            try:
                with opened as url:
                    result = bench_database(database, url, texts, plan, args)
            except BenchError as exc:
                result = DatabaseResult(database, error=str(exc))
            results.append(result)
            if not args.json:
                print(render(result), flush=True)

    checks = [(r.database, c) for r in results for c in r.checks]
    passed = all(c.passed for _, c in checks) and not any(r.error for r in results)
    if args.json:
        texts_summary = {
            k: v for k, v in asdict(texts).items() if k not in ("clean", "findings", "flagged")
        } | {"clean_used": len(texts.clean), "findings_used": len(texts.findings)}
        document = {
            "settings": {
                "posts": args.posts,
                "findings_share": args.findings_share,
                "senders": args.senders,
                "rate": args.rate,
                "seed": args.seed,
                "texts": args.texts,
                "profile": args.profile,
                "worker": args.worker,
            },
            "targets": {"end_to_end_posts_per_second": TARGET_POSTS_PER_SECOND},
            "texts": texts_summary,
            "databases": [asdict(r) for r in results],
            "checks": [{"scope": scope, **asdict(c)} for scope, c in checks],
            "passed": passed,
        }
        print(json.dumps(document, indent=2, default=str))
    else:
        print("\n".join(render_summary(checks, widths=(40, 28))))
    if any(r.error for r in results):
        return 2
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
