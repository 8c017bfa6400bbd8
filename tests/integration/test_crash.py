"""A worker killed with SIGKILL mid-delivery loses nothing: its claim lapses and another worker finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from sidecar.app import create_app
from sidecar.config import Config
from sidecar.db.engine import is_sqlite
from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.runtime import Runtime, build_runtime
from tests.integration.polling import wait_for
from tests.support import headers_for, user_body

ROOT = Path(__file__).parents[2]


@pytest.fixture
def system_runtime(config: Config) -> Iterator[Runtime]:
    """Real time: the worker processes use the wall clock too."""
    runtime = build_runtime(config)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def server(system_runtime: Runtime) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, create_app(runtime=system_runtime), threaded=True)
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=10)


def start_worker(mode: str, markers: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process_env = {**os.environ, **env, "MUG_WORKER_LEASE_SECONDS": "2", "MUG_WORKER_POLL_SECONDS": "0.1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_worker", mode, str(markers)],
        cwd=ROOT,
        env=process_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkilled_worker_loses_nothing(
    server: str, system_runtime: Runtime, env: dict[str, str], tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    body = user_body(501)
    response = requests.post(
        server + "/webhooks/discourse", data=body, headers=headers_for(body, event="user_created"), timeout=10
    )
    delivery_id = response.json()["delivery_id"]

    def row() -> Delivery:
        with system_runtime.sessions() as session:
            return session.execute(select(Delivery).where(Delivery.id == delivery_id)).scalar_one()

    first = start_worker("hang", markers, env)
    second = None
    try:
        wait_for(
            lambda: (markers / f"hang-{first.pid}-{delivery_id}").exists(), what="the first worker's claim"
        )
        claimed = row()
        assert claimed.status == DeliveryStatus.PROCESSING
        assert claimed.claimed_by is not None
        assert f":{first.pid}/" in claimed.claimed_by
        if not is_sqlite(system_runtime.engine):
            # PostgreSQL: any number of workers; the second one runs alongside and must wait out the lease.
            second = start_worker("finish", markers, env)
            wait_for(lambda: (markers / f"ready-finish-{second.pid}").exists(), what="the second worker")
            assert row().status == DeliveryStatus.PROCESSING
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        if second is None:  # SQLite: one worker at a time
            second = start_worker("finish", markers, env)
        done = wait_for(
            lambda: row().status == DeliveryStatus.DONE and row(), what="the second worker to finish"
        )
        assert done.attempts == 2
        assert done.claimed_by is None
        finishers = sorted(p.name for p in markers.glob("finish-*"))
        assert finishers == [f"finish-{second.pid}-{delivery_id}"]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
    assert second.returncode == 0  # stopped cleanly on SIGTERM
