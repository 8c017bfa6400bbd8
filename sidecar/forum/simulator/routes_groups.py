"""``/groups/*``: dc: app/controllers/groups_controller.rb (show, members, add_members, remove_member)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from werkzeug.wrappers import Response

from sidecar.forum.simulator import errors, params
from sidecar.forum.simulator.answers import json_answer
from sidecar.forum.simulator.context import Access, Ctx, Route
from sidecar.forum.simulator.json_groups import group_member, group_show
from sidecar.forum.simulator.records import Group, User

MEMBERS_DEFAULT_PAGE_SIZE = 50
MEMBERS_MAX_PAGE_SIZE = 1000
ADD_MEMBERS_LIMIT = 1000


def _group_by_name(ctx: Ctx, name: str) -> Group:
    wanted = name.lower()
    group = next((g for g in ctx.sim.groups.values() if g.name.lower() == wanted), None)
    staff = ctx.user is not None and ctx.user.staff
    if group is None or (group.visibility_level > 0 and not staff and not _is_member(ctx, group)):
        raise errors.not_found()
    return group


def _is_member(ctx: Ctx, group: Group) -> bool:
    return ctx.user is not None and ctx.user.id in ctx.sim.group_member_ids(group)


def _group_by_id(ctx: Ctx, raw: str) -> Group:
    group = ctx.sim.groups.get(int(raw)) if raw.isdigit() else None
    if group is None:
        raise errors.not_found()
    return group


def _ensure_can_edit(ctx: Ctx, group: Group) -> None:
    # dc: GroupGuardian#can_edit_group? -- never automatic groups; admins, or the group's owners
    user = ctx.actor
    if group.automatic or not (user.admin or user.id in group.owners):
        raise errors.invalid_access()


def show(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    with sim.lock:
        group = _group_by_name(ctx, args["name"])
        staff = ctx.user is not None and ctx.user.staff
        visible = [
            g.name for g in sorted(sim.groups.values(), key=lambda g: g.id) if staff or not g.automatic
        ]
        return json_answer(
            {"group": group_show(sim, group, ctx.user), "extras": {"visible_group_names": visible}}
        )


def _int_param(ctx: Ctx, name: str, default: int, maximum: int) -> int:
    # dc: ApplicationController#fetch_int_from_params -- a non-integer or out-of-range value is a 400
    if name not in ctx.params:
        return default
    raw = params.text(ctx.params, name) or ""
    if not re.fullmatch(r"\s*[-+]?\d+\s*", raw):
        raise errors.invalid_parameters(name)
    value = int(raw)
    if value < 0 or value > maximum:
        raise errors.invalid_parameters(name)
    return value


def members(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    with sim.lock:
        group = _group_by_name(ctx, args["name"])
        limit = _int_param(ctx, "limit", MEMBERS_DEFAULT_PAGE_SIZE, MEMBERS_MAX_PAGE_SIZE)
        offset = params.integer(ctx.params, "offset") or 0
        if offset < 0:
            raise errors.invalid_parameters("offset")
        rows = [(u, at) for u, at in sim.group_members_with_dates(group) if u.id > 0]
        total = len(rows)
        text = params.present(ctx.params, "filter")
        if text is not None:
            needles = [t.strip().lower() for t in text.split(",") if t.strip()]
            admin = ctx.user is not None and ctx.user.admin
            rows = [
                (u, at)
                for u, at in rows
                if any(n in u.username_lower or (admin and n in u.email) for n in needles)
            ]
        ascending = params.present(ctx.params, "asc") is not None
        rows.sort(key=lambda row: row[0].username_lower, reverse=not ascending)
        rows.sort(key=lambda row: row[0].id not in group.owners)  # owners first (stable sort keeps the rest)
        page = rows[offset : offset + limit]
        owners = [(u, at) for u, at in rows if u.id in group.owners]
        return json_answer(
            {
                "members": [group_member(u, at) for u, at in page],
                "owners": [group_member(u, at) for u, at in owners],
                "meta": {"total": total, "limit": limit, "offset": offset},
            }
        )


def _users_from_params(ctx: Ctx) -> list[User]:
    """dc: GroupsController#users_from_params -- the first of usernames, user_id, user_ids, user_emails."""
    sim = ctx.sim
    users = list(sim.users.values())
    if (value := params.present(ctx.params, "usernames")) is not None:
        wanted = {n.strip().lower() for n in value.split(",")}
        found = [u for u in users if u.username_lower in wanted]
        if not found:
            raise errors.invalid_parameters("usernames")
    elif (value := params.present(ctx.params, "user_id")) is not None:
        found = [u for u in users if str(u.id) == value.strip()]
        if not found:
            raise errors.invalid_parameters("user_id")
    elif (value := params.present(ctx.params, "user_ids")) is not None:
        wanted_ids = {i.strip() for i in value.split(",")}
        found = [u for u in users if str(u.id) in wanted_ids]
        if not found:
            raise errors.invalid_parameters("user_ids")
    elif (value := params.present(ctx.params, "user_emails")) is not None:
        addresses = {e.strip().lower() for e in value.split(",")}
        found = [u for u in users if addresses & set(u.emails)]
        if not found:
            raise errors.invalid_parameters("user_emails")
    else:
        found = []
    return sorted(found, key=lambda u: u.id)


