"""The simulated forum: an in-memory Discourse with its rules, its events and a scripting API.

``DiscourseSimulator`` holds users, groups, user fields, categories, topics, posts, flags and API keys,
applies Discourse's permission rules (its Guardian) and emits the webhooks Discourse would. Tests and the
demo drive it from Python (``sign_up``, ``confirm_email``, ``write_post``...); the HTTP API (``app``) goes
through the same methods, so both paths obey the same rules. Every method takes the simulator's lock.

Rules broken through the scripting API raise the same ``ApiError`` the HTTP API answers with (403 for a
forbidden action, 409 for a second suspension...). Invalid data (a taken username) raises
``ValidationFailed``.

Checked against Discourse's source (dc: paths), newest revisions the index held:

- approve: ``PUT`` only; 403 unless the target is active and not approved (``can_approve?``); the answer
  is an EMPTY 200 (``render body: nil``), not ``{"success":"OK"}``; ``GET .../approve.json`` is routed to
  ``users#show`` (``get "users/:id/:username"``) and answers the user's JSON without approving anything.
- suspend: the contract is checked first (400 ``{"failed":"FAILED","errors":[...]}``), then 404, then the
  "already suspended" policy (409 ``{"failed":"FAILED","message":"<staff> already suspended this user
  <time ago>."}``: a ``message``, no ``errors``), then 403 for staff targets. Suspending logs the user out
  (``user_logged_out``) and then fires ``user_suspended``.
- groups: ``PUT /groups/{id}/members.json`` on an automatic group is 403 (``ensure_can_edit!``:
  ``can_edit_group?`` is false for automatic groups), not 422; when every user given is already a member
  the answer is 422 with ``member_already_exist``. Members are ordered owners first, then username
  DESCENDING unless ``asc`` is given; default limit 50, max 1000.
- flags: a second flag of the same type by the same user is 403 ``{"errors":["Oops! You already performed
  this action..."]}``; any other flag after a notify flag (3, 4, 7, 8, 10, custom) is 403
  ``invalid_access``; hidden posts cannot be flagged; ``take_action`` counts only when the parameter is
  the string ``"true"`` (``params[:take_action] == "true"``: a JSON ``true`` is ignored) and the flagger is
  staff; it hides the post.
- rate limit: one ``admin_api_min`` bucket, ``Discourse-Rate-Limit-Error-Code: admin_api_key_rate_limit``,
  integer-second sliding log (see limits.py); only requests with a valid key are counted. Because the
  timestamps are whole seconds and the oldest must be MORE than the window old, "60 per 60 s" admits 60
  per 61 whole seconds: a client pacing exactly at the limit is refused now and then.
- ``GET /admin/users/{id}.json`` has no ``email``/``secondary_emails`` (``include_email?`` is false unless
  the row is the viewer's own or a staged user's); the list shows them with ``show_emails=true``, and
  ``GET /u/{username}/emails.json`` (admins) gives one user's addresses. Both are logged as staff actions.
- user list (dc: lib/admin_user_index_query.rb, newest revision): ``pending`` = active, not approved, not
  suspended; ``staff``, ``suspended``, ``silenced``, ``staged``, ``admins``, ``moderators`` and the
  trust-level names filter; ``active`` and ``new`` only change the default order (last seen, never-seen
  last / created, newest first; then username); ``order=`` with ``asc`` present for ascending, NULLs last;
  ``filter=`` splits on commas and spaces into terms (over 100: 400), each a substring of the username or
  primary email (a single address term matching any of a user's addresses exactly wins);
  ``activation=activated|not_activated``; ``email=`` is an exact, case-insensitive match on the primary
  address. The ``system`` user is listed too (no ``.real`` scope): skip ids <= 0.
- API auth: header key only (a key in the query string is ignored, so the request is anonymous);
  an unknown key or username is 403 ``invalid_api_credentials``; a suspended or inactive API user 403.

Choices where Discourse was not checked (FACTS.md silent or the source not found):

- ``/admin/*`` for a valid key whose user is not staff: 404 (the ``admin`` routes sit behind
  ``StaffConstraint``, so they do not match); admin-only routes (``log_out``) are 404 for moderators.
  Anonymous requests to ``/admin/*`` are 404 too; an invalid key is 403 everywhere.
- ``notify_moderators`` (7) without ``message``: 422 ``{"errors":["A message is required..."]}`` (FACTS.md
  says it needs one; where Discourse enforces it was not found).
- ``member_already_exist`` wording: "'<name>' is already a member of this group." (one) / "The following
  users are already members of this group: <names>" (several).
- ``POST /users.json`` failures answer 200 ``{"success": false, "message", "errors", "values"}``;
  messages are Rails-style ("Username has already been taken").
- ``PUT /admin/users/{id}/activate.json`` fires ``user_confirmed_email`` (activation confirms the email).
- deleting a user with ``delete_posts=true`` fires ``post_destroyed`` for each post; deleting a first
  post also fires ``topic_destroyed``; anonymizing fires no webhook; hiding a post by a flag fires none.
- a topic's ``topic_created`` is emitted before its first post's ``post_created``.
- a flag with a message of type notify_user (6) or notify_moderators (7) creates a PM (firing
  topic_created/post_created) to the author or to the staff.
- ``reviewable_created`` is emitted when a post gets its first pending flag; no reviewable for users.
- automatic groups hold users with id > 0 that are not staged; ``trust_level_N`` holds every level >= N.
- the suspension's ``full_suspend_reason`` is the reason, plus a blank line and the message when one was
  sent.
- silence: ``reason`` required (<= 300); no ``silenced_till`` means silenced for 1000 years; 409 when
  already silenced; staff 403; no webhook. The answer carries both ``silence_reason`` and
  ``full_silence_reason`` (the official spec requires the latter).
- ``user_option`` carries the keys of both the 2025.12 captures and the newer official spec.
- counters the simulator does not track (reads, likes, badges, time read...) are zero; avatars are
  letter avatars; ``cooked`` is escaped paragraphs, not Discourse's markdown.
- ``approve-bulk`` skips users that cannot be approved without an error (``bulk_perform_targets``
  was not read).
- English texts whose keys were read but whose wording was not seen verbatim (server.en.yml is past the
  index's reach): "a few seconds" (a wait of 3 s or less; "N seconds"/"N minutes" were seen in real 429
  bodies), "Oops! You already performed this action...", "<staff> already suspended this user <time
  ago>.", the validation messages, and the activation messages of ``POST /users.json``.
- the empty answers (approve, approve-bulk, post delete, unhide) are ``text/plain; charset=utf-8``, Rails'
  default for ``render body:``; pydiscourse returns None for them.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sidecar.clock import Clock, SystemClock
from sidecar.forum.simulator import errors
from sidecar.forum.simulator.errors import ApiError
from sidecar.forum.simulator.faults import ApiFaults
from sidecar.forum.simulator.guardian import Guardian
from sidecar.forum.simulator.json_posts import cook, slugify, webhook_post, webhook_reviewable, webhook_topic
from sidecar.forum.simulator.json_users import webhook_user
from sidecar.forum.simulator.limits import AdminApiLimiter
from sidecar.forum.simulator.records import (
    AUTO_GROUPS,
    FIRST_CUSTOM_GROUP_ID,
    SYSTEM_USER_ID,
    ApiKey,
    ApiRequest,
    Archetype,
    Category,
    Flag,
    Group,
    Post,
    PostActionType,
    Reviewable,
    ReviewableStatus,
    SentEmail,
    StaffAction,
    Topic,
    User,
    UserField,
    is_flag,
    is_notify_flag,
)
from sidecar.forum.simulator.times import time_ago_in_words
from sidecar.forum.simulator.webhooks import DISCOURSE_VERSION, WebhookEmitter

if TYPE_CHECKING:
    import responses

    from sidecar.forum.simulator.app import SimulatorApp

DEFAULT_BASE_URL = "http://forum.test"
MAX_REASON = 300
FOREVER = timedelta(days=365 * 1000)
_USERNAME = re.compile(r"^[\w.\-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ValidationFailed(ValueError):
    """A record Discourse would refuse to save; ``errors`` maps a field to its messages."""

    def __init__(self, errors_by_field: Mapping[str, Sequence[str]]) -> None:
        self.errors = {k: list(v) for k, v in errors_by_field.items()}
        super().__init__("; ".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return [m for ms in self.errors.values() for m in ms]


@dataclass
class SiteSettings:
    """The site settings the simulator obeys (Discourse's defaults, except ``must_approve_users``)."""

    title: str = "Simulated Discourse"
    must_approve_users: bool = True
    default_trust_level: int = 0
    min_post_length: int = 20
    min_topic_title_length: int = 15
    min_personal_message_post_length: int = 10
    min_personal_message_title_length: int = 2
    min_password_length: int = 10
    min_trust_to_flag_posts: int = 1
    allow_flagging_staff: bool = True
    delete_user_max_post_age_days: int = 60
    max_staff_delete_post_count: int = 5  # dc: User::MAX_STAFF_DELETE_POST_COUNT


class DiscourseSimulator:
    """An in-memory Discourse. See the module docstring for the rules it follows."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock | None = None,
        api_key: str | None = None,
        must_approve_users: bool = True,
        rate_limit: int = 60,
        rate_window: float = 60.0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        rng_seed: int = 0,
        default_admin: bool = True,
        version: str = DISCOURSE_VERSION,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.lock = threading.RLock()
        self.clock: Clock = clock or SystemClock()
        self.settings = SiteSettings(must_approve_users=must_approve_users)
        self._base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.webhooks = WebhookEmitter(
            clock=self.clock,
            instance=self._base_url,
            url=webhook_url,
            secret=webhook_secret,
            version=version,
            rng_seed=rng_seed,
        )
        self.limiter = AdminApiLimiter(self.clock, rate_limit, rate_window)
        self.faults = ApiFaults()
        self._api_rng = random.Random(rng_seed)  # noqa: S311 -- fault draws must be reproducible, not secret
        self.users: dict[int, User] = {}
        self.groups: dict[int, Group] = {}
        self.user_fields: dict[int, UserField] = {}
        self.categories: dict[int, Category] = {}
        self.topics: dict[int, Topic] = {}
        self.posts: dict[int, Post] = {}
        self.flags: dict[int, Flag] = {}
        self.reviewables: dict[int, Reviewable] = {}
        # Lookups Discourse answers from an index, kept here beside the tables (flags and reviewables are
        # never removed, only marked): without them each flag or post read scanned every flag.
        self._flags_by_post: defaultdict[int, list[Flag]] = defaultdict(list)
        self._reviewables_by_post: dict[int, Reviewable] = {}  # the post's latest
        self._user_by_username: dict[str, int] = {}  # a hint, checked on use: usernames change
        self.api_keys: dict[str, ApiKey] = {}
        self.emails: list[SentEmail] = []
        self.requests: list[ApiRequest] = []
        self.staff_actions: list[StaffAction] = []
        self._user_ids = itertools.count(1)
        self._group_ids = itertools.count(FIRST_CUSTOM_GROUP_ID)
        self._field_ids = itertools.count(1)
        self._topic_ids = itertools.count(1)
        self._post_ids = itertools.count(1)
        self._flag_ids = itertools.count(1)
        self._reviewable_ids = itertools.count(1)
        self._app: SimulatorApp | None = None
        self.guardian = Guardian(self)
        self._build_defaults()
        if default_admin:
            self.create_user(
                "admin", "admin@forum.test", name="Forum Admin", admin=True, trust_level=1, emit=False
            )
        self.api_key = api_key or secrets.token_hex(32)
        self.add_api_key(self.api_key, description="simulator key")

    # --- construction ---------------------------------------------------------------------------------

    def _build_defaults(self) -> None:
        now = self.clock.now()
        for name, gid in AUTO_GROUPS.items():
            self.groups[gid] = Group(id=gid, name=name, automatic=True, created_at=now, visibility_level=1)
        self.users[SYSTEM_USER_ID] = User(
            id=SYSTEM_USER_ID,
            username="system",
            email="no_email",
            name="system",
            created_at=now,
            active=True,
            approved=True,
            admin=True,
            moderator=True,
            trust_level=4,
        )
        for position, (cid, name, slug, restricted) in enumerate(
            (
                (1, "Uncategorized", "uncategorized", False),
                (2, "Site Feedback", "site-feedback", False),
                (3, "Staff", "staff", True),
                (4, "General", "general", False),
            )
        ):
            self.categories[cid] = Category(
                id=cid, name=name, slug=slug, read_restricted=restricted, position=position
            )

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")
        self.webhooks.instance = self._base_url

    @property
    def uncategorized_category_id(self) -> int:
        return 1

    @property
    def system_user(self) -> User:
        return self.users[SYSTEM_USER_ID]

    @property
    def app(self) -> SimulatorApp:
        """The WSGI application serving Discourse's HTTP API over this forum."""
        if self._app is None:
            from sidecar.forum.simulator.app import SimulatorApp  # app imports this module

            self._app = SimulatorApp(self)
        return self._app

    def mocked(self) -> AbstractContextManager[responses.RequestsMock]:
        """A ``responses`` mock routing every request under ``base_url`` to the app (see mock.py)."""
        from sidecar.forum.simulator.mock import mocked  # responses is a test dependency

        return mocked(self)

    @contextmanager
    def quietly(self) -> Iterator[None]:
        """No webhooks inside the block (the forum's state before the sidecar is watching)."""
        with self.lock, self.webhooks.suppressed():
            yield

    def add_api_key(self, key: str, username: str | None = None, description: str = "") -> ApiKey:
        """An admin API key; with ``username`` it only acts as that user (a single-user key)."""
        with self.lock:
            user_id = None if username is None else self._require_username(username).id
            api_key = ApiKey(key=key, user_id=user_id, description=description)
            self.api_keys[key] = api_key
            return api_key

    def configure_rate_limit(self, limit: int, window: float = 60.0) -> None:
        self.limiter.configure(limit=limit, window=window)

    # --- lookups --------------------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        with self.lock:
            try:
                return self.users[user_id]
            except KeyError:
                raise KeyError(f"no user with id {user_id}") from None

    def find_user(self, *, username: str | None = None, email: str | None = None) -> User | None:
        """A user by username (case-insensitive) or by any of their email addresses (case-insensitive)."""
        with self.lock:
            if username is not None:
                wanted = username.lower()
                hinted = self.users.get(self._user_by_username.get(wanted, 0))
                if hinted is not None and hinted.username_lower == wanted:
                    return hinted
                found = next((u for u in self.users.values() if u.username_lower == wanted), None)
                if found is not None:
                    self._user_by_username[wanted] = found.id
                return found
            if email is not None:
                address = email.strip().lower()
                return next((u for u in self.users.values() if address in u.emails), None)
            raise ValueError("give a username or an email")

    def _require_username(self, username: str) -> User:
        found = self.find_user(username=username)
        if found is None:
            raise KeyError(f"no user named {username!r}")
        return found

    def _user_or_404(self, user_id: int) -> User:
        found = self.users.get(user_id)
        if found is None:
            raise errors.not_found()
        return found

    def real_users(self) -> list[User]:
        """Every user but the system user, by id."""
        with self.lock:
            return [u for _, u in sorted(self.users.items()) if u.id > 0]

    def group(self, name_or_id: str | int) -> Group:
        with self.lock:
            found = self._find_group(name_or_id)
            if found is None:
                raise KeyError(f"no group {name_or_id!r}")
            return found

    def _find_group(self, name_or_id: str | int) -> Group | None:
        if isinstance(name_or_id, int):
            return self.groups.get(name_or_id)
        wanted = name_or_id.lower()
        return next((g for g in self.groups.values() if g.name.lower() == wanted), None)

    def group_members_with_dates(self, group: Group) -> list[tuple[User, datetime]]:
        with self.lock:
            if not group.automatic:
                return [(self.users[uid], at) for uid, at in group.members.items() if uid in self.users]
            return [(u, u.created_at) for u in self.users.values() if self._in_automatic_group(group, u)]

    def group_member_ids(self, group: Group) -> list[int]:
        return sorted(u.id for u, _ in self.group_members_with_dates(group))

    def group_members(self, name_or_id: str | int) -> list[User]:
        with self.lock:
            group = self.group(name_or_id)
            return sorted((u for u, _ in self.group_members_with_dates(group)), key=lambda u: u.id)

    def _in_automatic_group(self, group: Group, user: User) -> bool:
        if user.id <= 0 or user.staged or group.id == AUTO_GROUPS["everyone"]:
            return False
        if group.name == "admins":
            return user.admin
        if group.name == "moderators":
            return user.moderator
        if group.name == "staff":
            return user.staff
        if group.name.startswith("trust_level_"):
            return user.trust_level >= int(group.name.removeprefix("trust_level_"))
        return False

    def groups_of(self, user: User) -> list[Group]:
        with self.lock:
            return [
                g
                for _, g in sorted(self.groups.items())
                if (g.automatic and self._in_automatic_group(g, user)) or (user.id in g.members)
            ]

    def post(self, post_id: int) -> Post:
        with self.lock:
            return self.posts[post_id]

    def topic(self, topic_id: int) -> Topic:
        with self.lock:
            return self.topics[topic_id]

    def first_post(self, topic_id: int) -> Post:
        with self.lock:
            return self.posts[self.topics[topic_id].post_ids[0]]

    def private_messages(self, *, to: str | None = None, sent_by: str | None = None) -> list[Topic]:
        """PM topics, optionally those a username may read (``to``) or started (``sent_by``)."""
        with self.lock:
            found = [t for t in self.topics.values() if t.is_private_message]
            if to is not None:
                uid = self._require_username(to).id
                found = [t for t in found if uid in t.allowed_user_ids]
            if sent_by is not None:
                uid = self._require_username(sent_by).id
                found = [t for t in found if t.user_id == uid]
            return sorted(found, key=lambda t: t.id)

    def flags_on(self, post_id: int | None = None) -> list[Flag]:
        with self.lock:
            if post_id is None:
                return list(self.flags.values())
            return list(self._flags_by_post.get(post_id, ()))

    def suspended_users(self) -> list[User]:
        with self.lock:
            now = self.clock.now()
            return [u for u in self.real_users() if u.is_suspended(now)]

    def requests_by(self, username: str | None) -> list[ApiRequest]:
        with self.lock:
            return [r for r in self.requests if r.api_username == username]

    # --- counters the serializers show ----------------------------------------------------------------

    def post_count(self, user_id: int) -> int:
        return sum(1 for p in self.posts.values() if p.user_id == user_id and p.deleted_at is None)

    def topic_count(self, user_id: int) -> int:
        return sum(
            1
            for t in self.topics.values()
            if t.user_id == user_id and not t.is_private_message and t.deleted_at is None
        )

    def topic_posts_count(self, topic: Topic) -> int:
        return sum(1 for pid in topic.post_ids if self.posts[pid].deleted_at is None)

    def flags_given_count(self, user_id: int) -> int:
        return sum(1 for f in self.flags.values() if f.user_id == user_id and f.deleted_at is None)

    def flags_received_count(self, user_id: int) -> int:
        return sum(
            1
            for f in self.flags.values()
            if f.deleted_at is None and self.posts[f.post_id].user_id == user_id
        )

    def live_flags(self, post_id: int, type_id: int) -> list[Flag]:
        return [
            f
            for f in self._flags_by_post.get(post_id, ())
            if f.post_action_type_id == type_id and f.deleted_at is None
        ]

    def reviewable_for(self, post_id: int) -> Reviewable | None:
        """The post's latest reviewable."""
        return self._reviewables_by_post.get(post_id)

    def pending_score_count(self, reviewable: Reviewable) -> int:
        return len(reviewable.flag_ids) if reviewable.status == ReviewableStatus.PENDING else 0

    def category_counts(self, category_id: int) -> tuple[int, int]:
        topics = [t for t in self.topics.values() if t.category_id == category_id and t.deleted_at is None]
        return len(topics), sum(self.topic_posts_count(t) for t in topics)

    # --- events -----------------------------------------------------------------------------------------

    # Payloads are built only for events the hook subscribes to, as Discourse checks for a hook first.

    def _emit_user(self, event: str, user: User) -> None:
        if self.webhooks.wants(event):
            self.webhooks.emit(event, "user", {"user": webhook_user(self, user)})

    def _emit_post(self, event: str, post: Post) -> None:
        if self.webhooks.wants(event):
            self.webhooks.emit(event, "post", {"post": webhook_post(self, post)})

    def _emit_topic(self, event: str, topic: Topic) -> None:
        if self.webhooks.wants(event):
            self.webhooks.emit(event, "topic", {"topic": webhook_topic(self, topic)})

    def _emit_group_user(self, event: str, group: Group, user: User) -> None:
        if not self.webhooks.wants(event):
            return
        document = {
            "group_user": {
                "group_id": group.id,
                "user_id": user.id,
                "notification_level": group.default_notification_level,
                "owner": user.id in group.owners,
            }
        }
        self.webhooks.emit(event, "group_user", document)

    def _mail(self, user: User, kind: str, body: str | None = None) -> None:
        self.emails.append(
            SentEmail(at=self.clock.now(), user_id=user.id, to=user.email, kind=kind, body=body)
        )

    def _log_staff(
        self, action: str, actor: User, target: User | None = None, details: str | None = None
    ) -> None:
        self.staff_actions.append(
            StaffAction(
                at=self.clock.now(),
                action=action,
                acting_user_id=actor.id,
                target_user_id=None if target is None else target.id,
                details=details,
            )
        )

    # --- users ------------------------------------------------------------------------------------------

    def _field_values(self, values: Mapping[Any, Any] | None) -> dict[int, str | None]:
        """User field values keyed by field id; keys may be ids, numeric strings or field names."""
        result: dict[int, str | None] = {}
        for key, value in (values or {}).items():
            field_id = self._user_field_id(key)
            result[field_id] = None if value is None else str(value)
        return result

    def _user_field_id(self, key: Any) -> int:
        if isinstance(key, int) and key in self.user_fields:
            return key
        text = str(key)
        if text.isdigit() and int(text) in self.user_fields:
            return int(text)
        for user_field in self.user_fields.values():
            if user_field.name.lower() == text.lower():
                return user_field.id
        raise KeyError(f"no user field {key!r}")

    def _validate_new_user(self, username: str, email: str, password: str | None) -> None:
        problems: dict[str, list[str]] = {}
        if not username:
            problems.setdefault("username", []).append("Username can't be blank")
        elif not _USERNAME.match(username) or len(username) > 60:
            problems.setdefault("username", []).append(
                "Username must only include numbers, letters, dashes, dots, and underscores"
            )
        elif self.find_user(username=username) is not None or self._find_group(username) is not None:
            problems.setdefault("username", []).append("Username has already been taken")
        if not email:
            problems.setdefault("email", []).append("Primary email can't be blank")
        elif not _EMAIL.match(email):
            problems.setdefault("email", []).append("Primary email is invalid.")
        elif self.find_user(email=email) is not None:
            problems.setdefault("email", []).append("Primary email has already been taken")
        if password is not None and len(password) < self.settings.min_password_length:
            count = self.settings.min_password_length
            problems.setdefault("password", []).append(
                f"Password is too short (minimum is {count} characters)"
            )
        if problems:
            raise ValidationFailed(problems)

    def create_user(
        self,
        username: str,
        email: str,
        name: str | None = None,
        *,
        active: bool = True,
        approved: bool = True,
        admin: bool = False,
        moderator: bool = False,
        staged: bool = False,
        trust_level: int | None = None,
        secondary_emails: Iterable[str] = (),
        user_fields: Mapping[Any, Any] | None = None,
        external_id: str | None = None,
        created_at: datetime | None = None,
        last_seen_at: datetime | None = None,
        password: str | None = None,
        title: str | None = None,
        emit: bool = True,
    ) -> User:
        """A user as an admin (or an import) would create one; fires ``user_created`` unless ``emit`` is
        false. Staff are always approved."""
        with self.lock:
            email = email.strip().lower()
            self._validate_new_user(username, email, password)
            fields_given = self._field_values(user_fields)
            user = User(
                id=next(self._user_ids),
                username=username,
                email=email,
                name=name,
                created_at=created_at or self.clock.now(),
                secondary_emails=[e.strip().lower() for e in secondary_emails],
                active=active,
                approved=approved or admin or moderator,
                admin=admin,
                moderator=moderator,
                staged=staged,
                trust_level=self.settings.default_trust_level if trust_level is None else trust_level,
                user_fields=fields_given,
                external_id=external_id,
                last_seen_at=last_seen_at,
                password=password,
                title=title,
            )
            self.users[user.id] = user
            if emit:
                self._emit_user("user_created", user)
            return user

    def sign_up(
        self,
        username: str,
        email: str,
        name: str | None = None,
        user_fields: Mapping[Any, Any] | None = None,
        *,
        password: str | None = None,
    ) -> User:
        """Someone registers: inactive (email unconfirmed) and not approved; fires ``user_created`` at once
        (before the email is confirmed) and sends the activation email."""
        with self.lock:
            user = self.create_user(
                username, email, name, active=False, approved=False, user_fields=user_fields,
                password=password, emit=False,
            )  # fmt: skip
            self._mail(user, "signup")
            self._emit_user("user_created", user)
            return user

    def confirm_email(self, user_id: int) -> User:
        """The user follows the activation link: active; fires ``user_confirmed_email``."""
        with self.lock:
            user = self.user(user_id)
            user.active = True
            self._emit_user("user_confirmed_email", user)
            return user

    def log_in(self, user_id: int) -> User:
        """The user signs in: a session, ``last_seen_at`` now; fires ``user_logged_in``."""
        with self.lock:
            user = self.user(user_id)
            if user.is_suspended(self.clock.now()) or not user.active:
                raise errors.invalid_access()
            user.auth_tokens += 1
            user.last_seen_at = self.clock.now()
            self._emit_user("user_logged_in", user)
            return user

    _UPDATABLE = frozenset(
        {"username", "name", "email", "secondary_emails", "title", "locale", "trust_level", "admin",
         "moderator", "staged", "active", "approved", "external_id", "last_seen_at", "user_fields"}
    )  # fmt: skip

    def update_user(self, user_id: int, **changes: Any) -> User:
        """Change a user's profile or state; fires ``user_updated``. ``user_fields`` is merged."""
        with self.lock:
            user = self.user(user_id)
            unknown = set(changes) - self._UPDATABLE
            if unknown:
                raise TypeError(f"cannot update {sorted(unknown)}")
            for key, value in changes.items():
                if key == "user_fields":
                    user.user_fields.update(self._field_values(value))
                elif key == "email":
                    user.email = str(value).strip().lower()
                elif key == "secondary_emails":
                    user.secondary_emails = [str(e).strip().lower() for e in value]
                else:
                    setattr(user, key, value)
            self._emit_user("user_updated", user)
            return user

    def feature_topic(self, user_id: int, topic_id: int | None) -> User:
        """Set (or clear) the topic featured on the user's profile (``featured_topic``)."""
        with self.lock:
            user = self.user(user_id)
            if topic_id is not None and topic_id not in self.topics:
                raise KeyError(f"no topic with id {topic_id}")
            user.featured_topic_id = topic_id
            return user

    def destroy_user(self, user_id: int, *, actor: User | None = None, delete_posts: bool = False) -> None:
        """Delete a user (``DELETE /admin/users/{id}.json``); fires ``user_destroyed`` with the payload as
        it was before deletion. Refused (403) for admins; 403 with a message when the user has posts and
        ``delete_posts`` is false."""
        with self.lock:
            actor = actor or self.system_user
            user = self.users.get(user_id)
            if user is None or not self.guardian.can_delete_user(actor, user):
                raise errors.invalid_access()
            posts = [p for p in self.posts.values() if p.user_id == user.id and p.deleted_at is None]
            if posts and not delete_posts:
                message = f"The user {user.username} has {len(posts)} posts in public topics, cannot delete."
                raise ApiError(403, {"deleted": False, "message": message})
            payload = {"user": webhook_user(self, user)}
            for post in posts:
                self._delete_post(post, actor)
            for group in self.groups.values():
                group.members.pop(user.id, None)
                group.owners.discard(user.id)
            del self.users[user.id]
            self._log_staff("delete_user", actor, None, user.username)
            self.webhooks.emit("user_destroyed", "user", payload)

    def approve_user(self, user_id: int, *, actor: User | None = None) -> User:
        """Approve a pending user; 403 unless active and not yet approved; fires ``user_approved``."""
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not self.guardian.can_approve(actor, user):
                raise errors.invalid_access()
            user.approved = True
            user.approved_by_id = actor.id
            user.approved_at = self.clock.now()
            self._mail(user, "signup_after_approval")
            self._emit_user("user_approved", user)
            return user

    def approve_users(self, user_ids: Iterable[int], *, actor: User | None = None) -> list[User]:
        """Bulk approval: the users that can be approved are; the others are skipped silently."""
        with self.lock:
            actor = actor or self.system_user
            done = []
            for user_id in user_ids:
                user = self.users.get(user_id)
                if user is not None and self.guardian.can_approve(actor, user):
                    done.append(self.approve_user(user_id, actor=actor))
            return done

    def suspend_user(
        self,
        user_id: int,
        until: datetime | None,
        reason: str | None,
        *,
        message: str | None = None,
        actor: User | None = None,
        post_id: int | None = None,
        post_action: str | None = None,
    ) -> User:
        """Suspend a user (dc: app/services/user/suspend.rb). Checks in Discourse's order: the contract
        (400), the user (404), not already suspended (409), the actor may suspend them (403)."""
        with self.lock:
            actor = actor or self.system_user
            problems = []
            if not reason or not reason.strip():
                problems.append("Reason can't be blank")
            elif len(reason) > MAX_REASON:
                problems.append(f"Reason is too long (maximum is {MAX_REASON} characters)")
            if until is None:
                problems.append("Suspend until can't be blank")
            if post_action and post_action not in ("delete", "delete_replies", "edit"):
                problems.append("Post action is not included in the list")
            if problems:
                raise errors.failed_contract(*problems)
            assert until is not None
            assert reason is not None
            user = self._user_or_404(user_id)
            now = self.clock.now()
            if user.is_suspended(now):
                by = self.users.get(user.suspended_by_id or SYSTEM_USER_ID) or self.system_user
                ago = time_ago_in_words((now - (user.suspended_at or now)).total_seconds())
                raise errors.failed_policy(409, f"{by.username} already suspended this user {ago}.")
            if not self.guardian.can_suspend(actor, user):
                raise errors.invalid_access()
            user.suspended_at = now
            user.suspended_till = until
            user.suspend_reason = reason
            user.full_suspend_reason = reason if not message else f"{reason}\n\n{message}"
            user.suspended_by_id = actor.id
            self._log_staff("suspend_user", actor, user, user.full_suspend_reason)
            self._log_out(user)
            if message:
                self._mail(user, "account_suspended", message)
            self._emit_user("user_suspended", user)
            if post_id is not None and post_action in ("delete", "delete_replies"):
                post = self.posts.get(post_id)
                if post is not None and post.deleted_at is None:
                    self._delete_post(post, actor)
            return user

    def unsuspend_user(self, user_id: int, *, actor: User | None = None) -> User:
        """Lift a suspension (no check that there was one, as Discourse); fires ``user_unsuspended``."""
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not self.guardian.can_suspend(actor, user):
                raise errors.invalid_access()
            user.suspended_till = None
            user.suspended_at = None
            self._log_staff("unsuspend_user", actor, user)
            self._emit_user("user_unsuspended", user)
            return user

    def silence_user(
        self,
        user_id: int,
        until: datetime | None,
        reason: str | None,
        *,
        message: str | None = None,
        actor: User | None = None,
    ) -> User:
        """Silence a user (they can read but not post). No ``until`` means for 1000 years."""
        with self.lock:
            actor = actor or self.system_user
            if not reason or not reason.strip():
                raise errors.failed_contract("Reason can't be blank")
            if len(reason) > MAX_REASON:
                raise errors.failed_contract(f"Reason is too long (maximum is {MAX_REASON} characters)")
            user = self._user_or_404(user_id)
            now = self.clock.now()
            if user.is_silenced(now):
                raise errors.failed_policy(409, f"{user.username} is already silenced.")
            if not self.guardian.can_suspend(actor, user):
                raise errors.invalid_access()
            user.silenced_at = now
            user.silenced_till = until or now + FOREVER
            user.silence_reason = reason if not message else f"{reason}\n\n{message}"
            user.silenced_by_id = actor.id
            self._log_staff("silence_user", actor, user, user.silence_reason)
            if message:
                self._mail(user, "account_silenced", message)
            return user

    def unsilence_user(self, user_id: int, *, actor: User | None = None) -> User:
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not self.guardian.can_suspend(actor, user):
                raise errors.invalid_access()
            user.silenced_till = user.silenced_at = None
            user.silence_reason = None
            self._log_staff("unsilence_user", actor, user)
            return user

    def activate_user(self, user_id: int, *, actor: User | None = None) -> User:
        """Staff activation: confirms the email; 403 if already active."""
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not actor.staff or user.active:
                raise errors.invalid_access()
            user.active = True
            self._log_staff("activate_user", actor, user)
            self._emit_user("user_confirmed_email", user)
            return user

    def deactivate_user(self, user_id: int, *, actor: User | None = None) -> User:
        """Staff deactivation: the user must confirm their email again; 403 if inactive or staff."""
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not actor.staff or not user.active or user.staff or user.id == actor.id:
                raise errors.invalid_access()
            user.active = False
            self._log_staff("deactivate_user", actor, user)
            return user

    def _log_out(self, user: User) -> None:
        user.auth_tokens = 0
        self._emit_user("user_logged_out", user)

    def log_out_user(self, user_id: int) -> User:
        """End all the user's sessions; fires ``user_logged_out``."""
        with self.lock:
            user = self._user_or_404(user_id)
            self._log_out(user)
            return user

    def anonymize_user(self, user_id: int, *, actor: User | None = None) -> User:
        """Irreversibly replace the user's identity: ``anon<hex>``, an invalid address, no name, no fields."""
        with self.lock:
            actor = actor or self.system_user
            user = self._user_or_404(user_id)
            if not actor.staff or user.staff or user.anonymized:
                raise errors.invalid_access()
            while True:
                username = f"anon{secrets.token_hex(4)}"
                if self.find_user(username=username) is None:
                    break
            user.username = username
            user.email = f"{username}@anonymized.invalid"
            user.secondary_emails = []
            user.name = None
            user.title = None
            user.user_fields = {}
            user.external_id = None
            user.anonymized = True
            user.auth_tokens = 0
            self._log_staff("anonymize_user", actor, user)
            return user

    # --- user fields and groups -------------------------------------------------------------------------

    def add_user_field(
        self,
        name: str,
        required: bool = False,
        *,
        description: str | None = None,
        field_type: str = "text",
        editable: bool = True,
        show_on_profile: bool = False,
    ) -> UserField:
        with self.lock:
            field_id = next(self._field_ids)
            user_field = UserField(
                id=field_id,
                name=name,
                description=description or name,
                field_type=field_type,
                editable=editable,
                required=required,
                show_on_profile=show_on_profile,
                position=field_id,
            )
            self.user_fields[field_id] = user_field
            return user_field

    def create_group(
        self,
        name: str,
        *,
        full_name: str | None = None,
        bio: str | None = None,
        usernames: Iterable[str] = (),
        owner_usernames: Iterable[str] = (),
        visibility_level: int = 0,
    ) -> Group:
        """A custom group (``POST /admin/groups.json``); the name must be unused by groups and users."""
        with self.lock:
            if not name or not _USERNAME.match(name):
                raise ValidationFailed(
                    {"name": ["Name must only include numbers, letters, dashes, dots, and underscores"]}
                )
            if self._find_group(name) is not None or self.find_user(username=name) is not None:
                raise ValidationFailed({"name": ["Name has already been taken"]})
            group = Group(
                id=next(self._group_ids),
                name=name,
                automatic=False,
                created_at=self.clock.now(),
                full_name=full_name,
                bio_raw=bio,
                visibility_level=visibility_level,
            )
            self.groups[group.id] = group
            members = [self._require_username(u) for u in itertools.chain(usernames, owner_usernames)]
            self._add_members(group, members, emit=False)
            group.owners.update(self._require_username(u).id for u in owner_usernames)
            return group

    def add_group_members(self, group: str | int, users: Iterable[User | str | int]) -> list[User]:
        """Add users (objects, usernames or ids) to a custom group; returns those newly added and fires
        ``user_added_to_group`` for each."""
        with self.lock:
            found = self.group(group)
            if found.automatic:
                raise errors.invalid_access()
            return self._add_members(found, [self._as_user(u) for u in users], emit=True)

    def remove_group_members(self, group: str | int, users: Iterable[User | str | int]) -> list[User]:
        with self.lock:
            found = self.group(group)
            if found.automatic:
                raise errors.invalid_access()
            return self._remove_members(found, [self._as_user(u) for u in users])

    def _as_user(self, value: User | str | int) -> User:
        if isinstance(value, User):
            return value
        if isinstance(value, int):
            return self.user(value)
        return self._require_username(value)

    def _add_members(self, group: Group, users: Sequence[User], *, emit: bool) -> list[User]:
        added = []
        for user in users:
            if user.id not in group.members:
                group.members[user.id] = self.clock.now()
                added.append(user)
                if emit:
                    self._emit_group_user("user_added_to_group", group, user)
        return added

    def _remove_members(self, group: Group, users: Sequence[User]) -> list[User]:
        removed = []
        for user in users:
            if user.id in group.members:
                del group.members[user.id]
                group.owners.discard(user.id)
                removed.append(user)
                self._emit_group_user("user_removed_from_group", group, user)
        return removed

    # --- posts ------------------------------------------------------------------------------------------

    def _validate_post(self, topic: Topic | None, title: str | None, raw: str, pm: bool) -> None:
        problems: dict[str, list[str]] = {}
        min_raw = self.settings.min_personal_message_post_length if pm else self.settings.min_post_length
        if len(raw.strip()) < min_raw:
            problems["raw"] = [f"Body is too short (minimum is {min_raw} characters)"]
        if topic is None:
            min_title = (
                self.settings.min_personal_message_title_length
                if pm
                else self.settings.min_topic_title_length
            )
            if not title or len(title.strip()) < min_title:
                problems["title"] = [f"Title is too short (minimum is {min_title} characters)"]
        if problems:
            raise ValidationFailed(problems)

    def write_post(
        self,
        user_id: int,
        raw: str,
        topic_id: int | None = None,
        title: str | None = None,
        *,
        category_id: int | None = None,
        archetype: Archetype | str = Archetype.REGULAR,
        recipients: Iterable[str] = (),
        reply_to_post_number: int | None = None,
        created_at: datetime | None = None,
        validate: bool = False,
    ) -> Post:
        """A post: a reply to ``topic_id`` or the first post of a new topic titled ``title`` (a PM when
        ``archetype`` is private_message, to ``recipients``). Fires ``topic_created`` for a new topic and
        then ``post_created``. ``validate`` applies Discourse's length rules (the HTTP API always does)."""
        with self.lock:
            author = self.user(user_id)
            now = created_at or self.clock.now()
            archetype = Archetype(archetype)
            topic = None if topic_id is None else self.topics.get(topic_id)
            if topic_id is not None and (topic is None or topic.deleted_at is not None):
                raise errors.not_found()
            pm = topic.is_private_message if topic is not None else archetype == Archetype.PRIVATE_MESSAGE
            if validate:
                self._validate_post(topic, title, raw, pm)
            new_topic = topic is None
            if topic is None:
                if not title:
                    raise ValidationFailed({"title": ["Title can't be blank"]})
                allowed: list[int] = []
                if pm:
                    allowed = [author.id]
                    for name in recipients:
                        target = self.find_user(username=name.strip())
                        if target is None:
                            raise errors.unprocessable(f"There is no user with the username {name.strip()}.")
                        if target.id not in allowed:
                            allowed.append(target.id)
                    if len(allowed) < 2:
                        raise errors.unprocessable("You must choose a valid user.")
                topic = Topic(
                    id=next(self._topic_ids),
                    title=title,
                    slug=slugify(title),
                    user_id=author.id,
                    archetype=archetype,
                    created_at=now,
                    updated_at=now,
                    category_id=None if pm else (category_id or self.uncategorized_category_id),
                    allowed_user_ids=allowed,
                )
                self.topics[topic.id] = topic
            topic.highest_post_number += 1
            post = Post(
                id=next(self._post_ids),
                topic_id=topic.id,
                post_number=topic.highest_post_number,
                user_id=author.id,
                raw=raw,
                cooked=cook(raw),
                created_at=now,
                updated_at=now,
                reply_to_post_number=reply_to_post_number,
            )
            self.posts[post.id] = post
            topic.post_ids.append(post.id)
            topic.updated_at = now
            author.last_posted_at = now
            if new_topic:
                self._emit_topic("topic_created", topic)
            self._emit_post("post_created", post)
            return post

    def send_private_message(self, user_id: int, recipients: Iterable[str], title: str, raw: str) -> Post:
        return self.write_post(
            user_id, raw, title=title, archetype=Archetype.PRIVATE_MESSAGE, recipients=recipients
        )

    def edit_post(
        self, post_id: int, raw: str, *, actor: User | None = None, edit_reason: str | None = None
    ) -> Post:
        """A new revision: ``version`` + 1; fires ``post_edited``."""
        with self.lock:
            post = self.posts.get(post_id)
            if post is None:
                raise errors.not_found()
            actor = actor or self.system_user
            if not (actor.staff or actor.id == post.user_id) or post.deleted_at is not None:
                raise errors.invalid_access()
            self._revise(post, raw, edit_reason)
            self._emit_post("post_edited", post)
            return post

    def _revise(self, post: Post, raw: str, edit_reason: str | None) -> None:
        now = self.clock.now()
        post.raw = raw
        post.cooked = cook(raw)
        post.version += 1
        post.updated_at = now
        post.last_version_at = now
        post.edit_reason = edit_reason

    def edit_topic_first_post(self, topic_id: int, title: str, raw: str) -> Post:
        """Change a topic's title and first post in one revision: fires ONLY ``topic_edited`` (FACTS.md §1:
        the sidecar must fetch the post to see the new text)."""
        with self.lock:
            topic = self.topics[topic_id]
            post = self.posts[topic.post_ids[0]]
            topic.title = title
            topic.slug = slugify(title)
            topic.updated_at = self.clock.now()
            self._revise(post, raw, None)
            self._emit_topic("topic_edited", topic)
            return post

    def delete_post(self, post_id: int, *, actor: User | None = None) -> Post:
        """Soft-delete a post (and its topic when it is the first post); fires ``post_destroyed``."""
        with self.lock:
            post = self.posts.get(post_id)
            if post is None or post.deleted_at is not None:
                raise errors.not_found()
            actor = actor or self.system_user
            if not (actor.staff or actor.id == post.user_id):
                raise errors.invalid_access()
            self._delete_post(post, actor)
            return post

    def _delete_post(self, post: Post, actor: User) -> None:
        now = self.clock.now()
        post.deleted_at = now
        post.updated_at = now
        topic = self.topics[post.topic_id]
        self._emit_post("post_destroyed", post)
        if post.post_number == 1 and topic.deleted_at is None:
            topic.deleted_at = now
            self._emit_topic("topic_destroyed", topic)

    def _hide(self, post: Post) -> None:
        post.hidden = True
        post.hidden_at = self.clock.now()
        post.hidden_reason_id = 1  # dc: Post.hidden_reasons[:flag_threshold_reached]

    def unhide_post(self, post_id: int, *, actor: User | None = None) -> Post:
        with self.lock:
            post = self.posts.get(post_id)
            if post is None:
                raise errors.not_found()
            actor = actor or self.system_user
            if not actor.staff:
                raise errors.invalid_access()
            post.hidden = False
            post.hidden_at = None
            post.hidden_reason_id = None
            return post

    # --- flags ------------------------------------------------------------------------------------------

    def flag_post(
        self,
        user_id: int,
        post_id: int,
        type_id: int,
        *,
        message: str | None = None,
        take_action: bool = False,
    ) -> Flag:
        """Flag a post (dc: lib/post_action_creator.rb). Refused (403) when the flagger already flagged it,
        when it is hidden, or when they may not flag; ``take_action`` (staff only) hides the post at once.
        Fires ``reviewable_created`` for the post's first pending flag."""
        with self.lock:
            actor = self.user(user_id)
            post = self.posts.get(post_id)
            if post is None or not self.guardian.can_see_post(actor, post):
                raise errors.not_found()
            if not is_flag(type_id) and type_id != PostActionType.LIKE:
                raise errors.invalid_parameters("post_action_type_id")
            if not self.guardian.post_can_act(actor, post, type_id):
                taken = any(f.user_id == actor.id for f in self.live_flags(post.id, type_id))
                raise errors.forbidden(errors.ACTION_ALREADY_PERFORMED if taken else errors.INVALID_ACCESS)
            if type_id == PostActionType.NOTIFY_MODERATORS and not (message and message.strip()):
                raise errors.unprocessable("A message is required when notifying the moderators.")
            take_action = take_action and actor.staff
            now = self.clock.now()
            related = self._flag_message(actor, post, type_id, message) if message else None
            flag = Flag(
                id=next(self._flag_ids),
                post_id=post.id,
                user_id=actor.id,
                post_action_type_id=type_id,
                created_at=now,
                message=message,
                staff_took_action=take_action,
                related_post_id=None if related is None else related.id,
            )
            self.flags[flag.id] = flag
            self._flags_by_post[flag.post_id].append(flag)
            if is_notify_flag(type_id) and post.user_id > 0:  # dc: create_reviewable (not for system posts)
                self._review(post, flag, actor, take_action)
            return flag

    def _review(self, post: Post, flag: Flag, actor: User, take_action: bool) -> None:
        """Add the flag to the post's pending reviewable, creating one (and firing reviewable_created) if
        there is none; staff taking action agree at once and hide the post."""
        now = self.clock.now()
        reviewable = self.reviewable_for(post.id)
        created = reviewable is None or reviewable.status != ReviewableStatus.PENDING
        if reviewable is None or created:
            reviewable = Reviewable(
                id=next(self._reviewable_ids),
                post_id=post.id,
                topic_id=post.topic_id,
                created_by_id=actor.id,
                created_at=now,
                updated_at=now,
            )
            self.reviewables[reviewable.id] = reviewable
            self._reviewables_by_post[reviewable.post_id] = reviewable
        reviewable.flag_ids.append(flag.id)
        reviewable.updated_at = now
        if take_action:
            reviewable.status = ReviewableStatus.APPROVED
            self._hide(post)
        if created and self.webhooks.wants("reviewable_created"):
            document = {"reviewable": webhook_reviewable(self, reviewable)}
            self.webhooks.emit("reviewable_created", "reviewable", document)

    def _flag_message(self, actor: User, post: Post, type_id: int, message: str) -> Post | None:
        topic = self.topics[post.topic_id]
        author = self.users.get(post.user_id)
        if type_id == PostActionType.NOTIFY_USER and author is not None:
            recipients = [author.username]
        elif type_id == PostActionType.NOTIFY_MODERATORS:
            staff = (u for u in self.users.values() if u.id > 0 and u.staff and u.id != actor.id)
            recipients = [u.username for u in sorted(staff, key=lambda u: u.id)]
        else:
            return None
        if not recipients:
            return None
        title = (
            f'Your post in "{topic.title}"'
            if type_id == PostActionType.NOTIFY_USER
            else (f'"{topic.title}" requires staff attention')
        )
        raw = f"{message}\n\n{self.base_url}/t/{topic.slug}/{topic.id}/{post.post_number}"
        return self.write_post(
            actor.id, raw, title=title, archetype=Archetype.PRIVATE_MESSAGE, recipients=recipients
        )

    # --- the HTTP API's bookkeeping ---------------------------------------------------------------------

    def record_request(self, request: ApiRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def draw_api_fault(self) -> bool:
        """Whether this request fails by fault injection (consumes ``fail_next`` first)."""
        with self.lock:
            if self.faults.fail_next > 0:
                self.faults.fail_next -= 1
                return True
            return self.faults.error_rate > 0 and self._api_rng.random() < self.faults.error_rate

    def seed_faults(self, value: int) -> None:
        with self.lock:
            self._api_rng.seed(value)
            self.webhooks.seed(value)
