"""Running termination sweeps: plan, check the limits, record, then carry out the forum steps.

A sweep is recorded before the forum hears of it: in one transaction the plan's standings, its audit
entries, a ``sweeps`` row and one ``sweep_steps`` row per forum action are written. The steps are then
carried out in order, each marked attempted before its call and finished after it. A sweep interrupted
halfway (a crash, a forum outage, the rate limit) is resumed by the next run, which finishes the pending
steps of earlier sweeps before planning anew; every step re-reads the account first (webhook payloads and
earlier reads are stale), so a step whose call went through before the interruption is not sent twice:

- remove groups: only those the account still has; the groups taken are recorded (as ``withheld``) before
  the calls, so a reinstatement gives back exactly those;
- suspend: an account already suspended on a first attempt was suspended by someone else (a moderator):
  the suspension is not the sidecar's and a reinstatement leaves it; on a repeated attempt it is the
  sidecar's own call that went through;
- lift a suspension: only one the sidecar imposed, and only while the account is suspended;
- restore groups: only those missing;
- the grace message: a repeated attempt is not sent again (a private message cannot be read back cheaply;
  one possibly lost notice is better than two).

Only one process carries out a sweep's steps at a time (``runner`` and ``lease_until``, renewed per step);
a crashed runner's lease lapses and the next run takes over. Planning is serialised too: PostgreSQL takes a
transaction advisory lock, SQLite's ``BEGIN IMMEDIATE`` already admits one writer.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from sidecar import audit
from sidecar.clock import Clock
from sidecar.config import Config
from sidecar.db.models import ForumLink, StepStatus, Sweep, SweepStatus, SweepStep
from sidecar.forum.port import (
    Forbidden,
    ForumClient,
    ForumError,
    ForumUser,
    NotFound,
    Outcome,
    RateLimited,
    Rejected,
    Unavailable,
)
from sidecar.membership.collector import paused_collector
from sidecar.membership.eligibility import MembershipRules
from sidecar.termination import store
from sidecar.termination.plan import Action, SweepPlan, Transition, plan_sweep

log = logging.getLogger(__name__)

SIDECAR = "sidecar"
ADVISORY_LOCK = 0x6D75_6700_0005  # "mug", 5: the planning lock of every sidecar process on a database
SUSPEND_YEARS = 100  # "until further notice": a reinstatement lifts it

# Plain words for {why} in the messages: the membership, never the data behind it.
WHY = {
    "dues_unpaid": "the membership dues have not been paid",
    "in_grace": "the membership dues are overdue",
    "member_terminated": "the membership has ended",
    "member_not_found": "the membership is no longer on record",
    "member_pending": "the membership is not active yet",
    "status_not_accepted": "the membership is not active",
    "individual_not_allowed": "individual memberships do not include forum access",
    "organization_missing": "the membership's organization is no longer on record",
    "organization_terminated": "your organization's membership has ended",
    "organization_lapsed": "your organization's membership has lapsed",
}


def request_sweep(session: Session, *, cause: str, actor: str, now: datetime) -> None:
    """Ask the worker for a sweep (after an import or a deferral change); it runs within minutes."""
    session.add(Sweep(status=SweepStatus.REQUESTED, cause=cause, actor=actor, requested_at=now, summary="{}"))


@dataclass(frozen=True)
class StepResult:
    member_number: str
    forum_user_id: int
    action: str
    status: str
    detail: str | None


@dataclass
class SweepResult:
    plan: SweepPlan | None
    sweep_id: int | None = None
    dry_run: bool = False
    blocked: str | None = None  # why the sweep stopped before any forum action
    forced: bool = False
    interrupted: str | None = None  # why forum steps are still pending
    pending_steps: int = 0
    steps: list[StepResult] = field(default_factory=list)

    @property
    def transitions(self) -> list[Transition]:
        return list(self.plan.transitions) if self.plan is not None else []

    def to_json(self) -> list[dict[str, Any]]:
        return [t.to_json() for t in self.transitions]


class Interrupted(Exception):
    """The forum cannot take more now (rate limit, outage): pending steps wait for the next run."""


class TerminationService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        config: Config,
        forum: ForumClient | None,
        runner: str | None = None,
        time_budget: float | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._config = config
        self._settings = config.termination
        self._forum = forum
        self._runner = runner or f"{socket.gethostname()}:{os.getpid()}"
        # Seconds of forum steps one run may spend (None: no limit, as on the command line). The worker's
        # jobs set one: a sweep of thousands of calls at the forum's rate would hold deliveries for an hour;
        # cut into runs, it is finished by the follow-up job minute by minute.
        self._time_budget = time_budget
        self._lease = timedelta(seconds=config.worker.lease_seconds)
        membership = config.membership
        self._rules = MembershipRules.from_settings(
            accepted_statuses=membership.accepted_statuses,
            grace_days=membership.grace_days,
            individual_memberships=membership.individual_memberships,
        )

    # --- planning

    def plan(self, session: Session | None = None) -> SweepPlan:
        """Today's plan, read-only."""
        today = self._clock.now().date()
        if session is None:
            with self._sessions() as own:
                return self._plan(own, today)
        return self._plan(session, today)

    def _plan(self, session: Session, today: date) -> SweepPlan:
        # Loading 100,000 members makes a few hundred thousand small objects, none of them cyclic: the
        # cycle collector would only walk them again and again (half of the load's time, bench/sweep.py).
        with paused_collector():
            return plan_sweep(
                store.load_inputs(session, today),
                self._rules,
                today,
                required_approvals=self._settings.deferral_approvals,
                grace_message=bool(self._settings.grace_message.strip()),
            )

    # --- sweeping

    def sweep(
        self, *, cause: str, actor: str = SIDECAR, dry_run: bool = False, force: bool = False
    ) -> SweepResult:
        """Plan today's transitions and carry them out (or, dry, only plan them)."""
        if dry_run:
            plan = self.plan()
            return SweepResult(
                plan,
                dry_run=True,
                blocked=plan.over_limit(
                    max_share=self._settings.max_share, max_count=self._settings.max_count
                ),
            )
        forum = self._require_forum()
        earlier = self.resume(cause=cause)
        if earlier.interrupted:
            # Planning on top of unfinished steps could reverse them out of order: finish them first.
            earlier.plan = None
            return earlier
        result = self._record_plan(cause=cause, actor=actor, force=force)
        result.steps[:0] = earlier.steps  # what this run finished of earlier sweeps comes first
        planned = result.sweep_id is not None and result.plan is not None and result.plan.forum_steps
        if planned and (result.blocked is None or result.forced):
            assert result.sweep_id is not None
            self._carry_out(result.sweep_id, forum, result)
        return result

    def resume(self, *, cause: str) -> SweepResult:
        """Finish the pending steps of earlier sweeps, oldest first."""
        forum = self._require_forum()
        result = SweepResult(plan=None)
        with self._sessions() as session:
            running = (
                session.execute(
                    select(Sweep.id).where(Sweep.status == SweepStatus.RUNNING).order_by(Sweep.id)
                )
                .scalars()
                .all()
            )
        for sweep_id in running:
            log.info("resuming an unfinished sweep", extra={"sweep": sweep_id, "cause": cause})
            self._carry_out(sweep_id, forum, result)
            if result.interrupted:
                break
        return result

    def run_requested(self, *, cause: str) -> SweepResult | None:
        """Finish unfinished sweeps, then run one sweep if an import or a deferral asked for one."""
        earlier = self.resume(cause=cause)
        if earlier.interrupted:
            return earlier
        with self._sessions() as session:
            asked = (
                session.execute(
                    select(Sweep.cause).where(Sweep.status == SweepStatus.REQUESTED).order_by(Sweep.id)
                )
                .scalars()
                .all()
            )
        if not asked:
            return None
        return self.sweep(cause=f"{cause} ({', '.join(asked[:5])})")

    def _require_forum(self) -> ForumClient:
        if self._forum is None:
            raise RuntimeError("a sweep that changes the forum needs a forum client")
        return self._forum

    def _record_plan(self, *, cause: str, actor: str, force: bool) -> SweepResult:
        now = self._clock.now()
        with self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
            plan = self._plan(session, now.date())
            blocked = plan.over_limit(max_share=self._settings.max_share, max_count=self._settings.max_count)
            summary = plan.summary()
            # Requests made before this plan's snapshot are answered by it.
            session.execute(
                update(Sweep)
                .where(Sweep.status == SweepStatus.REQUESTED)
                .values(status=SweepStatus.SUPERSEDED, finished_at=now)
            )
            sweep = Sweep(
                status=SweepStatus.BLOCKED if blocked and not force else SweepStatus.RUNNING,
                cause=cause,
                actor=actor,
                requested_at=now,
                planned_at=now,
                forced=bool(blocked and force),
                summary=json.dumps({**summary, "blocked": blocked}, sort_keys=True),
            )
            session.add(sweep)
            session.flush()
            if blocked and not force:
                sweep.finished_at = now
                audit.record(
                    session,
                    at=now,
                    actor=actor,
                    action="termination.sweep_blocked",
                    target="membership",
                    details={"sweep": sweep.id, "why": blocked, "cause": cause, **summary},
                )
                log.warning("termination sweep stopped by a limit", extra={"sweep": sweep.id, "why": blocked})
                return SweepResult(plan, sweep_id=sweep.id, blocked=blocked)
            if blocked:
                audit.record(
                    session,
                    at=now,
                    actor=actor,
                    action="termination.sweep_forced",
                    target="membership",
                    details={"sweep": sweep.id, "why": blocked, "cause": cause, **summary},
                )
            store.record_standings(session, plan.transitions, plan.enrolments, now)
            self._add_steps(session, sweep.id, plan.transitions)
            audit.record_many(
                session,
                [
                    (
                        actor,
                        f"standing.{t.after.value}",
                        f"member:{t.member_number}",
                        {
                            "from": t.before.value,
                            "reason": t.reason,
                            "sweep": sweep.id,
                            "cause": cause,
                            "deferral": t.deferral_id,
                            "forum_actions": len(t.steps),
                        },
                    )
                    for t in plan.transitions
                ],
                at=now,
            )
            if not plan.forum_steps:
                sweep.status, sweep.finished_at = SweepStatus.DONE, now
            sweep_id = sweep.id
        log.info("termination sweep planned", extra={"sweep": sweep_id, **summary})
        return SweepResult(plan, sweep_id=sweep_id, blocked=blocked, forced=bool(blocked))

    def _add_steps(self, session: Session, sweep_id: int, transitions: Sequence[Transition]) -> None:
        rows: list[dict[str, Any]] = []
        for t in transitions:
            for step in t.steps:
                params: dict[str, Any] = {"username": step.username, "reason": t.reason}
                if step.groups:
                    params["groups"] = list(step.groups)
                if t.grace_ends is not None:
                    params["grace_ends"] = t.grace_ends.isoformat()
                rows.append(
                    {
                        "sweep_id": sweep_id,
                        "seq": len(rows),
                        "member_number": t.member_number,
                        "forum_user_id": step.forum_user_id,
                        "action": step.action.value,
                        "params": json.dumps(params, sort_keys=True),
                        "status": StepStatus.PENDING.value,
                        "attempts": 0,
                    }
                )
        if rows:
            session.execute(insert(SweepStep), rows)

    # --- carrying out

    def _carry_out(self, sweep_id: int, forum: ForumClient, result: SweepResult) -> None:
        if not self._take_lease(sweep_id):
            result.interrupted = f"sweep {sweep_id} is being carried out by another process"
            result.pending_steps += self._pending(sweep_id)
            return
        users: dict[int, ForumUser | None] = {}
        cause_forum = forum.with_cause(f"sweep:{sweep_id}")
        deadline = None if self._time_budget is None else time.monotonic() + self._time_budget
        try:
            while (step := self._next_step(sweep_id)) is not None:
                status, detail = self._attempt(step, cause_forum, users)
                self._finish_step(step.id, status, detail)
                result.steps.append(
                    StepResult(step.member_number, step.forum_user_id, step.action, status, detail)
                )
                if deadline is not None and time.monotonic() > deadline and self._pending(sweep_id):
                    raise Interrupted(f"this run's {self._time_budget:g} s are spent: the next run goes on")
        except Interrupted as exc:
            result.interrupted = str(exc)
            result.pending_steps += self._pending(sweep_id)
            self._release(sweep_id)
            log.warning("termination sweep interrupted", extra={"sweep": sweep_id, "why": str(exc)})
            return
        self._close(sweep_id)

    def _take_lease(self, sweep_id: int) -> bool:
        now = self._clock.now()
        with self._sessions.begin() as session:
            taken = session.execute(
                update(Sweep)
                .where(
                    Sweep.id == sweep_id,
                    Sweep.status == SweepStatus.RUNNING,
                    (Sweep.lease_until.is_(None))
                    | (Sweep.lease_until < now)
                    | (Sweep.runner == self._runner),
                )
                .values(runner=self._runner, lease_until=now + self._lease)
                .returning(Sweep.id)
            ).scalar_one_or_none()
        return taken is not None

    def _release(self, sweep_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(Sweep)
                .where(Sweep.id == sweep_id, Sweep.runner == self._runner)
                .values(lease_until=None)
            )

    def _pending(self, sweep_id: int) -> int:
        with self._sessions() as session:
            return int(
                session.execute(
                    select(func.count())
                    .select_from(SweepStep)
                    .where(SweepStep.sweep_id == sweep_id, SweepStep.status == StepStatus.PENDING)
                ).scalar_one()
            )

    def _next_step(self, sweep_id: int) -> SweepStep | None:
        """The next pending step, marked attempted (and the lease renewed) before it is carried out."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            step = session.execute(
                select(SweepStep)
                .where(SweepStep.sweep_id == sweep_id, SweepStep.status == StepStatus.PENDING)
                .order_by(SweepStep.seq)
                .limit(1)
            ).scalar_one_or_none()
            if step is None:
                return None
            step.attempts += 1
            session.execute(update(Sweep).where(Sweep.id == sweep_id).values(lease_until=now + self._lease))
            session.flush()
            session.expunge(step)
            return step

    def _finish_step(self, step_id: int, status: StepStatus, detail: str | None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(SweepStep)
                .where(SweepStep.id == step_id)
                .values(status=status, detail=detail, finished_at=self._clock.now())
            )

    def _close(self, sweep_id: int) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            counts = dict(
                session.execute(
                    select(SweepStep.status, func.count())
                    .where(SweepStep.sweep_id == sweep_id)
                    .group_by(SweepStep.status)
                ).all()
            )
            sweep = session.get(Sweep, sweep_id)
            assert sweep is not None
            if sweep.status != SweepStatus.RUNNING:
                return
            sweep.status, sweep.finished_at, sweep.lease_until = SweepStatus.DONE, now, None
            audit.record(
                session,
                at=now,
                actor=sweep.actor,
                action="termination.sweep_done",
                target="membership",
                details={"sweep": sweep_id, "steps": {str(k): int(v) for k, v in counts.items()}},
            )

    # --- one step

    def _attempt(
        self, step: SweepStep, forum: ForumClient, users: dict[int, ForumUser | None]
    ) -> tuple[StepStatus, str | None]:
        params: Mapping[str, Any] = json.loads(step.params)
        first = step.attempts == 1
        try:
            if step.forum_user_id not in users:
                users[step.forum_user_id] = forum.get_user(step.forum_user_id, emails=False)
            user = users[step.forum_user_id]
            if user is None:
                return StepStatus.SKIPPED, "the forum account no longer exists"
            match Action(step.action):
                case Action.REMOVE_GROUPS:
                    return self._remove_groups(step, user, params, forum, first)
                case Action.SUSPEND:
                    return self._suspend(step, user, params, forum, first)
                case Action.UNSUSPEND:
                    return self._unsuspend(step, user, forum)
                case Action.RESTORE_GROUPS:
                    return self._restore_groups(step, user, params, forum)
                case Action.GRACE_MESSAGE:
                    return self._grace_message(user, params, forum, first)
        except NotFound:
            users[step.forum_user_id] = None
            return StepStatus.SKIPPED, "the forum account no longer exists"
        except (RateLimited, Unavailable) as exc:
            raise Interrupted(f"the forum cannot take more now: {exc}") from exc
        except (Forbidden, Rejected) as exc:
            return StepStatus.FAILED, f"the forum refused: {exc}"
        except ForumError as exc:
            return StepStatus.FAILED, f"forum error: {exc}"

    def _remove_groups(
        self, step: SweepStep, user: ForumUser, params: Mapping[str, Any], forum: ForumClient, first: bool
    ) -> tuple[StepStatus, str | None]:
        present = {g.name.lower() for g in user.groups}
        taking = [g for g in params.get("groups", ()) if g.lower() in present]
        with self._sessions.begin() as session:
            withheld = [] if first else _withheld(session, step.forum_user_id)
            store.set_link_state(session, step.forum_user_id, withheld_groups=[*withheld, *taking])
        if not taking:
            return StepStatus.ALREADY_DONE, "none of the granted groups is held any more"
        for group in taking:
            forum.remove_group_members(group, [user.username])
        return StepStatus.DONE, f"removed from {', '.join(taking)}"

    def _suspend(
        self, step: SweepStep, user: ForumUser, params: Mapping[str, Any], forum: ForumClient, first: bool
    ) -> tuple[StepStatus, str | None]:
        now = self._clock.now()
        if user.suspended_at(now):
            if first:
                return StepStatus.ALREADY_DONE, "suspended already by someone else: not the sidecar's to lift"
            self._set_imposed(step.forum_user_id, True)
            return StepStatus.ALREADY_DONE, "suspended by an earlier attempt"
        message = self._settings.suspend_message.format(
            username=user.username, why=WHY.get(params.get("reason", ""), "the membership has ended")
        )
        outcome = forum.suspend_user(
            user.id,
            until=now + timedelta(days=365 * SUSPEND_YEARS),
            reason=self._settings.suspend_reason.strip(),
            message=message.strip() or None,
        )
        if outcome is Outcome.ALREADY_DONE:
            return StepStatus.ALREADY_DONE, "suspended by someone else meanwhile: not the sidecar's to lift"
        self._set_imposed(step.forum_user_id, True)
        return StepStatus.DONE, "suspended" if outcome is Outcome.DONE else str(outcome)

    def _unsuspend(
        self, step: SweepStep, user: ForumUser, forum: ForumClient
    ) -> tuple[StepStatus, str | None]:
        with self._sessions() as session:
            link = session.get(ForumLink, step.forum_user_id)
            imposed = link is not None and link.imposed_suspension
        if not imposed:
            return StepStatus.SKIPPED, "the suspension is not the sidecar's: left in place"
        if user.suspended_at(self._clock.now()):
            forum.unsuspend_user(user.id)
            status, detail = StepStatus.DONE, "suspension lifted"
        else:
            status, detail = StepStatus.ALREADY_DONE, "not suspended any more"
        self._set_imposed(step.forum_user_id, False)
        return status, detail

    def _restore_groups(
        self, step: SweepStep, user: ForumUser, params: Mapping[str, Any], forum: ForumClient
    ) -> tuple[StepStatus, str | None]:
        present = {g.name.lower() for g in user.groups}
        missing = [g for g in params.get("groups", ()) if g.lower() not in present]
        for group in missing:
            forum.add_group_members(group, [user.username])
        with self._sessions.begin() as session:
            store.set_link_state(session, step.forum_user_id, withheld_groups=[])
        if not missing:
            return StepStatus.ALREADY_DONE, "the groups are back already"
        return StepStatus.DONE, f"added back to {', '.join(missing)}"

    def _grace_message(
        self, user: ForumUser, params: Mapping[str, Any], forum: ForumClient, first: bool
    ) -> tuple[StepStatus, str | None]:
        if not first:
            return StepStatus.SKIPPED, "an interrupted attempt may have sent it: not sent twice"
        raw = self._settings.grace_message.format(
            username=user.username,
            why=WHY["in_grace"],
            grace_ends=params.get("grace_ends", "the end of the grace period"),
        )
        forum.send_private_message([user.username], self._settings.grace_message_title, raw.strip())
        return StepStatus.DONE, "grace message sent"

    def _set_imposed(self, forum_user_id: int, imposed: bool) -> None:
        with self._sessions.begin() as session:
            store.set_link_state(session, forum_user_id, imposed_suspension=imposed)


def _withheld(session: Session, forum_user_id: int) -> list[str]:
    """The groups an earlier attempt of a termination recorded as taken from the account."""
    link = session.get(ForumLink, forum_user_id)
    return list(json.loads(link.withheld_groups)) if link is not None else []