def _already_members_message(usernames: list[str]) -> str:
    names = ", ".join(sorted(usernames))
    if len(usernames) == 1:
        return f"'{names}' is already a member of this group."
    return f"The following users are already members of this group: {names}"


def add_members(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    with sim.lock:
        group = _group_by_id(ctx, args["id"])
        _ensure_can_edit(ctx, group)
        users = _users_from_params(ctx)
        invites: list[str] = []
        if (value := params.present(ctx.params, "emails")) is not None:
            for address in (a.strip() for a in value.split(",") if a.strip()):
                existing = sim.find_user(email=address)
                if existing is not None:
                    users.append(existing)
                else:
                    invites.append(address)
        if not users and not invites:
            raise errors.invalid_parameters("Usernames or emails must be present")
        if len(users) > ADD_MEMBERS_LIMIT:
            raise errors.unprocessable(f"You cannot add more than {ADD_MEMBERS_LIMIT} users at once")
        member_ids = set(sim.group_member_ids(group))
        already = [u.username for u in users if u.id in member_ids]
        if already and len(already) == len(users) and not invites:
            raise errors.unprocessable(_already_members_message(already))
        unique = list({u.id: u for u in users}.values())
        sim.add_group_members(group.id, unique)
        return json_answer({"success": "OK", "usernames": [u.username for u in unique], "emails": invites})


def remove_members(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    with sim.lock:
        group = _group_by_id(ctx, args["id"])
        _ensure_can_edit(ctx, group)
        # "Maintain backwards compatibility" (dc): singular parameter names are accepted too
        if (single := params.present(ctx.params, "username")) is not None:
            ctx.params["usernames"] = single
        if (single := params.present(ctx.params, "user_email")) is not None:
            ctx.params["user_emails"] = single
        users = _users_from_params(ctx)
        if not users:
            raise errors.invalid_parameters("user_ids or usernames or user_emails must be present")
        removed = {u.id for u in sim.remove_group_members(group.id, users)}
        return json_answer(
            {
                "success": "OK",
                "usernames": [u.username for u in users if u.id in removed],
                "skipped_usernames": [u.username for u in users if u.id not in removed],
            }
        )


ROUTES = (
    Route("/groups/<name>", ("GET",), show, Access.PUBLIC),
    Route("/groups/<name>/members", ("GET",), members, Access.PUBLIC),
    Route("/groups/<id>/members", ("PUT",), add_members, Access.LOGIN),
    Route("/groups/<id>/members", ("DELETE",), remove_members, Access.LOGIN),
)
