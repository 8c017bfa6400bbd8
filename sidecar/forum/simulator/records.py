"""The rows of the simulated forum: users, groups, user fields, topics, posts, flags and the logs.

Plain mutable dataclasses guarded by the simulator's lock; the simulator is the only writer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

SYSTEM_USER_ID = -1

# dc: app/models/group.rb (AUTO_GROUPS)
AUTO_GROUPS: dict[str, int] = {
    "everyone": 0,
    "admins": 1,
    "moderators": 2,
    "staff": 3,
    "trust_level_0": 10,
    "trust_level_1": 11,
    "trust_level_2": 12,
    "trust_level_3": 13,
    "trust_level_4": 14,
}
FIRST_CUSTOM_GROUP_ID = 41


class PostActionType(enum.IntEnum):
    """dc: app/models/post_action_type.rb; custom flags have ids of 1000 and more."""

    BOOKMARK = 1
    LIKE = 2
    OFF_TOPIC = 3
    INAPPROPRIATE = 4
    NOTIFY_USER = 6
    NOTIFY_MODERATORS = 7
    SPAM = 8
    ILLEGAL = 10


# Flags that count as "already flagged" for a second flag (dc: PostActionTypeView#notify_flag_types).
NOTIFY_FLAG_TYPES = frozenset(
    {
        PostActionType.OFF_TOPIC,
        PostActionType.INAPPROPRIATE,
        PostActionType.NOTIFY_MODERATORS,
        PostActionType.SPAM,
        PostActionType.ILLEGAL,
    }
)
# Flags that only send a message (dc: PostActionTypeView#additional_message_types).
MESSAGE_FLAG_TYPES = frozenset({PostActionType.NOTIFY_USER})
CUSTOM_FLAG_MIN = 1000


def is_flag(type_id: int) -> bool:
    return type_id in NOTIFY_FLAG_TYPES or type_id in MESSAGE_FLAG_TYPES or type_id >= CUSTOM_FLAG_MIN


def is_notify_flag(type_id: int) -> bool:
    return type_id in NOTIFY_FLAG_TYPES or type_id >= CUSTOM_FLAG_MIN


@dataclass
class User:
    id: int
    username: str
    email: str
    created_at: datetime
    name: str | None = None
    secondary_emails: list[str] = field(default_factory=list)
    active: bool = False  # the email address is confirmed
    approved: bool = False
    approved_by_id: int | None = None
    approved_at: datetime | None = None
    staged: bool = False
    admin: bool = False
    moderator: bool = False
    trust_level: int = 0
    title: str | None = None
    locale: str | None = None
    last_seen_at: datetime | None = None
    last_posted_at: datetime | None = None
    suspended_at: datetime | None = None
    suspended_till: datetime | None = None
    suspend_reason: str | None = None
    full_suspend_reason: str | None = None
    suspended_by_id: int | None = None
    silenced_at: datetime | None = None
    silenced_till: datetime | None = None
    silence_reason: str | None = None
    silenced_by_id: int | None = None
    user_fields: dict[int, str | None] = field(default_factory=dict)
    external_id: str | None = None
    featured_topic_id: int | None = None  # the topic shown on the profile card
    password: str | None = None
    auth_tokens: int = 0  # logged-in sessions; suspension and log_out revoke them
    anonymized: bool = False

    @property
    def username_lower(self) -> str:
        return self.username.lower()

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator

    @property
    def emails(self) -> list[str]:
        return [self.email, *self.secondary_emails]

    def is_suspended(self, now: datetime) -> bool:
        # dc: User#suspended? -- a suspension is a time, not a flag: it ends on its own
        return self.suspended_till is not None and self.suspended_till > now

    def is_silenced(self, now: datetime) -> bool:
        return self.silenced_till is not None and self.silenced_till > now


@dataclass
class Group:
    id: int
    name: str
    automatic: bool
    created_at: datetime
    full_name: str | None = None
    bio_raw: str | None = None
    visibility_level: int = 0
    members_visibility_level: int = 0
    mentionable_level: int = 0
    messageable_level: int = 0
    default_notification_level: int = 3
    public_admission: bool = False
    public_exit: bool = False
    # custom groups only: user id -> when added (automatic groups are computed from users)
    members: dict[int, datetime] = field(default_factory=dict)
    owners: set[int] = field(default_factory=set)


@dataclass
class UserField:
    id: int
    name: str
    description: str
    field_type: str = "text"
    editable: bool = True
    required: bool = False
    show_on_profile: bool = False
    show_on_user_card: bool = False
    searchable: bool = False
    position: int = 0


@dataclass
class Category:
    id: int
    name: str
    slug: str
    color: str = "0088CC"
    text_color: str = "FFFFFF"
    read_restricted: bool = False
    position: int = 0
    description: str | None = None


class Archetype(enum.StrEnum):
    REGULAR = "regular"
    PRIVATE_MESSAGE = "private_message"


@dataclass
class Topic:
    id: int
    title: str
    slug: str
    user_id: int
    archetype: Archetype
    created_at: datetime
    updated_at: datetime
    category_id: int | None
    allowed_user_ids: list[int] = field(default_factory=list)
    post_ids: list[int] = field(default_factory=list)
    highest_post_number: int = 0
    deleted_at: datetime | None = None
    closed: bool = False
    archived: bool = False
    visible: bool = True
    subtype: str | None = None

    @property
    def is_private_message(self) -> bool:
        return self.archetype == Archetype.PRIVATE_MESSAGE


@dataclass
class Post:
    id: int
    topic_id: int
    post_number: int
    user_id: int
    raw: str
    cooked: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    post_type: int = 1
    reply_to_post_number: int | None = None
    last_version_at: datetime | None = None
    hidden: bool = False
    hidden_at: datetime | None = None
    hidden_reason_id: int | None = None
    deleted_at: datetime | None = None
    edit_reason: str | None = None


@dataclass
class Flag:
    """A post action of a flag type (dc: PostAction); ``related_post_id`` is the PM a message created."""

    id: int
    post_id: int
    user_id: int
    post_action_type_id: int
    created_at: datetime
    message: str | None = None
    staff_took_action: bool = False
    related_post_id: int | None = None
    deleted_at: datetime | None = None


class ReviewableStatus(enum.IntEnum):
    PENDING = 0
    APPROVED = 1
    REJECTED = 2
    IGNORED = 3
    DELETED = 4


@dataclass
class Reviewable:
    """A ReviewableFlaggedPost: one per flagged post, gathering the flags' scores."""

    id: int
    post_id: int
    topic_id: int
    created_by_id: int
    created_at: datetime
    updated_at: datetime
    status: ReviewableStatus = ReviewableStatus.PENDING
    flag_ids: list[int] = field(default_factory=list)
    version: int = 0


@dataclass
class ApiKey:
    """An admin API key; ``user_id`` None is an "All users" key that acts as any Api-Username."""

    key: str
    user_id: int | None = None
    description: str = ""
    revoked: bool = False


@dataclass(frozen=True)
class SentEmail:
    """An email the forum would have sent (suspension notices, approval notices...)."""

    at: datetime
    user_id: int
    to: str
    kind: str
    body: str | None = None


@dataclass(frozen=True)
class ApiRequest:
    """One request the HTTP API received, whatever became of it."""

    at: datetime
    method: str
    path: str
    query: str
    api_username: str | None
    status: int


@dataclass(frozen=True)
class StaffAction:
    """A staff action log entry (dc: UserHistory), e.g. ``check_email`` for ``show_emails=true``."""

    at: datetime
    action: str
    acting_user_id: int
    target_user_id: int | None = None
    details: str | None = None
