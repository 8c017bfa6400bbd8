"""Findings test helpers: the simulated forum in-process, the service on it, and what was recorded."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from sidecar.audit import details_of
from sidecar.config import Config
from sidecar.db.models import AuditEntry, PostFinding
from sidecar.findings.queue import FindingsQueue
from sidecar.findings.service import FindingsService, PostVersion
from sidecar.forum.discourse import DiscourseForum
from sidecar.forum.simulator import DiscourseSimulator
from sidecar.forum.simulator.records import Post
from sidecar.runtime import Runtime
from sidecar.scanner.cli import build_scanner
from tests.termination import conftest as termination

# The simulated forum (under ``responses``) and the adapter on it, as the termination tests have them.
sim = termination.sim
mocked_sim = termination.mocked_sim
forum_config = termination.forum_config
forum = termination.forum

CARD = "4111 1111 1111 1111"
OTHER_CARD = "5555 5555 5555 4444"


def service_for(
    runtime: Runtime, forum: DiscourseForum | None, config: Config, **scanning: Any
) -> FindingsService:
    """The service on the runtime's database and clock, with ``[scanning]`` settings replaced."""
    if scanning:
        config = dataclasses.replace(config, scanning=dataclasses.replace(config.scanning, **scanning))
    return FindingsService(
        sessions=runtime.sessions,
        clock=runtime.clock,
        config=config,
        scanner=build_scanner(config),
        forum=forum.with_cause("test") if forum else None,
    )


def queue_for(runtime: Runtime, forum: DiscourseForum | None) -> FindingsQueue:
    return FindingsQueue(sessions=runtime.sessions, clock=runtime.clock, forum=forum)


def payload(sim: DiscourseSimulator, post: Post) -> PostVersion:
    """What the webhook says about ``post`` right now (the text included)."""
    topic = sim.topic(post.topic_id)
    author = sim.user(post.user_id)
    return PostVersion(
        id=post.id,
        topic_id=post.topic_id,
        post_number=post.post_number,
        version=post.version,
        user_id=post.user_id,
        username=author.username,
        raw=post.raw,
        post_type=post.post_type,
        private_message=topic.is_private_message,
        topic_title=topic.title,
    )


def findings(runtime: Runtime) -> list[PostFinding]:
    with runtime.sessions() as session:
        rows = list(session.execute(select(PostFinding).order_by(PostFinding.id)).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def audit_of(runtime: Runtime, prefix: str) -> list[tuple[str, str, dict[str, Any]]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id)
        ).scalars()
        return [(e.actor, e.action, details_of(e)) for e in rows]


@pytest.fixture
def member(sim: DiscourseSimulator) -> int:
    return sim.create_user("ann", "ann@acme.test", emit=False).id


def pms_to(sim: DiscourseSimulator, username: str) -> list[str]:
    """The first posts of the private messages ``username`` received, oldest first."""
    return [sim.first_post(t.id).raw for t in sim.private_messages(to=username)]


def flags(sim: DiscourseSimulator, post_id: int) -> list[Any]:
    return [f for f in sim.flags_on(post_id) if f.deleted_at is None]
