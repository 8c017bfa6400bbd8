"""Helpers shared by the tests: fixtures on disk, signed deliveries."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sidecar.jobs.inbox import IncomingDelivery
from webhooks.signature import sign

FIXTURES = Path(__file__).parent / "fixtures"
CAPTURES = FIXTURES / "discourse" / "captures"
EXAMPLES = FIXTURES / "discourse" / "examples"
SECRET = "test_webhook_secret_0123456789"
INSTANCE = "https://forum.example.org"

_event_ids = itertools.count(1000)


def sidecar_env(database_url: str, state_dir: Path, **overrides: str) -> dict[str, str]:
    """The MUG_* environment of a sidecar run by a test."""
    env = {
        "MUG_DATABASE_URL": database_url,
        "MUG_FORUM_WEBHOOK_SECRET": SECRET,
        "MUG_SERVER_STATE_DIR": str(state_dir),
        "MUG_LOGGING_FORMAT": "json",
    }
    env.update(overrides)
    return env


def capture_events() -> list[str]:
    return sorted(p.name.removesuffix("-body.json") for p in CAPTURES.glob("*-body.json"))


def load_capture(event: str) -> tuple[bytes, dict[str, str]]:
    """A real delivery: its exact body bytes and the headers the capture kept."""
    body = (CAPTURES / f"{event}-body.json").read_bytes()
    kept = json.loads((CAPTURES / f"{event}-header.json").read_text())
    headers = {
        "User-Agent": kept["UserAgent"],
        "X-Discourse-Instance": kept["Instance"],
        "X-Discourse-Event-Id": kept["EventId"],
        "X-Discourse-Event-Type": kept["EventType"],
        "X-Discourse-Event": kept["Event"],
    }
    return body, headers


def headers_for(
    body: bytes,
    *,
    event: str,
    event_type: str | None = None,
    event_id: int | None = None,
    secret: str = SECRET,
    instance: str = INSTANCE,
    content_type: str = "application/json",
) -> dict[str, str]:
    """The headers Discourse sends with ``body`` (emit_web_hook_event.rb), signed with ``secret``."""
    return {
        "Content-Type": content_type,
        "User-Agent": "Discourse/2025.12.0-latest",
        "X-Discourse-Instance": instance,
        "X-Discourse-Event-Id": str(next(_event_ids) if event_id is None else event_id),
        "X-Discourse-Event-Type": event_type or event.split("_")[0],
        "X-Discourse-Event": event,
        "X-Discourse-Event-Signature": sign(secret.encode(), body),
    }


def user_body(user_id: int, **fields: Any) -> bytes:
    """A compact user payload as the webhook serializer sends it."""
    user = {
        "id": user_id,
        "username": f"member{user_id}",
        "name": f"Member {user_id}",
        "email": f"member{user_id}@example.org",
        "secondary_emails": [],
        "created_at": "2026-11-01T10:00:00.000Z",
        "trust_level": 1,
        "admin": False,
        "moderator": False,
        "staged": False,
        "groups": [{"id": 10, "name": "trust_level_0", "automatic": True}],
    }
    user.update(fields)
    return json.dumps({"user": user}, separators=(",", ":")).encode()


def post_body(post_id: int, *, user_id: int = 7, version: int = 1, raw: str = "Hello") -> bytes:
    post = {
        "id": post_id,
        "user_id": user_id,
        "username": f"member{user_id}",
        "topic_id": 3,
        "post_number": 1,
        "post_type": 1,
        "raw": raw,
        "version": version,
        "created_at": "2026-11-01T10:00:00.000Z",
        "updated_at": "2026-11-01T10:00:00.000Z",
        "topic_archetype": "regular",
    }
    return json.dumps({"post": post}, separators=(",", ":")).encode()


def user_delivery(
    user_id: int,
    event_id: int,
    received_at: datetime,
    *,
    event: str = "user_updated",
    body: bytes | None = None,
) -> IncomingDelivery:
    """A user event about ``user_id`` as the intake hands it to the inbox (by default with ``user_body``)."""
    return IncomingDelivery(
        instance=INSTANCE,
        event_id=event_id,
        event_type="user",
        event_name=event,
        subject=f"user:{user_id}",
        content_type="application/json",
        body=body if body is not None else user_body(user_id),
        received_at=received_at,
    )
