"""``/admin/users/*`` and ``/admin/groups``.

dc: app/controllers/admin/users_controller.rb, app/controllers/admin/groups_controller.rb and
lib/admin_user_index_query.rb (newest revision: ``filter`` splits into terms on commas and spaces,
``activation=activated|not_activated``, ``order`` with ``asc`` and NULLs last).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from sidecar.forum.simulator import errors, params
from sidecar.forum.simulator.answers import empty_answer, json_answer, success
from sidecar.forum.simulator.context import Access, Ctx, Route
from sidecar.forum.simulator.json_users import admin_detail, admin_list_row, basic_group, basic_user
from sidecar.forum.simulator.records import StaffAction, User
from sidecar.forum.simulator.site import ValidationFailed
from sidecar.forum.simulator.times import iso, parse_time

PAGE_SIZE = 100
MAX_FILTER_TERMS = 100
TRUST_LEVEL_NAMES = {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _seen(user: User) -> datetime:
    return user.last_seen_at or _EPOCH


SORTABLE: dict[str, Callable[[User], Any]] = {
    "created": lambda u: u.created_at,
    "last_emailed": lambda u: _EPOCH,
    "seen": _seen,
    "silence_reason": lambda u: u.silence_reason,
    "suspend_reason": lambda u: u.suspend_reason,
    "username": lambda u: u.username_lower,
    "email": lambda u: u.email,
    "trust_level": lambda u: u.trust_level,
    "days_visited": lambda u: 0,
    "posts_read": lambda u: 0,
    "topics_viewed": lambda u: 0,
    "posts": lambda u: 0,
    "read_time": lambda u: 0,
}


def _classify(ctx: Ctx, query: str | None, users: list[User]) -> list[User]:
    now = ctx.sim.clock.now()
    if query in TRUST_LEVEL_NAMES:
        return [u for u in users if u.trust_level == TRUST_LEVEL_NAMES[query]]
    match query:
        case "staff":
            return [u for u in users if u.staff]
        case "admins":
            return [u for u in users if u.admin]
        case "moderators":
            return [u for u in users if u.moderator]
        case "silenced":
            return [u for u in users if u.is_silenced(now)]
        case "suspended":
            return [u for u in users if u.is_suspended(now)]
        case "pending":
            return [u for u in users if not u.is_suspended(now) and not u.approved and u.active]
        case "staged":
            return [u for u in users if u.staged]
    return users  # "active", "new", "all" and unknown flags do not filter


def _activation(ctx: Ctx, users: list[User]) -> list[User]:
    match params.present(ctx.params, "activation"):
        case "activated":
            return [u for u in users if u.active]
        case "not_activated":
            return [u for u in users if not u.active]
    return users


def _search(ctx: Ctx, users: list[User]) -> list[User]:
    email = params.present(ctx.params, "email")
    if email is not None:
        wanted = email.strip().lower()
        return [u for u in users if u.email == wanted]
    text = params.present(ctx.params, "filter")
    terms = [] if text is None else [t.lower() for t in re.split(r"[,\s]+", text) if t]
    if not terms:
        return users
    if len(terms) > MAX_FILTER_TERMS:
        raise errors.invalid_parameters("filter")
    if len(terms) == 1 and "@" in terms[0]:
        # dc: User.filter_by_username_or_email -- an address matching any of a user's addresses wins
        exact = [u for u in users if terms[0] in u.emails]
        if exact:
            return exact
    return [
        u
        for u in users
        if any(
            t in u.username_lower or t in u.email or (len(terms) > 1 and "@" in t and t in u.emails)
            for t in terms
        )
    ]


def _order(ctx: Ctx, query: str | None, users: list[User]) -> list[User]:
    order = (params.present(ctx.params, "order") or "").lower()
    order = re.sub(r" (asc|desc)$", "", order)
    if order in SORTABLE:
        ascending = params.present(ctx.params, "asc") is not None
        key = SORTABLE[order]
        # a tie-breaker on id keeps pages stable when times collide (Discourse's times are microseconds)
        ordered = sorted(users, key=lambda u: u.id, reverse=not ascending)
        present = [u for u in ordered if key(u) is not None]
        absent = [u for u in ordered if key(u) is None]  # NULLS LAST in either direction
        return sorted(present, key=key, reverse=not ascending) + absent
    by_username = sorted(users, key=lambda u: (u.username_lower, u.id))
    if query == "active":
        seen = [u for u in by_username if u.last_seen_at is not None]
        never = [u for u in by_username if u.last_seen_at is None]
        return sorted(seen, key=_seen, reverse=True) + never
    return sorted(by_username, key=lambda u: u.created_at, reverse=True)


def list_users(ctx: Ctx, args: Mapping[str, str]) -> Response:
    query = args.get("flag")
    sim = ctx.sim
    with sim.lock:
        users = list(sim.users.values())
        users = _order(ctx, query, _search(ctx, _activation(ctx, _classify(ctx, query, users))))
        page = max((params.integer(ctx.params, "page") or 0) - 1, 0)
        shown = users[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        emails_desired = params.is_true_string(ctx.params, "show_emails")
        if emails_desired:  # dc: StaffActionLogger#log_show_emails
            details = ", ".join(u.username for u in shown)
            sim.staff_actions.append(
                StaffAction(
                    at=sim.clock.now(), action="check_email", acting_user_id=ctx.actor.id, details=details
                )
            )
        rows = [admin_list_row(sim, u, ctx.user, emails_desired=emails_desired) for u in shown]
    return json_answer(rows)


def _user_id(args: Mapping[str, str]) -> int:
    raw = args.get("id", "")
    if not raw.isdigit():
        raise errors.not_found()  # User.find_by(id: "abc") is nil
    return int(raw)


def show_user(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        user = ctx.sim.users.get(_user_id(args))
        if user is None:
            raise errors.not_found()
        return json_answer(admin_detail(ctx.sim, user, ctx.user))


def approve(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.approve_user(_user_id(args), actor=ctx.actor)
    return empty_answer()  # dc: render body: nil


def approve_bulk(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.approve_users(params.id_list(ctx.params, "users"), actor=ctx.actor)
    return empty_answer()


def destroy(ctx: Ctx, args: Mapping[str, str]) -> Response:
    raw = args.get("id", "")
    user_id = int(raw) if raw.isdigit() else 0
    delete_posts = bool(params.boolean(ctx.params, "delete_posts"))
    ctx.sim.destroy_user(user_id, actor=ctx.actor, delete_posts=delete_posts)
    return json_answer({"deleted": True})


def _time_param(ctx: Ctx, name: str) -> datetime | None:
    value = params.text(ctx.params, name)
    return None if value is None else parse_time(value)


def suspend(ctx: Ctx, args: Mapping[str, str]) -> Response:
    user = ctx.sim.suspend_user(
        _user_id(args),
        _time_param(ctx, "suspend_until"),
        params.text(ctx.params, "reason"),
        message=params.present(ctx.params, "message"),
        actor=ctx.actor,
        post_id=params.integer(ctx.params, "post_id"),
        post_action=params.present(ctx.params, "post_action"),
    )
    return json_answer(
        {
            "suspension": {
                "suspend_reason": user.suspend_reason,
                "full_suspend_reason": user.full_suspend_reason,
                "suspended_till": iso(user.suspended_till),
                "suspended_at": iso(user.suspended_at),
                "suspended_by": basic_user(ctx.actor),
            }
        }
    )


def unsuspend(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.unsuspend_user(_user_id(args), actor=ctx.actor)
    return json_answer({"suspension": {"suspended_till": None, "suspended_at": None}})


def silence(ctx: Ctx, args: Mapping[str, str]) -> Response:
    user = ctx.sim.silence_user(
        _user_id(args),
        _time_param(ctx, "silenced_till"),
        params.text(ctx.params, "reason"),
        message=params.present(ctx.params, "message"),
        actor=ctx.actor,
    )
    return json_answer(
        {
            "silence": {
                "silenced": True,
                "silence_reason": user.silence_reason,
                "full_silence_reason": user.silence_reason,
                "silenced_till": iso(user.silenced_till),
                "silenced_at": iso(user.silenced_at),
                "silenced_by": basic_user(ctx.actor),
            }
        }
    )


def unsilence(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.unsilence_user(_user_id(args), actor=ctx.actor)
    return json_answer(
        {"unsilence": {"silenced": False, "silence_reason": None, "silenced_till": None, "silenced_at": None}}
    )


def activate(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.activate_user(_user_id(args), actor=ctx.actor)
    return json_answer(success())


def deactivate(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.deactivate_user(_user_id(args), actor=ctx.actor)
    return json_answer(success())


def log_out(ctx: Ctx, args: Mapping[str, str]) -> Response:
    ctx.sim.log_out_user(_user_id(args))
    return json_answer(success())


def anonymize(ctx: Ctx, args: Mapping[str, str]) -> Response:
    user = ctx.sim.anonymize_user(_user_id(args), actor=ctx.actor)
    return json_answer({"success": "OK", "username": user.username})


def create_group(ctx: Ctx, args: Mapping[str, str]) -> Response:
    group_params = ctx.params.get("group")
    if not isinstance(group_params, dict):
        raise errors.parameter_missing("group")
    name = params.present(group_params, "name")
    if name is None:
        raise errors.unprocessable("Name can't be blank")

    def names(key: str) -> list[str]:
        value = params.present(group_params, key)
        return [] if value is None else [n.strip() for n in value.split(",") if n.strip()]

    if not ctx.actor.admin:
        raise errors.invalid_access()
    try:
        group = ctx.sim.create_group(
            name,
            full_name=params.present(group_params, "full_name"),
            bio=params.present(group_params, "bio_raw"),
            usernames=names("usernames"),
            owner_usernames=names("owner_usernames"),
            visibility_level=params.integer(group_params, "visibility_level") or 0,
        )
    except ValidationFailed as exc:
        raise errors.unprocessable(*exc.messages) from None
    except KeyError as exc:
        raise errors.invalid_parameters(str(exc.args[0])) from None
    shown = {**basic_group(ctx.sim, group), "can_edit_group": True}
    del shown["display_name"]  # not in this answer (official spec)
    return json_answer({"basic_group": shown})


def destroy_group(ctx: Ctx, args: Mapping[str, str]) -> Response:
    raw = args.get("id", "")
    sim = ctx.sim
    with sim.lock:
        group = sim.groups.get(int(raw)) if raw.isdigit() else None
        if group is None:
            raise errors.not_found()
        if group.automatic:
            raise errors.unprocessable("You cannot modify an automatic group")
        del sim.groups[group.id]
    return json_answer(success())


ROUTES = (
    Route("/admin/users/list", ("GET",), list_users, Access.STAFF),
    Route("/admin/users/list/<flag>", ("GET",), list_users, Access.STAFF),
    Route("/admin/users/approve-bulk", ("PUT",), approve_bulk, Access.STAFF),
    Route("/admin/users/<id>", ("GET",), show_user, Access.STAFF),
    # dc: config/routes.rb `get "users/:id/:username" => "users#show"`: so GET .../approve.json shows the user
    Route("/admin/users/<id>/<username>", ("GET",), show_user, Access.STAFF),
    Route("/admin/users/<id>", ("DELETE",), destroy, Access.STAFF),
    Route("/admin/users/<id>/approve", ("PUT",), approve, Access.STAFF),
    Route("/admin/users/<id>/suspend", ("PUT",), suspend, Access.STAFF),
    Route("/admin/users/<id>/unsuspend", ("PUT",), unsuspend, Access.STAFF),
    Route("/admin/users/<id>/silence", ("PUT",), silence, Access.STAFF),
    Route("/admin/users/<id>/unsilence", ("PUT",), unsilence, Access.STAFF),
    Route("/admin/users/<id>/activate", ("PUT",), activate, Access.STAFF),
    Route("/admin/users/<id>/deactivate", ("PUT",), deactivate, Access.STAFF),
    Route("/admin/users/<id>/anonymize", ("PUT",), anonymize, Access.STAFF),
    Route("/admin/users/<id>/log_out", ("POST",), log_out, Access.ADMIN),
    Route("/admin/groups", ("POST",), create_group, Access.STAFF),
    Route("/admin/groups/<id>", ("DELETE",), destroy_group, Access.ADMIN),
)
