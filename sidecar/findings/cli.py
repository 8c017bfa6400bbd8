"""``mug-sidecar findings``: the moderators' queue of sensitive-information findings.

``list`` reads the database only; ``dismiss`` and ``confirm`` ask the configured forum whether ``--as`` is a
moderator or an admin, so they need ``forum.url``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from sidecar.cli_exit import fail
from sidecar.db.models import FindingStatus
from sidecar.findings.queue import FindingsQueue, QueueRefused
from sidecar.forum.factory import ForumNotConfigured, build_forum
from sidecar.forum.port import ForumError

if TYPE_CHECKING:
    from sidecar.cli import Context


def _queue(ctx: Context, *, needs_forum: bool) -> FindingsQueue:
    runtime = ctx.require_current_schema()
    forum = None
    if needs_forum:
        try:
            forum = build_forum(runtime)
        except ForumNotConfigured as exc:
            fail(str(exc))
    return FindingsQueue(sessions=runtime.sessions, clock=runtime.clock, forum=forum)


@click.group()
def findings() -> None:
    """Sensitive information found in forum posts: the moderators' queue."""


@findings.command("list")
@click.option("--status", type=click.Choice([s.value for s in FindingStatus]), help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=500, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON array of findings.")
@click.pass_obj
def findings_list(ctx: Context, status: str | None, limit: int, as_json: bool) -> None:
    """Findings, newest first: type, severity, post, author, masked preview (never the value)."""
    rows = _queue(ctx, needs_forum=False).list(status, limit)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        click.echo(_line(r))


def _line(r: dict[str, Any]) -> str:
    where = f"post {r['post_id']} v{r['version']}"
    return (
        f"{r['id']:>6}  {r['status']:<16} {r['severity']:<8} {r['type']:<15} {where:<18}"
        f" {r['author'] or '-':<16} {r['preview']}"
    )


@findings.command("dismiss")
@click.argument("finding_id", type=int)
@click.option("--as", "actor", required=True, help="The moderator deciding (checked on the forum).")
@click.option("--reason", required=True, help="Why it is not sensitive (recorded).")
@click.pass_obj
def findings_dismiss(ctx: Context, finding_id: int, actor: str, reason: str) -> None:
    """A false positive: closed, and the same value is not reported for this author again."""
    try:
        row = _queue(ctx, needs_forum=True).dismiss(finding_id, actor=actor, reason=reason)
    except (QueueRefused, ForumError) as exc:
        fail(str(exc))
    click.echo(f"finding {row['id']} dismissed by {row['decided_by']}")


@findings.command("confirm")
@click.argument("finding_id", type=int)
@click.option("--as", "actor", required=True, help="The moderator deciding (checked on the forum).")
@click.option("--hide", is_flag=True, help="Also hide the post on the forum.")
@click.pass_obj
def findings_confirm(ctx: Context, finding_id: int, actor: str, hide: bool) -> None:
    """The moderator agrees the post exposes sensitive information."""
    try:
        row = _queue(ctx, needs_forum=True).confirm(finding_id, actor=actor, hide=hide)
    except (QueueRefused, ForumError) as exc:
        fail(str(exc))
    click.echo(f"finding {row['id']} confirmed by {row['decided_by']}" + (" (post hidden)" if hide else ""))
