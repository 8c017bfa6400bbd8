"""``mug-sidecar registrations``: the staff review queue for forum sign-ups.

``--as`` names the acting admin; the forum is asked whether that account is an admin before anything is
done, and every action is audited under that name. These commands talk to the configured forum, so they
need ``forum.url`` (the simulator of the embedded mode lives only inside ``serve``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select

from sidecar.cli_exit import fail
from sidecar.db.models import Registration
from sidecar.forum.factory import ForumNotConfigured, build_forum
from sidecar.forum.port import ForumError
from sidecar.registration.service import RegistrationService, ReviewRefused

if TYPE_CHECKING:
    from sidecar.cli import Context


def _service(ctx: Context) -> RegistrationService:
    runtime = ctx.require_current_schema()
    try:
        forum = build_forum(runtime)
    except ForumNotConfigured as exc:
        fail(str(exc))
    return RegistrationService(
        sessions=runtime.sessions, clock=runtime.clock, config=runtime.config, forum=forum
    )


def registration_json(row: Registration) -> dict[str, Any]:
    return {
        "id": row.forum_user_id,
        "username": row.username,
        "email": row.email,
        "status": row.status,
        "reason": row.reason,
        "member_number": row.member_number,
        "suggested_organization": row.suggested_org,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat(),
        "first_seen_at": row.first_seen_at.isoformat(),
    }


@click.group()
def registrations() -> None:
    """Forum sign-ups: what the sidecar decided, and staff decisions on the held ones."""


@registrations.command("list")
@click.option(
    "--status", help="Only this status (held, awaiting_confirmation, approved, rejected, mismatch, ...)."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of registrations.")
@click.pass_obj
def registrations_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """Sign-ups, newest decisions first (the forum user id is the ID the other commands take)."""
    runtime = ctx.require_current_schema()
    query = select(Registration).order_by(Registration.decided_at.desc())
    if status:
        query = query.where(Registration.status == status)
    with runtime.sessions() as session:
        rows = [registration_json(r) for r in session.execute(query).scalars()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        suggestion = f"  (organization {r['suggested_organization']}?)" if r["suggested_organization"] else ""
        line = f"{r['id']:>7}  {r['username']:<20} {r['email'] or '-':<32} {r['status']:<22} "
        click.echo(line + str(r["reason"]) + suggestion)


@registrations.command("approve")
@click.argument("forum_user_id", type=int)
@click.option("--member", "member_number", required=True, help="The member this account belongs to.")
@click.option("--as", "actor", required=True, help="The forum admin taking the decision.")
@click.pass_obj
def registrations_approve(ctx: Context, forum_user_id: int, member_number: str, actor: str) -> None:
    """Link a held account to a member and approve it on the forum."""
    try:
        outcome = _service(ctx).staff_approve(forum_user_id, member_number, actor=actor)
    except (ReviewRefused, ForumError) as exc:
        fail(str(exc))
    click.echo(f"forum user {outcome.forum_user_id} approved and linked to member {outcome.member_number}")


@registrations.command("reject")
@click.argument("forum_user_id", type=int)
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--as", "actor", required=True, help="The forum admin taking the decision.")
@click.pass_obj
def registrations_reject(ctx: Context, forum_user_id: int, reason: str, actor: str) -> None:
    """Refuse a pending account: it is deleted from the forum."""
    try:
        outcome = _service(ctx).staff_reject(forum_user_id, reason, actor=actor)
    except (ReviewRefused, ForumError) as exc:
        fail(str(exc))
    click.echo(f"forum user {outcome.forum_user_id} rejected: {outcome.reason}")
