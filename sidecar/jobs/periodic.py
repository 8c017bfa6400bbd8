"""Periodic jobs, each slot run once across every process and host.

A job runs every ``every_seconds``; time is cut into slots (``floor(now / every_seconds)``) and a run
first inserts ``(job, slot)`` into ``job_runs``, whose key is unique: only the process whose insert went
through runs that slot (the pattern of DESIGN.md; APScheduler alone runs a job once per process, not once
per cluster). Workers call :meth:`Scheduler.run_due` between deliveries, so no extra thread is needed.
A slot that fails is recorded and not retried; the next slot runs the job again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock
from sidecar.db.engine import insert_or_ignore
from sidecar.db.models import Base, JobRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[str], object]  # given its cause ("job:<name>:<slot>"), does the work


class Scheduler:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, jobs: Sequence[PeriodicJob]) -> None:
        self._sessions = sessions
        self._clock = clock
        self.jobs = tuple(jobs)
        self._tried: dict[str, int] = {}  # the last slot this process tried to claim, per job

    def run_due(self) -> list[str]:
        """Run every job whose current slot nobody has claimed yet; the names of those run here."""
        ran = []
        for job in self.jobs:
            slot = int(self._clock.now().timestamp() // job.every_seconds)
            if self._tried.get(job.name) == slot:
                continue  # asked the database about this slot already: no need to ask again
            self._tried[job.name] = slot
            if not self._claim(job.name, slot):
                continue
            cause = f"job:{job.name}:{slot}"
            try:
                job.run(cause)
            except Exception as exc:  # a failed slot is recorded; the next slot runs the job again
                log.exception("periodic job failed", extra={"job": job.name, "slot": slot})
                self._finish(job.name, slot, "failed", f"{type(exc).__name__}: {exc}")
            else:
                self._finish(job.name, slot, "done", None)
            ran.append(job.name)
        return ran

    def _claim(self, job: str, slot: int) -> bool:
        with self._sessions.begin() as session:
            table = Base.metadata.tables[JobRun.__tablename__]
            inserted = session.execute(
                insert_or_ignore(session.get_bind().dialect.name, table)
                .values(job=job, slot=slot, status="running", started_at=self._clock.now())
                .returning(table.c.job)
            ).scalar_one_or_none()
        return inserted is not None

    def _finish(self, job: str, slot: int, status: str, error: str | None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(JobRun)
                .where(JobRun.job == job, JobRun.slot == slot)
                .values(status=status, finished_at=self._clock.now(), error=error[:2000] if error else None)
            )
