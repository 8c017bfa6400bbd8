"""``mug-sidecar terminations`` and ``mug-sidecar deferrals``: the sweep on demand, and Board deferrals.

``terminations sweep --dry-run`` plans from the database alone; every other command talks to the
configured forum (``forum.url``): the sweep to act, the deferral commands to check that ``--as`` names a
member of the Board group.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from sidecar.cli_exit import fail
from sidecar.db.models import Standing
from sidecar.forum.factory import ForumNotConfigured, build_forum
from sidecar.forum.port import ForumClient, ForumError
from sidecar.membership.cli import actor_option, default_actor
from sidecar.termination.deferrals import DeferralRefused, DeferralService, DeferralView
from sidecar.termination.plan import Transition
from sidecar.termination.sweeps import SweepResult, TerminationService

if TYPE_CHECKING:
    from sidecar.cli import Context
    from sidecar.runtime import Runtime


def _forum(runtime: Runtime) -> ForumClient:
    try:
        return build_forum(runtime)
    except ForumNotConfigured as exc:
        fail(str(exc))


@click.group()
def terminations() -> None:
    """Automatic termination of ineligible members (and reinstatement of eligible ones)."""


@terminations.command("sweep")
@click.option("--dry-run", is_flag=True, help="Plan and report; change nothing (needs no forum).")
@click.option("--force", is_flag=True, help="Go ahead even over termination.max_share / max_count (audited).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array: an object per transition.")
@actor_option
@click.pass_obj
def terminations_sweep(ctx: Context, dry_run: bool, force: bool, as_json: bool, actor: str | None) -> None:
    """Compare every member's eligibility today with their standing and act on the differences.

    Earlier sweeps' unfinished forum actions are finished first. A sweep that would terminate more than
    the configured share or count of members stops before any forum action unless --force is given;
    it then exits with status 1.
    """
    runtime = ctx.require_current_schema()
    forum = None if dry_run else _forum(runtime)
    service = TerminationService(
        sessions=runtime.sessions, clock=runtime.clock, config=runtime.config, forum=forum
    )
    actor = actor or default_actor()
    try:
        result = service.sweep(cause=f"cli:{actor}", actor=actor, dry_run=dry_run, force=force)
    except ForumError as exc:
        fail(f"the forum refused: {exc}")
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(render_sweep(result))
    if result.blocked and not result.forced:
        fail(f"sweep stopped before any forum action: {result.blocked}; run it with --force to go ahead")
    if result.interrupted:
        fail(
            f"forum actions interrupted ({result.interrupted}); {result.pending_steps} wait: the worker"
            " finishes them, or run the sweep again"
        )


def render_sweep(result: SweepResult) -> str:
    lines = []
    if result.plan is None:
        lines.append("no new plan: earlier sweeps still have forum actions to finish")
    else:
        verb = "would change" if result.dry_run else "changed"
        plan = result.plan
        lines.append(
            f"sweep as of {plan.today.isoformat()}: {len(plan.transitions)} standings {verb}"
            f" ({plan.terminations} terminations of {plan.with_access} members with access),"
            f" {len(plan.enrolments)} members recorded for the first time"
        )
        lines.extend(_transition_line(t) for t in plan.transitions)
    if result.steps:
        done: dict[str, int] = {}
        for step in result.steps:
            done[step.status] = done.get(step.status, 0) + 1
        lines.append("forum actions: " + ", ".join(f"{n} {status}" for status, n in sorted(done.items())))
        lines.extend(
            f"  {s.action} user {s.forum_user_id} (member {s.member_number}): {s.detail}"
            for s in result.steps
            if s.status == "failed"
        )
    if result.blocked:
        lines.append(("FORCED past the limit: " if result.forced else "STOPPED: ") + result.blocked)
    return "\n".join(lines)


def _transition_line(t: Transition) -> str:
    actions = ", ".join(f"{s.action.value} {s.username}" for s in t.steps) or "no forum action"
    return f"  {t.member_number:<12} {t.before.value:>10} -> {t.after.value:<10} {t.reason:<24} {actions}"


@terminations.command("standings")
@click.option("--state", type=click.Choice(["pending", "active", "grace", "terminated", "deferred"]))
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_obj
def terminations_standings(ctx: Context, state: str | None, as_json: bool) -> None:
    """Members' standings as the last sweep recorded them."""
    runtime = ctx.require_current_schema()
    query = select(Standing).order_by(Standing.member_number)
    if state:
        query = query.where(Standing.state == state)
    with runtime.sessions() as session:
        rows = [
            {
                "member_number": s.member_number,
                "state": s.state,
                "reason": s.reason,
                "since": s.since.isoformat(),
                "deferral": s.deferral_id,
            }
            for s in session.execute(query).scalars()
        ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        deferral = f"  (deferral {r['deferral']})" if r["deferral"] else ""
        click.echo(f"{r['member_number']:<12} {r['state']:<11} {r['reason']:<24} {r['since']}{deferral}")


# --- deferrals ---------------------------------------------------------------------------------------------


def _deferrals(ctx: Context, *, needs_forum: bool = True) -> DeferralService:
    runtime = ctx.require_current_schema()
    forum = _forum(runtime) if needs_forum else None
    return DeferralService(
        sessions=runtime.sessions, clock=runtime.clock, settings=runtime.config.termination, forum=forum
    )


def _date(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _show(view: DeferralView, as_json: bool, verb: str) -> None:
    if as_json:
        click.echo(json.dumps(view.to_json(), indent=2))
        return
    click.echo(
        f"deferral {view.id} {verb}: {view.target} until {view.until.isoformat()},"
        f" {len(view.approvals)} of {view.required_approvals} approvals, {view.status.value}"
    )


@click.group()
def deferrals() -> None:
    """Board deferrals of terminations (each needs approvals from Board members)."""


@deferrals.command("request")
@click.option("--member", "member_number", help="The member whose termination is deferred.")
@click.option("--organization", "org_id", help="The organization whose members' terminations are deferred.")
@click.option("--reason", required=True, help="Why (recorded and shown to the Board).")
@click.option("--resolution", required=True, help="The Board resolution reference.")
@click.option("--until", required=True, callback=_date, metavar="YYYY-MM-DD", help="Last day it holds.")
@click.option("--as", "actor", required=True, help="The Board member requesting it (checked on the forum).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (with the deferral's id).")
@click.pass_obj
def deferrals_request(
    ctx: Context,
    member_number: str | None,
    org_id: str | None,
    reason: str,
    resolution: str,
    until: date,
    actor: str,
    as_json: bool,
) -> None:
    """Ask for a deferral; it takes effect once enough Board members approve it."""
    if (member_number is None) == (org_id is None):
        fail("give exactly one of --member NUMBER or --organization ORG_ID")
    try:
        view = _deferrals(ctx).request(
            member_number=member_number,
            org_id=org_id,
            reason=reason,
            resolution=resolution,
            until=until,
            actor=actor,
        )
    except (DeferralRefused, ForumError) as exc:
        fail(str(exc))
    _show(view, as_json, "requested")


@deferrals.command("approve")
@click.argument("deferral_id", type=int)
@click.option("--as", "actor", required=True, help="The approving Board member (checked on the forum).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_obj
def deferrals_approve(ctx: Context, deferral_id: int, actor: str, as_json: bool) -> None:
    """Approve a deferral (once per Board member)."""
    try:
        view = _deferrals(ctx).approve(deferral_id, actor=actor)
    except (DeferralRefused, ForumError) as exc:
        fail(str(exc))
    _show(view, as_json, "approved")


@deferrals.command("revoke")
@click.argument("deferral_id", type=int)
@click.option("--as", "actor", required=True, help="The Board member revoking it (checked on the forum).")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_obj
def deferrals_revoke(ctx: Context, deferral_id: int, actor: str, reason: str, as_json: bool) -> None:
    """Revoke a deferral: the next sweep terminates a member who is still ineligible."""
    try:
        view = _deferrals(ctx).revoke(deferral_id, actor=actor, reason=reason)
    except (DeferralRefused, ForumError) as exc:
        fail(str(exc))
    _show(view, as_json, "revoked")


@deferrals.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_obj
def deferrals_list(ctx: Context, as_json: bool) -> None:
    """Every deferral, newest first, with its approvals and status."""
    views = _deferrals(ctx, needs_forum=False).all()
    if as_json:
        click.echo(json.dumps([v.to_json() for v in views], indent=2))
        return
    for v in views:
        names = ", ".join(name for name, _ in v.approvals) or "none"
        click.echo(
            f"{v.id:>5}  {v.target:<28} until {v.until.isoformat()}  {v.status.value:<17}"
            f" approvals {len(v.approvals)}/{v.required_approvals} ({names})  resolution {v.resolution}"
        )
