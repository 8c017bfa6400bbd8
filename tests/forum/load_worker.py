"""A worker process for the load test: ``python -m tests.forum.load_worker``.

Its user_updated handler sends the user one private message through the real adapter, so every delivery is
exactly one non-idempotent forum call. Configuration (database, forum, budget) comes from MUG_*.
"""

from __future__ import annotations

import os
import signal
import threading

from sidecar.config import load_config
from sidecar.forum.factory import build_forum
from sidecar.jobs.worker import Worker
from sidecar.logs import configure_logging
from sidecar.runtime import build_runtime
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent


def main() -> None:
    config = load_config(None, os.environ)
    configure_logging(config.logging.level, config.logging.format)
    runtime = build_runtime(config)
    registry = Registry()

    @registry.on(EventName.USER_UPDATED)
    def notify(event: WebhookEvent, ctx: HandlerContext) -> None:
        ctx.forum.send_private_message([event.user.username], f"Notice {event.delivery_id}", "Load test.")

    worker = Worker(
        runtime.sessions,
        make_processor(
            registry,
            sessions=runtime.sessions,
            clock=runtime.clock,
            config=runtime.config,
            forum=build_forum(runtime),
        ),
        settings=runtime.config.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop)


if __name__ == "__main__":
    main()
