"""Discourse's time format: Ruby's ``iso8601(3)`` in UTC with a trailing ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """``2026-01-02T13:58:49.606Z``, as Discourse serializes times (webhook captures), or None."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime | None:
    """A time as Rails casts a ``:datetime`` parameter: ISO 8601 or a bare date; naive means UTC.

    None when the text is not a time (Rails casts it to nil, and the contract then says "can't be blank").
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_ago_in_words(seconds: float) -> str:
    """A short English rendering of an age, close to Discourse's ``AgeWords.time_ago_in_words``."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 24:
        return f"about {hours} hour{'s' if hours != 1 else ''} ago"
    days = hours // 24
    return f"{days} day{'s' if days != 1 else ''} ago"
