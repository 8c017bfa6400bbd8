"""Seed files: the forum a simulator starts with, as JSON or TOML (by the file's suffix).

Every section is optional; unknown keys are errors naming their place (``users[2].emial``). Loading fires
no webhooks: a seed is the forum's state before the sidecar watches it. TOML::

    [settings]                      # SiteSettings fields, e.g.
    must_approve_users = true
    title = "MUG forum"

    [[api_keys]]                    # more admin API keys; with username, a single-user key
    key = "another-key"
    username = "alice"

    [[user_fields]]
    name = "Membership number"
    required = true
    description = "Your number on the membership card"   # optional
    field_type = "text"                                  # optional
    show_on_profile = false                              # optional

    [[groups]]
    name = "members"
    full_name = "Association members"                    # optional
    bio = "..."                                          # optional
    visibility_level = 0                                 # optional

    [[users]]
    username = "alice"              # required
    email = "alice@example.org"     # required
    name = "Alice Example"
    admin = false
    moderator = false
    active = true                   # email confirmed; false for an unconfirmed sign-up
    approved = true                 # false for a pending (unapproved) user
    staged = false
    trust_level = 1
    title = "..."
    secondary_emails = ["alice@example.net"]
    groups = ["members"]            # custom groups (automatic ones follow from the user)
    user_fields = { "Membership number" = "M-0001" }    # by field name or id
    external_id = "42"              # a DiscourseConnect id
    created_at = 2025-01-02T03:04:05Z                   # TOML datetime or ISO 8601 text
    last_seen_at = 2025-03-04T05:06:07Z
    suspended_till = 2030-01-01T00:00:00Z               # with suspend_reason: suspended
    suspend_reason = "..."
    silenced_till = 2030-01-01T00:00:00Z                # with silence_reason: silenced
    silence_reason = "..."

    [[posts]]                       # in order; a post with a title starts a topic
    author = "alice"                # required
    raw = "..."                     # required
    title = "Welcome to the forum"  # a new topic...
    topic = "Welcome to the forum"  # ...or a reply to the topic with this title
    category_id = 4                 # optional (1 Uncategorized, 2 Site Feedback, 3 Staff, 4 General)
    private_message_to = ["bob"]    # a private message (needs a title)
    created_at = 2025-01-02T03:04:05Z

JSON has the same shape: ``{"settings": {...}, "users": [{...}], ...}`` with times as ISO 8601 strings.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sidecar.forum.simulator.errors import ApiError
from sidecar.forum.simulator.records import Archetype
from sidecar.forum.simulator.site import DiscourseSimulator, SiteSettings

DEMO_SEED = "demo-seed.toml"

_SECTIONS = {"settings", "api_keys", "user_fields", "groups", "users", "posts"}
_API_KEY_KEYS = {"key", "username", "description"}
_USER_FIELD_KEYS = {"name", "required", "description", "field_type", "editable", "show_on_profile"}
_GROUP_KEYS = {"name", "full_name", "bio", "visibility_level"}
_USER_KEYS = {
    "username", "email", "name", "admin", "moderator", "active", "approved", "staged", "trust_level", "title",
    "secondary_emails", "groups", "user_fields", "external_id", "created_at", "last_seen_at",
    "suspended_till", "suspend_reason", "silenced_till", "silence_reason",
}  # fmt: skip
_POST_KEYS = {"author", "raw", "title", "topic", "category_id", "private_message_to", "created_at"}


class SeedError(ValueError):
    """The seed is not valid; the message names the place."""


def read_seed(path: Path | str) -> dict[str, Any]:
    """Parse a seed file (``.toml`` or ``.json``); ``demo`` names the bundled demo seed."""
    if str(path) == "demo":
        text = resources.files("sidecar.forum.simulator").joinpath(DEMO_SEED).read_text(encoding="utf-8")
        return tomllib.loads(text)
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        if path.suffix.lower() == ".json":
            document = json.loads(text)
            if not isinstance(document, dict):
                raise SeedError(f"{path}: a seed is a JSON object")
            return document
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SeedError(f"{path}: {exc}") from None
    raise SeedError(f"{path}: a seed file ends in .toml or .json")


def seed_has_admin(seed: Mapping[str, Any]) -> bool:
    return any(isinstance(u, Mapping) and u.get("admin") for u in seed.get("users") or ())


def load_seed(sim: DiscourseSimulator, seed: Mapping[str, Any]) -> None:
    """Apply a parsed seed to ``sim`` without firing webhooks."""
    _check_keys("seed", seed, _SECTIONS)
    with sim.quietly():
        _settings(sim, seed.get("settings") or {})
        for index, item in enumerate(_items(seed, "user_fields", _USER_FIELD_KEYS)):
            sim.add_user_field(
                _text(item, "name", f"user_fields[{index}]"),
                bool(item.get("required", False)),
                description=item.get("description"),
                field_type=item.get("field_type", "text"),
                editable=bool(item.get("editable", True)),
                show_on_profile=bool(item.get("show_on_profile", False)),
            )
        for index, item in enumerate(_items(seed, "groups", _GROUP_KEYS)):
            sim.create_group(
                _text(item, "name", f"groups[{index}]"),
                full_name=item.get("full_name"),
                bio=item.get("bio"),
                visibility_level=int(item.get("visibility_level", 0)),
            )
        for index, item in enumerate(_items(seed, "users", _USER_KEYS)):
            _user(sim, item, f"users[{index}]")
        for index, item in enumerate(_items(seed, "api_keys", _API_KEY_KEYS)):
            sim.add_api_key(
                _text(item, "key", f"api_keys[{index}]"), item.get("username"), item.get("description", "")
            )
        for index, item in enumerate(_items(seed, "posts", _POST_KEYS)):
            _post(sim, item, f"posts[{index}]")


def load_seed_file(sim: DiscourseSimulator, path: Path | str) -> None:
    load_seed(sim, read_seed(path))


def simulator_from_seed(
    seed: Path | str | Mapping[str, Any] | None = None, **options: Any
) -> DiscourseSimulator:
    """A simulator built with ``options`` (DiscourseSimulator's keywords) and loaded with ``seed`` (a path,
    ``"demo"``, or a parsed seed). The default ``admin`` user is only created when the seed has no admin.
    Raises SeedError (and OSError for an unreadable file)."""
    document = read_seed(seed) if isinstance(seed, Path | str) else dict(seed or {})
    options.setdefault("default_admin", not seed_has_admin(document))
    sim = DiscourseSimulator(**options)
    load_seed(sim, document)
    return sim


def _check_keys(where: str, item: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise SeedError(f"{where}.{unknown[0]}: unknown key")


def _items(seed: Mapping[str, Any], section: str, allowed: set[str]) -> list[Mapping[str, Any]]:
    items = seed.get(section) or []
    if not isinstance(items, list):
        raise SeedError(f"{section}: a list of tables is expected")
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise SeedError(f"{section}[{index}]: a table is expected")
        _check_keys(f"{section}[{index}]", item, allowed)
    return items


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise SeedError(f"{where}.{key}: a non-empty string is required")
    return value


def _time(item: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise SeedError(f"{where}.{key}: not an ISO 8601 time: {value!r}") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
    raise SeedError(f"{where}.{key}: a time is expected")


def _settings(sim: DiscourseSimulator, settings: Mapping[str, Any]) -> None:
    known = {f.name for f in fields(SiteSettings)}
    _check_keys("settings", settings, known)
    for key, value in settings.items():
        setattr(sim.settings, key, value)


def _user(sim: DiscourseSimulator, item: Mapping[str, Any], where: str) -> None:
    try:
        user = sim.create_user(
            _text(item, "username", where),
            _text(item, "email", where),
            item.get("name"),
            active=bool(item.get("active", True)),
            approved=bool(item.get("approved", True)),
            admin=bool(item.get("admin", False)),
            moderator=bool(item.get("moderator", False)),
            staged=bool(item.get("staged", False)),
            trust_level=item.get("trust_level"),
            secondary_emails=item.get("secondary_emails") or (),
            user_fields=item.get("user_fields"),
            external_id=None if item.get("external_id") is None else str(item["external_id"]),
            created_at=_time(item, "created_at", where),
            last_seen_at=_time(item, "last_seen_at", where),
            title=item.get("title"),
            emit=False,
        )
        for group in item.get("groups") or ():
            sim.add_group_members(group, [user])
    except (KeyError, ValueError) as exc:
        raise SeedError(f"{where}: {exc}") from None
    suspended_till = _time(item, "suspended_till", where)
    if suspended_till is not None:
        user.suspended_at = user.created_at
        user.suspended_till = suspended_till
        user.suspend_reason = user.full_suspend_reason = item.get("suspend_reason") or "suspended"
        user.suspended_by_id = -1
    silenced_till = _time(item, "silenced_till", where)
    if silenced_till is not None:
        user.silenced_at = user.created_at
        user.silenced_till = silenced_till
        user.silence_reason = item.get("silence_reason") or "silenced"
        user.silenced_by_id = -1


def _post(sim: DiscourseSimulator, item: Mapping[str, Any], where: str) -> None:
    author = sim.find_user(username=_text(item, "author", where))
    if author is None:
        raise SeedError(f"{where}.author: no user named {item['author']!r}")
    topic_id = None
    if item.get("topic") is not None:
        wanted = str(item["topic"])
        topic = next((t for t in sim.topics.values() if t.title == wanted), None)
        if topic is None:
            raise SeedError(f"{where}.topic: no topic titled {wanted!r} (topics come before their replies)")
        topic_id = topic.id
    elif item.get("title") is None:
        raise SeedError(f"{where}: give a title (a new topic) or a topic (a reply)")
    recipients = item.get("private_message_to") or []
    try:
        sim.write_post(
            author.id,
            _text(item, "raw", where),
            topic_id=topic_id,
            title=item.get("title"),
            category_id=item.get("category_id"),
            archetype=Archetype.PRIVATE_MESSAGE if recipients else Archetype.REGULAR,
            recipients=recipients,
            created_at=_time(item, "created_at", where),
        )
    except (KeyError, ValueError, ApiError) as exc:
        raise SeedError(f"{where}: {exc}") from None
