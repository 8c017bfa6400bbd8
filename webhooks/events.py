"""Typed Discourse webhook events, parsed from a stored delivery.

Field lists follow Discourse's serializers (dc: app/serializers/web_hook_user_serializer.rb,
web_hook_post_serializer.rb, web_hook_topic_view_serializer.rb, reviewable serializers) and the real
captures in tests/fixtures/discourse/. Unknown keys are ignored (plugins add many); a missing required key
or a value of the wrong type is an EventParseError naming the key.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")


class EventParseError(ValueError):
    """The body is not the event its headers say it is."""


class EventType(enum.StrEnum):
    """``X-Discourse-Event-Type``: the group of an event, and the top-level key of its body."""

    PING = "ping"
    USER = "user"
    POST = "post"
    TOPIC = "topic"
    REVIEWABLE = "reviewable"
    GROUP_USER = "group_user"


class EventName(enum.StrEnum):
    """``X-Discourse-Event`` (dc: app/models/web_hook_event_type.rb, 012-web_hook_events.rb)."""

    PING = "ping"
    USER_CREATED = "user_created"  # at sign-up, before the email is confirmed
    USER_CONFIRMED_EMAIL = "user_confirmed_email"
    USER_APPROVED = "user_approved"
    USER_UPDATED = "user_updated"
    USER_DESTROYED = "user_destroyed"
    USER_LOGGED_IN = "user_logged_in"
    USER_LOGGED_OUT = "user_logged_out"
    USER_SUSPENDED = "user_suspended"
    USER_UNSUSPENDED = "user_unsuspended"
    POST_CREATED = "post_created"
    POST_EDITED = "post_edited"
    POST_DESTROYED = "post_destroyed"
    POST_RECOVERED = "post_recovered"
    TOPIC_CREATED = "topic_created"
    TOPIC_REVISED = "topic_revised"
    TOPIC_EDITED = "topic_edited"
    TOPIC_DESTROYED = "topic_destroyed"
    TOPIC_RECOVERED = "topic_recovered"
    REVIEWABLE_CREATED = "reviewable_created"
    REVIEWABLE_UPDATED = "reviewable_updated"
    REVIEWABLE_SCORE_UPDATED = "reviewable_score_updated"
    REVIEWABLE_TRANSITIONED_TO = "reviewable_transitioned_to"
    # The subscription is group_user_added/_removed; the header reads user_added_to_group/... (FACTS §1).
    GROUP_USER_ADDED = "group_user_added"
    GROUP_USER_REMOVED = "group_user_removed"
    USER_ADDED_TO_GROUP = "user_added_to_group"
    USER_REMOVED_FROM_GROUP = "user_removed_from_group"

    @classmethod
    def lookup(cls, name: str) -> EventName | None:
        try:
            return cls(name)
        except ValueError:
            return None


# --- field readers ---------------------------------------------------------------------------------------


def _get(data: Mapping[str, Any], key: str, typ: type[T], where: str) -> T:
    if key not in data:
        raise EventParseError(f"{where}.{key} is missing")
    value = data[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise EventParseError(f"{where}.{key} must be {typ.__name__}, got {type(value).__name__}")
    return value


def _opt(data: Mapping[str, Any], key: str, typ: type[T], where: str) -> T | None:
    if data.get(key) is None:
        return None
    return _get(data, key, typ, where)


def _flag(data: Mapping[str, Any], key: str, where: str) -> bool:
    return bool(_opt(data, key, bool, where))


def _time(data: Mapping[str, Any], key: str, where: str) -> datetime | None:
    text = _opt(data, key, str, where)
    if text is None:
        return None
    try:
        # Discourse writes ISO 8601 with a trailing Z (Ruby's iso8601(3)).
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EventParseError(f"{where}.{key} is not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise EventParseError(f"{where}.{key} has no time zone: {text!r}")
    return value


# --- payloads --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class UserGroup:
    id: int
    name: str
    automatic: bool


@dataclass(frozen=True)
class DiscourseUser:
    """A user as the webhook serializer shows it. No ``active`` or ``approved``: re-read from the API."""

    id: int
    username: str
    name: str | None
    email: str | None
    secondary_emails: tuple[str, ...]
    created_at: datetime | None
    trust_level: int | None
    admin: bool
    moderator: bool
    staged: bool
    groups: tuple[UserGroup, ...]
    user_fields: Mapping[str, str | None]
    external_id: str | None
    suspended_till: datetime | None
    suspend_reason: str | None

    @property
    def emails(self) -> tuple[str, ...]:
        return ((self.email,) if self.email else ()) + self.secondary_emails

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DiscourseUser:
        where = "user"
        groups = tuple(
            UserGroup(
                id=_get(g, "id", int, f"{where}.groups[]"),
                name=_get(g, "name", str, f"{where}.groups[]"),
                automatic=_flag(g, "automatic", f"{where}.groups[]"),
            )
            for g in _opt(data, "groups", list, where) or []
            if isinstance(g, dict)
        )
        raw_fields = _opt(data, "user_fields", dict, where) or {}
        user_fields = {str(k): (None if v is None else str(v)) for k, v in raw_fields.items()}
        secondary = tuple(e for e in _opt(data, "secondary_emails", list, where) or [] if isinstance(e, str))
        external = data.get("external_id")
        return cls(
            id=_get(data, "id", int, where),
            username=_get(data, "username", str, where),
            name=_opt(data, "name", str, where),
            email=_opt(data, "email", str, where),
            secondary_emails=secondary,
            created_at=_time(data, "created_at", where),
            trust_level=_opt(data, "trust_level", int, where),
            admin=_flag(data, "admin", where),
            moderator=_flag(data, "moderator", where),
            staged=_flag(data, "staged", where),
            groups=groups,
            user_fields=user_fields,
            external_id=None if external is None else str(external),
            suspended_till=_time(data, "suspended_till", where),
            suspend_reason=_opt(data, "suspend_reason", str, where),
        )


@dataclass(frozen=True)
class Post:
    id: int
    user_id: int | None
    username: str | None
    topic_id: int
    post_number: int
    post_type: int
    raw: str | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int
    hidden: bool
    deleted_at: datetime | None
    topic_title: str | None
    topic_archetype: str | None
    category_id: int | None
    post_url: str | None
    staff: bool

    @property
    def is_private_message(self) -> bool:
        return self.topic_archetype == "private_message"

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Post:
        where = "post"
        return cls(
            id=_get(data, "id", int, where),
            user_id=_opt(data, "user_id", int, where),
            username=_opt(data, "username", str, where),
            topic_id=_get(data, "topic_id", int, where),
            post_number=_get(data, "post_number", int, where),
            post_type=_opt(data, "post_type", int, where) or 1,
            raw=_opt(data, "raw", str, where),
            created_at=_time(data, "created_at", where),
            updated_at=_time(data, "updated_at", where),
            version=_opt(data, "version", int, where) or 1,
            hidden=_flag(data, "hidden", where),
            deleted_at=_time(data, "deleted_at", where),
            topic_title=_opt(data, "topic_title", str, where),
            topic_archetype=_opt(data, "topic_archetype", str, where),
            category_id=_opt(data, "category_id", int, where),
            post_url=_opt(data, "post_url", str, where),
            staff=_flag(data, "staff", where),
        )


@dataclass(frozen=True)
class Topic:
    """A topic event carries no post text: fetch the first post when its content matters (FACTS §1)."""

    id: int
    title: str | None
    user_id: int | None
    archetype: str | None
    category_id: int | None
    created_at: datetime | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Topic:
        where = "topic"
        return cls(
            id=_get(data, "id", int, where),
            title=_opt(data, "title", str, where),
            user_id=_opt(data, "user_id", int, where),
            archetype=_opt(data, "archetype", str, where),
            category_id=_opt(data, "category_id", int, where),
            created_at=_time(data, "created_at", where),
        )


@dataclass(frozen=True)
class Reviewable:
    id: int
    type: str
    status: int | str | None
    target_type: str | None
    target_id: int | None
    topic_id: int | None
    created_by_id: int | None
    target_created_by_id: int | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Reviewable:
        where = "reviewable"
        status = data.get("status")
        return cls(
            id=_get(data, "id", int, where),
            type=_get(data, "type", str, where),
            status=status if isinstance(status, int | str) else None,
            target_type=_opt(data, "target_type", str, where),
            target_id=_opt(data, "target_id", int, where),
            topic_id=_opt(data, "topic_id", int, where),
            created_by_id=_opt(data, "created_by_id", int, where),
            target_created_by_id=_opt(data, "target_created_by_id", int, where),
        )


@dataclass(frozen=True)
class GroupUser:
    """VERIFY: dc serializes a GroupUser row (group_id, user_id, ...); only the ids are relied on."""

    group_id: int
    user_id: int

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> GroupUser:
        where = "group_user"
        return cls(group_id=_get(data, "group_id", int, where), user_id=_get(data, "user_id", int, where))


@dataclass(frozen=True)
class Unrecognised:
    """A body whose top-level key this version does not know (a plugin's event): no data travels on."""

    key: str


Payload = Ping | DiscourseUser | Post | Topic | Reviewable | GroupUser | Unrecognised

_PARSERS: dict[str, Any] = {
    EventType.USER: DiscourseUser.parse,
    EventType.POST: Post.parse,
    EventType.TOPIC: Topic.parse,
    EventType.REVIEWABLE: Reviewable.parse,
    EventType.GROUP_USER: GroupUser.parse,
}


@dataclass(frozen=True)
class WebhookEvent:
    delivery_id: int
    event_id: int
    instance: str
    name: EventName | None  # None: an event this version does not know
    raw_name: str
    payload: Payload

    @property
    def user(self) -> DiscourseUser:
        if not isinstance(self.payload, DiscourseUser):
            raise TypeError(f"{self.raw_name} carries no user")
        return self.payload

    @property
    def post(self) -> Post:
        if not isinstance(self.payload, Post):
            raise TypeError(f"{self.raw_name} carries no post")
        return self.payload


def decode_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a webhook body; EventParseError when it is not one."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EventParseError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict) or not document:
        raise EventParseError("body must be a non-empty JSON object")
    return document


def payload_key(document: Mapping[str, Any]) -> str:
    """Discourse wraps the payload in one key named for the event type: ``{"user": {...}}``."""
    return next(iter(document))


def subject_of(document: Mapping[str, Any]) -> str | None:
    """What a delivery is about (``user:42``, ``post:17``): deliveries about one subject run in order."""
    key = payload_key(document)
    data = document[key]
    if key not in _PARSERS or not isinstance(data, dict):
        return None
    ident = data.get("user_id") if key == EventType.GROUP_USER else data.get("id")
    if isinstance(ident, bool) or not isinstance(ident, int):
        return None
    kind = "user" if key == EventType.GROUP_USER else key
    return f"{kind}:{ident}"


def parse_event(*, delivery_id: int, event_id: int, instance: str, name: str, body: bytes) -> WebhookEvent:
    document = decode_body(body)
    key = payload_key(document)
    payload: Payload
    if key == EventType.PING:
        payload = Ping()
    elif key in _PARSERS:
        data = document[key]
        if not isinstance(data, dict):
            raise EventParseError(f"{key} must be an object")
        payload = _PARSERS[key](data)
    else:
        payload = Unrecognised(key=key)
    return WebhookEvent(
        delivery_id=delivery_id,
        event_id=event_id,
        instance=instance,
        name=EventName.lookup(name),
        raw_name=name,
        payload=payload,
    )
