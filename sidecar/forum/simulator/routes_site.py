"""``/site.json``, ``POST /users.json`` and the public profiles ``/u/*``.

dc: app/controllers/site_controller.rb, app/controllers/users_controller.rb (create, show).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response

from sidecar.forum.simulator import errors, params
from sidecar.forum.simulator.answers import json_answer
from sidecar.forum.simulator.context import Access, Ctx, Route
from sidecar.forum.simulator.json_site import site_json
from sidecar.forum.simulator.json_users import public_profile
from sidecar.forum.simulator.records import SentEmail, StaffAction, User
from sidecar.forum.simulator.site import ValidationFailed

ACTIVE_MESSAGE = "Your account is activated and ready to use."
WAIT_APPROVAL_MESSAGE = "Thanks for signing up. We will notify you when your account has been approved."
MISSING_USER_FIELD = "You have not completed all the user fields"


def activate_email_message(email: str) -> str:
    return (
        f"<p>You\u2019re almost done! We sent an activation mail to <b>{email}</b>. Please follow the "
        "instructions in the mail to activate your account.</p><p>If it doesn\u2019t arrive, check your spam "
        "folder.</p>"
    )


def site(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        return json_answer(site_json(ctx.sim, ctx.user))


def _failure(message: str, ctx: Ctx, problems: Mapping[str, list[str]] | None = None) -> Response:
    # dc: UsersController#create answers a failed sign-up with 200 and success: false
    body: dict[str, Any] = {"success": False, "message": message}
    if problems is not None:
        body["errors"] = dict(problems)
        body["values"] = {
            "name": params.text(ctx.params, "name"),
            "username": params.text(ctx.params, "username"),
            "email": params.text(ctx.params, "email"),
        }
        body["is_developer"] = False
    return json_answer(body)


def create_user(ctx: Ctx, args: Mapping[str, str]) -> Response:
    sim = ctx.sim
    admin_api = ctx.user is not None and ctx.user.admin
    if not admin_api:
        # a sign-up without the browser's honeypot and challenge is refused (dc: UsersController#create)
        raise errors.invalid_access()
    given_fields = ctx.params.get("user_fields")
    field_values: dict[str, Any] = dict(given_fields) if isinstance(given_fields, dict) else {}
    with sim.lock:
        for user_field in sim.user_fields.values():
            value = field_values.get(str(user_field.id))
            if user_field.required and (value is None or not str(value).strip()):
                return _failure(MISSING_USER_FIELD, ctx)
        active = bool(params.boolean(ctx.params, "active"))
        approved = bool(params.boolean(ctx.params, "approved"))
        try:
            user: User = sim.create_user(
                params.text(ctx.params, "username") or "",
                params.text(ctx.params, "email") or "",
                params.present(ctx.params, "name"),
                active=active,
                approved=approved,
                user_fields={
                    k: v for k, v in field_values.items() if str(k).isdigit() and int(k) in sim.user_fields
                },
                password=params.text(ctx.params, "password") or "",
                external_id=params.present(ctx.params, "external_id"),
            )
        except ValidationFailed as exc:
            return _failure("\n".join(exc.messages), ctx, exc.errors)
        if not active:
            sim.emails.append(SentEmail(at=sim.clock.now(), user_id=user.id, to=user.email, kind="signup"))
        if not active:
            message = activate_email_message(user.email)
        elif sim.settings.must_approve_users and not user.approved:
            message = WAIT_APPROVAL_MESSAGE
        else:
            message = ACTIVE_MESSAGE
        return json_answer({"success": True, "active": user.active, "message": message, "user_id": user.id})


def _visible_user(ctx: Ctx, user: User | None) -> User:
    staff = ctx.user is not None and ctx.user.staff
    if user is None or (not user.active and not staff and (ctx.user is None or ctx.user.id != user.id)):
        raise errors.not_found()
    return user


def show_user(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        user = _visible_user(ctx, ctx.sim.find_user(username=args["username"]))
        return json_answer(public_profile(ctx.sim, user, ctx.user))


def check_emails(ctx: Ctx, args: Mapping[str, str]) -> Response:
    """dc: UsersController#check_emails -- admins (``can_check_emails?``); logged as a staff action."""
    sim = ctx.sim
    with sim.lock:
        user = sim.find_user(username=args["username"])
        if user is None:
            raise errors.not_found()
        if not ctx.actor.admin:
            raise errors.invalid_access()
        sim.staff_actions.append(
            StaffAction(
                at=sim.clock.now(), action="check_email", acting_user_id=ctx.actor.id, target_user_id=user.id
            )
        )
        return json_answer(
            {
                "email": user.email,
                "secondary_emails": list(user.secondary_emails),
                "unconfirmed_emails": [],
                "associated_accounts": [],
            }
        )


def show_user_by_external(ctx: Ctx, args: Mapping[str, str]) -> Response:
    with ctx.sim.lock:
        wanted = args["external_id"]
        found = next((u for u in ctx.sim.users.values() if u.external_id == wanted), None)
        user = _visible_user(ctx, found)
        return json_answer(public_profile(ctx.sim, user, ctx.user))


ROUTES = (
    Route("/site", ("GET",), site, Access.PUBLIC),
    Route("/users", ("POST",), create_user, Access.PUBLIC),
    # dc: config/routes.rb draws the profile routes under both "u" and the legacy "users"
    Route("/u/<username>", ("GET",), show_user, Access.PUBLIC),
    Route("/users/<username>", ("GET",), show_user, Access.PUBLIC),
    Route("/u/<username>/emails", ("GET",), check_emails, Access.LOGIN),
    Route("/u/by-external/<external_id>", ("GET",), show_user_by_external, Access.PUBLIC),
    Route("/users/by-external/<external_id>", ("GET",), show_user_by_external, Access.PUBLIC),
)
