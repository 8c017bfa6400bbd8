"""Building the ForumClient the configuration asks for."""

from __future__ import annotations

from sidecar.config import ForumConfig
from sidecar.forum.actions import ActionLog
from sidecar.forum.discourse import DiscourseForum, Sleeper
from sidecar.forum.port import ForumClient
from sidecar.forum.ratelimit import Budget, SharedTokenBucket
from sidecar.runtime import Runtime


class ForumNotConfigured(RuntimeError):
    pass


def budget_of(settings: ForumConfig) -> Budget:
    return Budget(
        limit=settings.rate_limit, window_seconds=settings.rate_window_seconds, burst=settings.rate_burst
    )


def build_forum(
    runtime: Runtime, settings: ForumConfig | None = None, *, sleeper: Sleeper | None = None
) -> ForumClient:
    """The Discourse adapter for ``settings`` (default: the runtime's), on the runtime's shared budget."""
    settings = settings or runtime.config.forum
    if not settings.url:
        raise ForumNotConfigured(
            "no forum is configured (forum.url): only `mug-sidecar serve` runs the bundled simulator"
        )
    return DiscourseForum(
        settings,
        bucket=SharedTokenBucket(runtime.sessions, runtime.clock, budget_of(settings)),
        actions=ActionLog(runtime.sessions, runtime.clock),
        metrics=runtime.metrics,
        sleeper=sleeper,
    )
