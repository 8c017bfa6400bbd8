"""Several workers at once: every delivery runs exactly once, one subject at a time, in arrival order."""

from __future__ import annotations

import fcntl
import os
import threading
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select, text

from sidecar.clock import SystemClock
from sidecar.db.engine import make_engine, make_sessions, reading
from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.jobs import inbox
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime
from tests.integration.polling import wait_for
from tests.support import user_body, user_delivery
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent

SUBJECTS = 12
PER_SUBJECT = 15
WORKERS = 3


def test_workers_keep_per_subject_order_and_run_each_delivery_once(runtime: Runtime) -> None:
    clock = SystemClock()
    arrival: dict[int, list[int]] = defaultdict(list)
    with runtime.engine.begin() as conn:
        for n in range(PER_SUBJECT):
            for user in range(SUBJECTS):
                body = user_body(user, name=f"version {n}")
                result = inbox.store(conn, user_delivery(user, n * SUBJECTS + user, clock.now(), body=body))
                arrival[user].append(result.delivery_id)

    lock = threading.Lock()
    in_flight: set[int] = set()
    overlaps: list[int] = []
    processed: dict[int, list[int]] = defaultdict(list)
    registry = Registry()

    @registry.on(EventName.USER_UPDATED)
    def handle(event: WebhookEvent, ctx: HandlerContext) -> None:
        user = event.user.id
        with lock:
            if user in in_flight:
                overlaps.append(user)
            in_flight.add(user)
        # Touch the database like a real handler, widening the window for a concurrent claim.
        with ctx.sessions() as session:
            session.execute(select(func.count()).select_from(Delivery)).scalar_one()
        with lock:
            in_flight.discard(user)
            processed[user].append(event.delivery_id)

    stop = threading.Event()
    workers = [
        Worker(
            runtime.sessions,
            make_processor(registry, sessions=runtime.sessions, clock=clock, config=runtime.config),
            settings=runtime.config.worker,
            clock=clock,
            metrics=runtime.metrics,
            name=f"w{i}",
        )
        for i in range(WORKERS)
    ]
    threads = [threading.Thread(target=w.run, args=(stop,)) for w in workers]
    for thread in threads:
        thread.start()
    try:

        def all_done() -> bool:
            with runtime.sessions() as session:
                done = session.execute(
                    select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.DONE)
                ).scalar_one()
            return done == SUBJECTS * PER_SUBJECT

        wait_for(all_done, timeout=120, what="all deliveries to be done")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert overlaps == []
    assert dict(processed) == dict(arrival)  # each subject in arrival order, each delivery once
    with runtime.sessions() as session:
        attempts = session.execute(select(func.max(Delivery.attempts))).scalar_one()
    assert attempts == 1


def test_a_reader_neither_waits_for_an_open_write_nor_sees_it(runtime: Runtime) -> None:
    """``reading`` sessions (the scanner's allowance check, the queue counts) do not queue for the write
    lock: with a write transaction open, a read answers at once, from what is committed."""
    counted: list[int] = []

    def count() -> None:
        with reading(runtime.sessions) as session:
            counted.append(session.execute(select(func.count()).select_from(Delivery)).scalar_one())

    with runtime.engine.begin() as conn:
        inbox.store(conn, user_delivery(1, 1, SystemClock().now()))  # not committed: the write lock is held
        reader = threading.Thread(target=count)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive()
    assert counted == [0]
    count()
    assert counted == [0, 1]


def test_sqlite_writers_of_several_processes_queue_on_a_lock_file(tmp_path: Path) -> None:
    """A write transaction holds an exclusive flock on ``<database>-writer`` from BEGIN to COMMIT, so a
    writer in another process waits in the kernel and wakes when it is let go (not in SQLite's sleeps)."""
    database = tmp_path / "locks.db"
    engine = make_engine(f"sqlite:///{database}")

    def locked_elsewhere() -> bool:
        fd = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT)  # another open file: another process
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            assert locked_elsewhere()
        assert not locked_elsewhere()
        with reading(make_sessions(engine)) as session:
            assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            assert not locked_elsewhere()  # a reader takes no write lock
    finally:
        engine.dispose()


def test_without_a_usable_lock_file_writers_still_write(tmp_path: Path) -> None:
    """A lock file that cannot be opened (here a directory stands in its way) leaves the busy handler alone
    to keep writers apart: writes go on."""
    database = tmp_path / "nolock.db"
    Path(f"{database}-writer").mkdir()
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
    finally:
        engine.dispose()
