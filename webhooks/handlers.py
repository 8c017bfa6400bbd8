"""The sidecar's event handlers, registered by event name.

Every event Discourse can send is stored and visible; only the events named here are acted on, the rest
are marked ``ignored``.
"""

from __future__ import annotations

from sidecar.findings.service import FindingsService, PostVersion
from sidecar.registration.service import RegistrationService
from sidecar.scanner.cli import build_scanner
from webhooks.dispatch import HandlerContext, Registry
from webhooks.events import EventName, Post, Topic, WebhookEvent

# A sign-up is decided when it arrives, decided again once the email is confirmed (approval needs an
# active account), and checked when someone approves it on the forum by hand.
REGISTRATION_EVENTS = (EventName.USER_CREATED, EventName.USER_CONFIRMED_EMAIL, EventName.USER_APPROVED)


def registration(event: WebhookEvent, ctx: HandlerContext) -> None:
    if event.user.id <= 0:
        return  # Discourse's own system accounts
    service = RegistrationService(sessions=ctx.sessions, clock=ctx.clock, config=ctx.config, forum=ctx.forum)
    service.evaluate(event.user.id, cause=f"delivery:{event.delivery_id}")


def _findings(ctx: HandlerContext) -> FindingsService:
    return FindingsService(
        sessions=ctx.sessions,
        clock=ctx.clock,
        config=ctx.config,
        scanner=build_scanner(ctx.config),
        forum=ctx.forum_client,
        record_with_outcome=ctx.with_outcome,
    )


def scan_post(event: WebhookEvent, ctx: HandlerContext) -> None:
    """post_created, post_edited: scan the post and act on what it exposes."""
    post: Post = event.post
    _findings(ctx).on_post(
        PostVersion(
            id=post.id,
            topic_id=post.topic_id,
            post_number=post.post_number,
            version=post.version,
            user_id=post.user_id,
            username=post.username,
            raw=post.raw,
            post_type=post.post_type,
            private_message=post.is_private_message,
            deleted=post.deleted_at is not None,
            topic_title=post.topic_title,
            post_url=post.post_url,
        )
    )


def scan_topic(event: WebhookEvent, ctx: HandlerContext) -> None:
    """topic_edited: the payload has no text; the first post is read and scanned."""
    if isinstance(event.payload, Topic):
        if event.payload.archetype == "private_message" and not ctx.config.scanning.private_messages:
            return
        _findings(ctx).on_topic_edited(event.payload.id, event.payload.title)


def close_findings(event: WebhookEvent, ctx: HandlerContext) -> None:
    """post_destroyed: the post's open findings are closed."""
    _findings(ctx).on_post_destroyed(event.post.id)


def build_registry() -> Registry:
    """The registry the sidecar runs with."""
    registry = Registry()
    registry.add(registration, REGISTRATION_EVENTS)
    registry.add(scan_post, (EventName.POST_CREATED, EventName.POST_EDITED))
    registry.add(scan_topic, (EventName.TOPIC_EDITED,))
    registry.add(close_findings, (EventName.POST_DESTROYED,))
    return registry
