"""Routing parsed events to handlers through a registry keyed by EventName.

A handler is ``handler(event, context)``. It must be idempotent: a delivery may run more than once (a
worker that died, an admin's retry, a duplicate Discourse sent with a new id). It opens short transactions
with ``context.sessions.begin()`` and never holds one across a forum call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from sidecar.clock import Clock
from sidecar.config import Config
from sidecar.db.models import DeliveryStatus
from sidecar.forum.factory import ForumNotConfigured
from sidecar.forum.port import ForumClient, RateLimited
from sidecar.jobs.inbox import ClaimedDelivery
from sidecar.jobs.worker import PermanentFailure, Processed, RetryLater
from webhooks.events import EventName, EventParseError, WebhookEvent, parse_event


@dataclass(frozen=True)
class HandlerContext:
    sessions: sessionmaker[Session]
    clock: Clock
    config: Config
    # The forum, recording its writes as caused by this delivery; None where no forum is configured.
    forum_client: ForumClient | None = None
    # Writes to make in the transaction that marks the delivery done (see ``with_outcome``).
    outcome_writes: list[Callable[[Session], object]] = field(default_factory=list)

    def with_outcome(self, write: Callable[[Session], object]) -> None:
        """Make ``write`` in the transaction that records the delivery's outcome, not in one of its own: a
        handler's last write and the delivery's completion then cost one commit, and happen together."""
        self.outcome_writes.append(write)

    @property
    def forum(self) -> ForumClient:
        if self.forum_client is None:
            raise ForumNotConfigured("this handler needs the forum, and no forum is configured")
        return self.forum_client


Handler = Callable[[WebhookEvent, HandlerContext], None]


@dataclass
class Registry:
    """Which handlers run for which events. Events with no handler are marked ``ignored``."""

    _handlers: dict[EventName, list[Handler]] = field(default_factory=dict)

    def on(self, *names: EventName) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(handler, names)
            return handler

        return register

    def add(self, handler: Handler, names: Iterable[EventName]) -> None:
        for name in names:
            self._handlers.setdefault(name, []).append(handler)

    def handlers_for(self, name: EventName | None) -> tuple[Handler, ...]:
        if name is None:
            return ()
        return tuple(self._handlers.get(name, ()))

    def handled_events(self) -> frozenset[EventName]:
        return frozenset(name for name, handlers in self._handlers.items() if handlers)


def make_processor(
    registry: Registry,
    *,
    sessions: sessionmaker[Session],
    clock: Clock,
    config: Config,
    forum: ForumClient | None = None,
) -> Callable[[ClaimedDelivery], Processed]:
    """The worker's processor: parse the stored delivery, run its handlers, say done or ignored.

    A handler stopped by the forum's rate limit gives the delivery back for later without spending an
    attempt: being told to wait is not a failure.
    """

    def process(delivery: ClaimedDelivery) -> Processed:
        name = EventName.lookup(delivery.event_name)
        if name is None:
            return Processed(DeliveryStatus.IGNORED)  # an event this version does not know (a plugin's...)
        try:
            event = parse_event(
                delivery_id=delivery.id,
                event_id=delivery.event_id,
                instance=delivery.instance,
                name=delivery.event_name,
                body=delivery.body,
            )
        except EventParseError as exc:
            raise PermanentFailure(str(exc)) from exc
        handlers = registry.handlers_for(name)
        if not handlers:
            return Processed(DeliveryStatus.IGNORED)
        context = HandlerContext(
            sessions=sessions,
            clock=clock,
            config=config,
            forum_client=forum.with_cause(f"delivery:{delivery.id}") if forum is not None else None,
        )
        try:
            for handler in handlers:
                handler(event, context)
        except RateLimited as exc:
            raise RetryLater(exc.wait_seconds, f"rate limited: {exc}") from exc
        return Processed(DeliveryStatus.DONE, tuple(context.outcome_writes))

    return process
