"""``mug-sidecar worker`` as a process of its own: works the inbox, serves its metrics, stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.jobs import inbox
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY
from tests.integration.polling import wait_for
from tests.integration.test_serve import processed
from tests.support import user_delivery

ROOT = Path(__file__).parents[2]


def test_a_worker_process_serves_its_metrics_and_stops_on_sigterm(
    env: dict[str, str], runtime: Runtime
) -> None:
    with runtime.engine.begin() as conn:
        stored = inbox.store(
            conn,
            user_delivery(88, 1, runtime.clock.now(), event="user_created"),
        )
    with start_background(DiscourseSimulator(api_key=API_KEY)) as forum:
        process = subprocess.Popen(
            [sys.executable, "-m", "sidecar", "worker", "--metrics-port", "0"],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "MUG_FORUM_URL": forum.url,
                "MUG_FORUM_API_KEY": API_KEY,
                "MUG_WORKER_POLL_SECONDS": "0.05",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        log: list[str] = []
        url = None
        for line in process.stderr:
            log.append(line)
            if match := re.search(r"worker metrics on (http://\S+)/metrics", line):
                url = match.group(1)
                break
        assert url is not None, "".join(log)
        reader = threading.Thread(target=lambda: log.extend(process.stderr or ()), daemon=True)
        reader.start()

        def status() -> str:
            with runtime.sessions() as session:
                return session.execute(
                    select(Delivery.status).where(Delivery.id == stored.delivery_id)
                ).scalar_one()

        wait_for(lambda: status() == DeliveryStatus.DONE, what="the worker process")
        wait_for(lambda: processed(url, "done") >= 1, what="the worker's processed counter")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        reader.join(timeout=10)
    assert "worker stopped" in "".join(log)
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/metrics", timeout=2)
