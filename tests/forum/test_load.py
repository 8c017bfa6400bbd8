"""Proof under load: 500 forum calls from three worker processes against the simulator over HTTP.

The simulator's limit and the sidecar's budget are shrunk to a 2-second window so the run is short. The
simulator's limit is never exceeded, no 429 reaches a handler as a failure, nothing is sent twice, and
the forum-action log accounts for every call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from sidecar.db.models import Delivery, DeliveryStatus, ForumAction
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.jobs import inbox
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY
from tests.integration.polling import wait_for
from tests.support import user_body, user_delivery

ROOT = Path(__file__).parents[2]
CALLS = 500
USERS = 50
WORKERS = 3
SIM_LIMIT, WINDOW = 60, 2.0  # Discourse's 60/minute, shrunk
BUDGET, BURST = 52, 8  # the sidecar's budget below it


def test_three_workers_stay_under_the_forum_limit_and_send_each_message_once(
    runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    sim = DiscourseSimulator(api_key=API_KEY, rate_limit=SIM_LIMIT, rate_window=WINDOW)
    users = [sim.create_user(f"member{n:02d}", f"member{n:02d}@example.org") for n in range(USERS)]
    running = start_background(sim)
    with runtime.engine.begin() as conn:
        for n in range(CALLS):
            user = users[n % USERS]
            inbox.store(
                conn,
                user_delivery(
                    user.id, n, runtime.clock.now(), body=user_body(user.id, username=user.username, nonce=n)
                ),
            )
    process_env = {
        **os.environ,
        **env,
        "MUG_FORUM_URL": running.url,
        "MUG_FORUM_API_KEY": API_KEY,
        "MUG_FORUM_API_USERNAME": "system",
        "MUG_FORUM_RATE_LIMIT": str(BUDGET),
        "MUG_FORUM_RATE_WINDOW_SECONDS": str(WINDOW),
        "MUG_FORUM_RATE_BURST": str(BURST),
        "MUG_WORKER_POLL_SECONDS": "0.05",
    }
    logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.forum.load_worker"],
            cwd=ROOT,
            env=process_env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for log in logs
    ]

    def finished() -> bool:
        with runtime.sessions() as session:
            done = session.execute(
                select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.DONE)
            ).scalar_one()
        return done == CALLS

    try:
        wait_for(finished, timeout=120, interval=0.5, what="all 500 deliveries")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        running.stop()

    # The forum's limit was never exceeded, whatever the workers did.
    assert sim.limiter.max_in_window <= SIM_LIMIT
    # Each message went out exactly once.
    titles = Counter(t.title for t in sim.private_messages())
    assert len(titles) == CALLS
    assert set(titles.values()) == {1}
    # No delivery failed: a 429 is waited out or handed back without spending an attempt.
    with runtime.sessions() as session:
        rows = session.execute(select(Delivery.status, Delivery.attempts, Delivery.last_error)).all()
        logged = session.execute(select(ForumAction.cause, ForumAction.outcome)).all()
    assert {(status, attempts) for status, attempts, _ in rows} == {(DeliveryStatus.DONE, 1)}
    # The call log accounts for every call: one "done" per delivery; every other request the forum saw
    # was refused with a 429 before it acted (and counted, not logged as a change).
    assert len(logged) == CALLS
    assert {outcome for _, outcome in logged} == {"done"}
    assert len({cause for cause, _ in logged}) == CALLS
    seen = Counter((r.method, r.path, r.status) for r in sim.requests)
    assert seen[("POST", "/posts.json", 200)] == CALLS
    assert sum(n for (_, _, status), n in seen.items() if status != 429) == CALLS
    # All three processes took part.
    workers_seen = {
        json.loads(line).get("worker")
        for log in logs
        for line in log.read_text().splitlines()
        if line.startswith("{") and json.loads(line).get("msg") == "worker started"
    }
    assert len(workers_seen) == WORKERS
