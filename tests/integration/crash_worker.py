"""A worker process for the crash tests: ``python -m tests.integration.crash_worker hang|finish MARKERS``.

Its user_created handler leaves a marker file; in ``hang`` mode it then blocks until the process is killed,
in ``finish`` mode it returns. Configuration comes from the MUG_* environment, as for the real worker.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from sidecar.config import load_config
from sidecar.jobs.worker import Worker
from sidecar.runtime import build_runtime
from webhooks.dispatch import HandlerContext, Registry, make_processor
from webhooks.events import EventName, WebhookEvent


def main() -> None:
    mode, markers = sys.argv[1], Path(sys.argv[2])
    runtime = build_runtime(load_config(None, os.environ))
    registry = Registry()
    forever = threading.Event()

    @registry.on(EventName.USER_CREATED)
    def handle(event: WebhookEvent, ctx: HandlerContext) -> None:
        (markers / f"{mode}-{os.getpid()}-{event.delivery_id}").touch()
        if mode == "hang":
            forever.wait()  # until SIGKILL

    worker = Worker(
        runtime.sessions,
        make_processor(registry, sessions=runtime.sessions, clock=runtime.clock, config=runtime.config),
        settings=runtime.config.worker,
        clock=runtime.clock,
        metrics=runtime.metrics,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    (markers / f"ready-{mode}-{os.getpid()}").touch()
    worker.run(stop)


if __name__ == "__main__":
    main()
