"""Periodic jobs: each slot runs once across every process, failures are recorded and the next slot runs.

Each scheduler gets its own runtime (engine and connection pool) on the same database: as far as the
database can tell, separate processes. They share one fixed clock, so the tests say which slot it is.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from sidecar.cli import make_worker, periodic_jobs
from sidecar.clock import FixedClock
from sidecar.config import Config
from sidecar.db.models import DeliveryStatus, JobRun
from sidecar.forum.factory import build_forum
from sidecar.jobs.periodic import PeriodicJob, Scheduler
from sidecar.jobs.worker import Worker
from sidecar.runtime import Runtime, build_runtime
from tests.integration.polling import wait_for

EVERY = 60.0

Processes = Callable[[int], list[Runtime]]


@pytest.fixture
def processes(config: Config, clock: FixedClock) -> Iterator[Processes]:
    """``processes(n)``: n runtimes on the test database, each with its own engine, on the shared clock."""
    made: list[Runtime] = []

    def make(count: int) -> list[Runtime]:
        runtimes = [build_runtime(config, clock=clock) for _ in range(count)]
        made.extend(runtimes)
        return runtimes

    yield make
    for runtime in made:
        runtime.engine.dispose()


class Recorder:
    """A job body that remembers every cause it ran for (from any scheduler), and can be told to fail."""

    def __init__(self) -> None:
        self.causes: list[str] = []
        self.failing = False
        self._lock = threading.Lock()

    def __call__(self, cause: str) -> None:
        with self._lock:
            self.causes.append(cause)
        if self.failing:
            raise RuntimeError("the forum is down")


def slot_of(clock: FixedClock, every: float = EVERY) -> int:
    return int(clock.now().timestamp() // every)


def job_runs(runtime: Runtime) -> list[tuple[str, int, str, str | None]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(JobRun.job, JobRun.slot, JobRun.status, JobRun.error).order_by(JobRun.slot, JobRun.job)
        ).all()
    return [(job, slot, status, error) for job, slot, status, error in rows]


def test_two_processes_run_each_slot_once_in_total(processes: Processes, clock: FixedClock) -> None:
    first, second = processes(2)
    body = Recorder()
    one = Scheduler(first.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    two = Scheduler(second.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    slot = slot_of(clock)

    assert one.run_due() == ["sweep"]
    assert two.run_due() == []
    clock.advance(EVERY / 2)  # the same slot still
    assert two.run_due() == []
    assert one.run_due() == []
    clock.advance(EVERY / 2)  # the next slot: whichever asks first runs it
    assert two.run_due() == ["sweep"]
    assert one.run_due() == []

    assert body.causes == [f"job:sweep:{slot}", f"job:sweep:{slot + 1}"]
    assert job_runs(first) == [("sweep", slot, "done", None), ("sweep", slot + 1, "done", None)]
    with first.sessions() as session:
        run = session.get(JobRun, ("sweep", slot))
        assert run is not None
        assert run.finished_at is not None


def test_processes_racing_for_a_slot_run_it_once(processes: Processes, clock: FixedClock) -> None:
    body = Recorder()
    schedulers = [Scheduler(r.sessions, clock, [PeriodicJob("sweep", EVERY, body)]) for r in processes(4)]
    slots = 5
    for _ in range(slots):
        barrier = threading.Barrier(len(schedulers))
        ran: list[list[str]] = []
        errors: list[BaseException] = []

        def race(
            scheduler: Scheduler,
            barrier: threading.Barrier = barrier,
            ran: list[list[str]] = ran,
            errors: list[BaseException] = errors,
        ) -> None:
            try:
                barrier.wait(timeout=10)
                ran.append(scheduler.run_due())
            except BaseException as exc:  # noqa: BLE001 - reported by the test thread below
                errors.append(exc)

        threads = [threading.Thread(target=race, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert sorted(ran) == [[], [], [], ["sweep"]]
        clock.advance(EVERY)
    assert len(body.causes) == slots
    assert len(set(body.causes)) == slots


def test_a_failed_slot_is_recorded_not_retried_and_the_next_slot_runs_again(
    processes: Processes, clock: FixedClock
) -> None:
    first, second = processes(2)
    body = Recorder()
    one = Scheduler(first.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    two = Scheduler(second.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    slot = slot_of(clock)

    body.failing = True
    assert one.run_due() == ["sweep"]  # ran (and failed): reported as run, not raised
    assert two.run_due() == []  # the other process does not retry the failed slot
    assert job_runs(first) == [("sweep", slot, "failed", "RuntimeError: the forum is down")]

    body.failing = False
    clock.advance(EVERY)
    assert two.run_due() == ["sweep"]
    assert job_runs(first) == [
        ("sweep", slot, "failed", "RuntimeError: the forum is down"),
        ("sweep", slot + 1, "done", None),
    ]
    assert len(body.causes) == 2


def test_jobs_keep_their_own_slots(processes: Processes, clock: FixedClock) -> None:
    [runtime] = processes(1)
    often, seldom = Recorder(), Recorder()
    scheduler = Scheduler(
        runtime.sessions, clock, [PeriodicJob("often", EVERY, often), PeriodicJob("seldom", 3600.0, seldom)]
    )
    assert scheduler.run_due() == ["often", "seldom"]
    runs = [scheduler.run_due()]
    for _ in range(3):
        clock.advance(EVERY)
        runs.append(scheduler.run_due())
    assert runs == [[], ["often"], ["often"], ["often"]]
    assert (len(often.causes), len(seldom.causes)) == (4, 1)


def test_asking_again_within_a_slot_does_not_touch_the_database(
    processes: Processes, clock: FixedClock
) -> None:
    first, second = processes(2)
    body = Recorder()
    one = Scheduler(first.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    two = Scheduler(second.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(second.engine, "before_cursor_execute", count)
    try:
        assert one.run_due() == ["sweep"]
        assert two.run_due() == []  # asks once: the claim's insert finds the slot taken
        asked = len(statements)
        assert asked > 0
        for _ in range(5):
            assert two.run_due() == []
        clock.advance(EVERY / 3)
        assert two.run_due() == []
        assert len(statements) == asked
    finally:
        event.remove(second.engine, "before_cursor_execute", count)


# --- the scheduler as the sidecar wires it ----------------------------------------------------------------


def test_the_worker_runs_due_jobs_between_deliveries(runtime: Runtime, clock: FixedClock) -> None:
    body = Recorder()
    body.failing = True  # a failing job must not stop the worker
    scheduler = Scheduler(runtime.sessions, clock, [PeriodicJob("sweep", EVERY, body)])
    settings = dataclasses.replace(runtime.config.worker, poll_seconds=0.01)
    worker = Worker(
        runtime.sessions,
        lambda _claimed: DeliveryStatus.DONE,
        settings=settings,
        clock=clock,
        metrics=runtime.metrics,
        scheduler=scheduler,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(job_runs(runtime)) == 1, what="the first slot")
        clock.advance(EVERY)
        wait_for(lambda: len(job_runs(runtime)) == 2, what="the second slot")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert [status for _, _, status, _ in job_runs(runtime)] == ["failed", "failed"]
    assert len(body.causes) == 2


def test_the_pending_registrations_job_follows_the_configuration(runtime: Runtime) -> None:
    config = dataclasses.replace(
        runtime.config,
        forum=dataclasses.replace(runtime.config.forum, url="http://forum.test", api_key="k" * 20),
        registration=dataclasses.replace(runtime.config.registration, pending_check_minutes=2.5),
    )
    wired = dataclasses.replace(runtime, config=config)
    jobs = [(job.name, job.every_seconds) for job in periodic_jobs(wired, build_forum(wired))]
    assert jobs == [
        ("pending-registrations", 150.0),
        ("termination-sweep", 86400),
        ("termination-follow-up", 60.0),
    ]
    scheduler = make_worker(wired)._scheduler
    assert scheduler is not None
    assert [(j.name, j.every_seconds) for j in scheduler.jobs] == jobs
    assert make_worker(runtime)._scheduler is None  # no forum, no job that needs one
