"""``mug-sidecar members``: import, export and look up the membership database.

Thin click commands over ``importing``, ``exporting`` and ``repository``. The group receives the CLI's
``Context`` as click's ``obj``; it is typed from ``sidecar.cli`` for the checker only, because
``sidecar.cli`` registers this group (``main.add_command(members)``) and importing it here would be a cycle.
Errors exit 1 with ``error: ...`` on stderr, like every other command.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy.exc import IntegrityError

from sidecar import audit
from sidecar.cli_exit import fail
from sidecar.membership import repository
from sidecar.membership.collector import paused_collector
from sidecar.membership.eligibility import Eligibility, MembershipRules, decide
from sidecar.membership.errors import ImportRefused, TooManyIneligible
from sidecar.membership.exporting import export_membership
from sidecar.membership.importing import ImportReport, import_membership
from sidecar.membership.records import MemberRecord, OrganizationRecord
from sidecar.membership.source import CsvSource
from sidecar.termination.sweeps import request_sweep

if TYPE_CHECKING:
    from sidecar.cli import Context
    from sidecar.config import MembershipConfig
    from sidecar.runtime import Runtime

SHOW_ACTION = "members.show"
CHANGES_SHOWN = 50  # eligibility changes listed in the text report; --json lists them all


def default_actor() -> str:
    """The OS user running the command: who an audit entry names when ``--as`` is not given."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


def _iso_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
OUT_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)
actor_option = click.option(
    "--as", "actor", metavar="NAME", help="Who is acting, for the audit log (default: the OS user)."
)
as_of_option = click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    callback=_iso_date,
    help="Decide eligibility as of this date (default: today, UTC).",
)


def rules_of(settings: MembershipConfig) -> MembershipRules:
    return MembershipRules.from_settings(
        accepted_statuses=settings.accepted_statuses,
        grace_days=settings.grace_days,
        individual_memberships=settings.individual_memberships,
    )


def _today(runtime: Runtime, as_of: date | None) -> date:
    return as_of if as_of is not None else runtime.clock.now().date()


@click.group()
def members() -> None:
    """The membership database: import, export, look up."""


@members.command("import")
@click.option("--organizations", "organizations_path", type=CSV_FILE, help="Organizations CSV file.")
@click.option("--members", "members_path", type=CSV_FILE, help="Members CSV file.")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--force", is_flag=True, help="Import even if many existing members become ineligible.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (the report, or the errors).")
@as_of_option
@actor_option
@click.pass_obj
def members_import(
    ctx: Context,
    organizations_path: Path | None,
    members_path: Path | None,
    dry_run: bool,
    force: bool,
    as_json: bool,
    as_of: date | None,
    actor: str | None,
) -> None:
    """Add or update organizations and members from CSV files, by key.

    Every row of both files is checked first; with any problem nothing is written and every problem is
    listed with its file, line and column. Records absent from the files are left as they are: an import
    never deletes (ending a membership is the termination sweep's business).
    """
    if organizations_path is None and members_path is None:
        fail("give --organizations FILE, --members FILE, or both")
    runtime = ctx.require_current_schema()
    settings = runtime.config.membership
    session_factory = runtime.sessions if dry_run else runtime.sessions.begin
    try:
        with paused_collector():
            batch = CsvSource(organizations=organizations_path, members=members_path).read()
            with session_factory() as session:
                report = import_membership(
                    session,
                    batch,
                    rules=rules_of(settings),
                    today=_today(runtime, as_of),
                    now=runtime.clock.now(),
                    actor=actor or default_actor(),
                    max_ineligible_share=settings.import_max_ineligible_share,
                    dry_run=dry_run,
                    force=force,
                )
                if not dry_run and report.plan.eligibility_changes:
                    # In the import's transaction: the data and the request for its sweep commit together.
                    request_sweep(
                        session,
                        cause=f"import:{report.audit_entry_id}",
                        actor=actor or default_actor(),
                        now=runtime.clock.now(),
                    )
    except ImportRefused as exc:
        if as_json:
            click.echo(json.dumps({"errors": [p.to_json() for p in exc.problems]}, indent=2))
        else:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
        fail(str(exc))
    except TooManyIneligible as exc:
        if as_json:
            refusal = {"file": None, "line": None, "column": None, "reason": str(exc)}
            click.echo(json.dumps({"errors": [refusal]}, indent=2))
        fail(str(exc))
    except IntegrityError:
        fail("the membership data changed while importing; nothing was written: run the import again")
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(render_report(report))
    if not dry_run and report.plan.eligibility_changes:
        minutes = runtime.config.termination.resume_minutes
        click.echo(
            f"eligibility changed for {len(report.plan.eligibility_changes)} members: a termination sweep"
            f" is requested (the worker runs it within {minutes:g} minutes)",
            err=True,
        )


