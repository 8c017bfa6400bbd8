"""The ForumClient port: everything the sidecar asks of the forum, in typed values.

Two implementations: the Discourse adapter (``sidecar.forum.discourse``) and, under it in tests, the
simulator (``sidecar.forum.simulator``) at the HTTP boundary. Callers never see HTTP, JSON or pydiscourse.

Write calls answer with an :class:`Outcome`: ``DONE``, ``ALREADY_DONE`` (Discourse said it was so already:
a second suspend's 409, re-adding a member, re-flagging) or ``DRY_RUN`` (recorded, not sent). Failures
raise one of the :class:`ForumError` subclasses.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

MAX_SUSPEND_REASON = 300  # Discourse refuses longer reasons (dc: app/services/user_suspender.rb)


class Outcome(enum.StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    DRY_RUN = "dry_run"


class FlagType(enum.IntEnum):
    """``post_action_type_id`` values (dc: app/models/post_action_type.rb)."""

    OFF_TOPIC = 3
    INAPPROPRIATE = 4
    NOTIFY_USER = 6
    NOTIFY_MODERATORS = 7
    SPAM = 8
    ILLEGAL = 10


# --- errors ----------------------------------------------------------------------------------------------


class ForumError(Exception):
    """A forum call failed. ``endpoint`` is the call's template (``PUT /admin/users/{id}/suspend``)."""

    def __init__(self, message: str, *, endpoint: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class NotFound(ForumError):
    """404: the user, post or group does not exist (any more)."""


class AlreadyDone(ForumError):
    """409 or Discourse's equivalent: the change is already in place. Write calls turn it into an Outcome."""


class Forbidden(ForumError):
    """403: not allowed (staff target, wrong state, bad credentials)."""


class RateLimited(ForumError):
    """429, or the sidecar's own budget is spent: try again after ``wait_seconds``."""

    def __init__(
        self, message: str, *, wait_seconds: float, endpoint: str = "", status: int | None = 429
    ) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.wait_seconds = wait_seconds


class Unavailable(ForumError):
    """5xx, a timeout or a network error: the forum could not answer. Safe to retry later."""


class Rejected(ForumError):
    """Another 4xx: Discourse refused the request and said why (``messages``)."""

    def __init__(
        self, message: str, *, messages: Sequence[str] = (), endpoint: str = "", status: int | None = None
    ):
        super().__init__(message, endpoint=endpoint, status=status)
        self.messages = tuple(messages)


# --- values ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRef:
    id: int
    name: str
    automatic: bool


@dataclass(frozen=True)
class ForumUser:
    """A user's current state as the admin API shows it (list rows lack groups and user fields)."""

    id: int
    username: str
    name: str | None
    email: str | None
    secondary_emails: tuple[str, ...]
    active: bool  # email confirmed
    approved: bool | None  # None when the site does not require approval
    admin: bool
    moderator: bool
    staged: bool
    trust_level: int | None
    created_at: datetime | None
    suspended_till: datetime | None
    silenced_till: datetime | None
    groups: tuple[GroupRef, ...] = ()
    user_fields: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator

    @property
    def emails(self) -> tuple[str, ...]:
        return ((self.email,) if self.email else ()) + self.secondary_emails

    def suspended_at(self, now: datetime) -> bool:
        return self.suspended_till is not None and self.suspended_till > now


@dataclass(frozen=True)
class GroupMember:
    id: int
    username: str
    name: str | None


@dataclass(frozen=True)
class ForumPost:
    id: int
    topic_id: int
    post_number: int
    user_id: int | None
    username: str | None
    raw: str
    version: int
    hidden: bool
    deleted: bool


@dataclass(frozen=True)
class UserFieldDefinition:
    id: int
    name: str
    required: bool


@dataclass(frozen=True)
class SentMessage:
    """A private message the forum accepted (``None`` ids in a dry run)."""

    topic_id: int | None
    post_id: int | None
    outcome: Outcome = Outcome.DONE


# --- the port --------------------------------------------------------------------------------------------

AfterWrite = Callable[["Session"], object]
"""What the caller of a write records about it, run in the transaction that writes the forum-action log's
entry, once the forum has answered (done, already done, or a dry run; not after an error): the entry and the
caller's record are one step, and one write transaction instead of two."""


class ForumClient(Protocol):
    def with_cause(self, cause: str) -> ForumClient:
        """The same client, recording its writes as caused by ``cause`` (``delivery:12``, ``job:sweep``)."""
        ...

    def iter_users(self, flag: str = "active") -> Iterator[ForumUser]:
        """Every user of the admin list ``flag`` (active, new, staff, suspended, pending, ...), with emails,
        in creation order, fetched a page (100) at a time."""
        ...

    def list_users_page(self, flag: str, page: int) -> list[ForumUser]: ...

    def get_user(self, user_id: int, *, emails: bool = True) -> ForumUser:
        """A user's full state. ``emails=False`` skips reading the addresses (one call fewer, and no staff
        "check email" entry on the forum) for callers that act on state alone; ``email`` is then None."""
        ...

    def find_users_by_email(self, email: str) -> list[ForumUser]: ...

    def find_user_by_username(self, username: str) -> ForumUser | None:
        """The account's state (roles, groups, suspension), without its addresses; None when unknown."""
        ...

    def approve_user(self, user_id: int) -> Outcome: ...

    def reject_user(self, user_id: int) -> Outcome:
        """Delete a pending (never approved) account."""
        ...

    def suspend_user(
        self, user_id: int, *, until: datetime, reason: str, message: str | None = None
    ) -> Outcome: ...

    def unsuspend_user(self, user_id: int) -> Outcome: ...

    def log_out_user(self, user_id: int) -> Outcome: ...

    def anonymize_user(self, user_id: int) -> str | None:
        """The new username (None in a dry run)."""
        ...

    def add_group_members(self, group: str, usernames: Sequence[str]) -> Outcome: ...

    def remove_group_members(self, group: str, usernames: Sequence[str]) -> Outcome: ...

    def group_members(self, group: str) -> list[GroupMember]: ...

    def send_private_message(
        self, recipients: Sequence[str], title: str, raw: str, *, then: AfterWrite | None = None
    ) -> SentMessage:
        """``then``, when given, writes the caller's record of the message in the transaction that logs it
        (see :data:`AfterWrite`)."""
        ...

    def get_post(self, post_id: int) -> ForumPost: ...

    def get_topic_post(self, topic_id: int, post_number: int = 1) -> ForumPost:
        """The post at ``post_number`` of a topic (1: the first post, which a topic payload lacks)."""
        ...

    def flag_post(
        self,
        post_id: int,
        *,
        flag_type: FlagType = FlagType.NOTIFY_MODERATORS,
        message: str | None = None,
        take_action: bool = False,
        then: AfterWrite | None = None,
    ) -> Outcome:
        """``then`` as for :meth:`send_private_message`."""
        ...

    def user_field_definitions(self) -> list[UserFieldDefinition]: ...
