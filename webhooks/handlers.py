"""The sidecar's event handlers, registered by event name.

Every event Discourse can send is stored and visible; only the events named here are acted on, the rest
are marked ``ignored``.
"""

from __future__ import annotations

from sidecar.registration.service import RegistrationService
from webhooks.dispatch import HandlerContext, Registry
from webhooks.events import EventName, WebhookEvent

# A sign-up is decided when it arrives, decided again once the email is confirmed (approval needs an
# active account), and checked when someone approves it on the forum by hand.
REGISTRATION_EVENTS = (EventName.USER_CREATED, EventName.USER_CONFIRMED_EMAIL, EventName.USER_APPROVED)


def registration(event: WebhookEvent, ctx: HandlerContext) -> None:
    if event.user.id <= 0:
        return  # Discourse's own system accounts
    service = RegistrationService(sessions=ctx.sessions, clock=ctx.clock, config=ctx.config, forum=ctx.forum)
    service.evaluate(event.user.id, cause=f"delivery:{event.delivery_id}")


def build_registry() -> Registry:
    """The registry the sidecar runs with."""
    registry = Registry()
    registry.add(registration, REGISTRATION_EVENTS)
    return registry