def render_report(report: ImportReport) -> str:
    plan = report.plan
    orgs, people = plan.organizations, plan.members
    lines = ["dry run: nothing was written"] if report.dry_run else []
    lines.append(f"organizations: {orgs.created} created, {orgs.updated} updated, {orgs.unchanged} unchanged")
    lines.append(
        f"members: {people.created} created ({plan.new_members_eligible} eligible),"
        f" {people.updated} updated, {people.unchanged} unchanged"
    )
    changes = plan.eligibility_changes
    lines.append(f"eligibility changes of existing members as of {plan.as_of.isoformat()}: {len(changes)}")
    for change in changes[:CHANGES_SHOWN]:
        lines.append(f"  {change.member_number}: {change.before.describe()} -> {change.after.describe()}")
    if len(changes) > CHANGES_SHOWN:
        lines.append(f"  ... and {len(changes) - CHANGES_SHOWN} more (--json lists them all)")
    lines.append(
        f"newly ineligible: {plan.newly_ineligible} of {plan.existing_members} existing members"
        f" (limit {report.max_ineligible_share:.0%}{', forced' if report.forced else ''})"
    )
    if report.dry_run and report.over_limit:
        lines.append("over the limit: the import would be refused without --force")
    if report.audit_entry_id is not None:
        lines.append(f"audit entry {report.audit_entry_id}")
    return "\n".join(lines)


@members.command("export")
@click.option("--organizations", "organizations_path", type=OUT_FILE, help="Write organizations here.")
@click.option("--members", "members_path", type=OUT_FILE, help="Write members here.")
@actor_option
@click.pass_obj
def members_export(
    ctx: Context, organizations_path: Path | None, members_path: Path | None, actor: str | None
) -> None:
    """Write the membership database as the CSV files `members import` reads (owner-only files)."""
    if organizations_path is None and members_path is None:
        fail("give --organizations FILE, --members FILE, or both")
    runtime = ctx.require_current_schema()
    try:
        with paused_collector(), runtime.sessions.begin() as session:
            result = export_membership(
                session,
                organizations=organizations_path,
                members=members_path,
                actor=actor or default_actor(),
                now=runtime.clock.now(),
            )
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    for role, written in result.files.items():
        click.echo(f"{role}: {written['rows']} rows to {written['file']} (sha256 {written['sha256']})")


@members.command("show")
@click.argument("who")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@as_of_option
@actor_option
@click.pass_obj
def members_show(ctx: Context, who: str, as_json: bool, as_of: date | None, actor: str | None) -> None:
    """A member (by number, or by email address), their organization and eligibility. Audited."""
    runtime = ctx.require_current_schema()
    today = _today(runtime, as_of)
    with runtime.sessions.begin() as session:
        if "@" in who:
            member = repository.find_member_by_email(session, who)
        else:
            member = repository.find_member(session, who)
        if member is None:
            fail(f"no member {who}")
        organization = repository.get_organization(session, member.org_id) if member.org_id else None
        result = decide(member, organization, rules_of(runtime.config.membership), today)
        audit.record(
            session,
            at=runtime.clock.now(),
            actor=actor or default_actor(),
            action=SHOW_ACTION,
            target=f"member:{member.member_number}",
            details={"by": "email" if "@" in who else "number"},
        )
    if as_json:
        click.echo(json.dumps(show_json(member, organization, result, today), indent=2))
        return
    click.echo(render_member(member, organization, result, today))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def show_json(
    member: MemberRecord, organization: OrganizationRecord | None, result: Eligibility, today: date
) -> dict[str, Any]:
    return {
        "member_number": member.member_number,
        "name": member.name,
        "status": member.status.value,
        "paid_through": _iso(member.paid_through),
        "emails": list(member.emails),
        "organization": None
        if organization is None
        else {
            "org_id": organization.org_id,
            "name": organization.name,
            "status": organization.status.value,
            "paid_through": _iso(organization.paid_through),
            "domains": list(organization.domains),
        },
        "eligibility": {
            "eligible": result.eligible,
            "reason": result.reason.value,
            "as_of": today.isoformat(),
        },
    }


def render_member(
    member: MemberRecord, organization: OrganizationRecord | None, result: Eligibility, today: date
) -> str:
    if organization is not None:
        org = (
            f"{organization.org_id} {organization.name} ({organization.status},"
            f" paid through {_iso(organization.paid_through) or 'never'};"
            f" domains {', '.join(organization.domains) or 'none'})"
        )
    else:
        org = "none (individual membership)"
    rows = [
        ("member", f"{member.member_number} {member.name}"),
        ("status", member.status.value),
        ("emails", ", ".join(member.emails) or "none"),
        ("organization", org),
    ]
    if member.org_id is None:
        rows.append(("paid through", _iso(member.paid_through) or "never"))
    rows.append(("eligibility", f"{result.describe()} as of {today.isoformat()}"))
    return "\n".join(f"{label:<13} {value}" for label, value in rows)
