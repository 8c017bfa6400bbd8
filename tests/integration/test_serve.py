"""``mug-sidecar serve`` as a process: refuses a stale schema, serves, works, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from sidecar.app import create_app
from sidecar.config import load_config
from sidecar.db.models import Delivery, DeliveryStatus, Registration
from sidecar.runtime import Runtime, build_runtime
from tests.integration.polling import wait_for
from tests.support import SECRET, headers_for, sidecar_env, user_body

ROOT = Path(__file__).parents[2]


def processed(url: str, outcome: str) -> float:
    """mug_deliveries_processed_total for ``outcome``, read from the served /metrics."""
    text = requests.get(url + "/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "mug_deliveries_processed_total" and sample.labels.get("outcome") == outcome:
                return sample.value
    return 0.0


class Served:
    """A running ``serve`` process; its stderr is collected by a thread so the pipe never fills."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: list[str]) -> None:
        self.process = process
        self.url = url
        self.log = log
        assert process.stderr is not None
        self._reader = threading.Thread(target=lambda: log.extend(process.stderr or ()), daemon=True)
        self._reader.start()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.stop_reading()
        return code

    def stop_reading(self) -> None:
        """Once the process has ended: the rest of its stderr read."""
        self._reader.join(timeout=10)


def serve(env: dict[str, str], *args: str, own_group: bool = False) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "sidecar", "serve", "--port", "0", *args],
        cwd=ROOT,
        env={**os.environ, **env, "MUG_WORKER_POLL_SECONDS": "0.05"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_group,
    )
    assert process.stderr is not None
    log: list[str] = []
    for line in process.stderr:
        log.append(line)
        if match := re.search(r"listening on (http://\S+)", line):
            return Served(process, match.group(1), log)
    process.wait(timeout=10)
    raise AssertionError("serve exited before listening:\n" + "".join(log))


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[Served]:
    server = serve(env)
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=10)


def test_serve_refuses_a_database_without_the_current_schema(tmp_path: Path) -> None:
    env = sidecar_env(f"sqlite:///{tmp_path}/empty.db", tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-m", "sidecar", "serve", "--port", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "run `mug-sidecar db upgrade`" in result.stderr


def test_serve_stores_processes_and_stops_on_sigterm(served: Served, runtime: Runtime) -> None:
    assert not served.url.endswith(":8080")  # --port 0 is any free port, not server.port's default
    assert requests.get(served.url + "/healthz", timeout=10).json() == {"status": "ok"}
    assert requests.get(served.url + "/readyz", timeout=10).status_code == 200
    delivery_id = post_user_created(served, 77)

    def status() -> str:
        with runtime.sessions() as session:
            return session.execute(select(Delivery.status).where(Delivery.id == delivery_id)).scalar_one()

    # The embedded worker picks it up and asks the (simulated) forum about the account: there is no
    # such user on it, so there is nothing to decide and the delivery is done.
    wait_for(lambda: status() == DeliveryStatus.DONE, what="the embedded worker")
    # The counter moves just after the outcome is committed: poll for it rather than race it. The demo
    # forum's own events (its waiting account is approved by the pending check) may add to it.
    wait_for(lambda: processed(served.url, "done") >= 1, what="the processed counter")
    assert served.stop() == 0
    assert "mug-sidecar stopped" in "".join(served.log)
    with pytest.raises(requests.ConnectionError):
        requests.get(served.url + "/healthz", timeout=2)


def test_serve_without_worker_leaves_deliveries_queued(env: dict[str, str], runtime: Runtime) -> None:
    server = serve(env, "--no-worker")
    delivery_id = post_user_created(server, 78)
    assert server.stop() == 0
    with runtime.sessions() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        assert (row.status, row.attempts) == (DeliveryStatus.RECEIVED, 0)


def test_logs_are_json_lines_without_secrets_or_bodies(served: Served) -> None:
    marker = "planted-value-4111111111111111"
    body = user_body(79, bio_raw=marker)
    requests.post(
        served.url + "/webhooks/discourse",
        data=body,
        headers=headers_for(body, event="user_created"),
        timeout=10,
    )
    requests.post(
        served.url + "/webhooks/discourse",
        data=body + b" ",
        headers=headers_for(body, event="user_created"),
        timeout=10,
    )
    served.stop()
    lines = [line for line in served.log if line.startswith("{")]
    assert lines
    entries = [json.loads(line) for line in lines]
    assert {"webhook stored", "webhook rejected"} <= {e["msg"] for e in entries}
    text = "".join(served.log)
    assert marker not in text
    assert SECRET not in text


def test_readyz_reports_an_out_of_date_schema(tmp_path: Path) -> None:
    config = load_config(None, sidecar_env(f"sqlite:///{tmp_path}/empty.db", tmp_path / "state"))
    runtime = build_runtime(config)
    client: FlaskClient = create_app(runtime=runtime).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "error": "schema_out_of_date",
        "message": "the database has no schema yet: run `mug-sidecar db upgrade`",
    }
    assert client.get("/healthz").status_code == 200
    runtime.engine.dispose()


def test_first_run_without_a_forum_wires_a_simulator_to_the_sidecar(tmp_path: Path, runtime: Runtime) -> None:
    """The newcomer's run: no forum and no secret configured; a sign-up on the simulated forum arrives."""
    env = {k: v for k, v in sidecar_env(runtime.config.database.url, tmp_path / "state").items()}
    del env["MUG_FORUM_WEBHOOK_SECRET"]
    server = serve(env)
    try:
        welcome = wait_for(
            lambda: next((line for line in list(server.log) if "Api-Key:" in line), None),
            what="the welcome text",
        )
        match = re.search(r"forum\s+(http://\S+)\s+\(Api-Key: (\S+)", welcome)
        assert match is not None, welcome
        forum_url, api_key = match.groups()
        response = requests.post(
            forum_url + "/users.json",
            json={
                "name": "Dana",
                "email": "dana@example.org",
                "username": "dana",
                "password": "pw-1234567890",
                "active": True,
                "user_fields": {"1": "M-0300"},
            },
            headers={"Api-Key": api_key, "Api-Username": "system"},
            timeout=10,
        )
        assert response.json()["success"] is True

        def arrived() -> Delivery | None:
            with runtime.sessions() as session:
                return session.execute(
                    select(Delivery).where(Delivery.event_name == "user_created")
                ).scalar_one_or_none()

        delivery = wait_for(arrived, what="user_created from the simulator")
        assert json.loads(delivery.body)["user"]["username"] == "dana"
        assert delivery.instance == forum_url

        # Dana is member M-0300 of the demo membership seeded for the first run: approved, in "members".
        def decided(username: str) -> str | None:
            with runtime.sessions() as session:
                return session.execute(
                    select(Registration.status).where(Registration.username == username)
                ).scalar_one_or_none()

        wait_for(lambda: decided("dana") == "approved", what="dana's approval")
        # Erin waits in the demo forum (confirmed, unapproved): the pending-account check approves her.
        wait_for(lambda: decided("erin") == "approved", what="erin's approval by the periodic check")
        profile = requests.get(
            f"{forum_url}/admin/users/list/active.json",
            params={"filter": "dana"},
            headers={"Api-Key": api_key, "Api-Username": "system"},
            timeout=10,
        ).json()
        assert [u["approved"] for u in profile if u["username"] == "dana"] == [True]
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()


def logged(server: Served, message: str) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in list(server.log) if line.startswith("{")]
    return [entry for entry in entries if entry["msg"] == message]


def post_user_created(server: Served, user_id: int) -> int:
    body = user_body(user_id)
    response = requests.post(
        server.url + "/webhooks/discourse",
        data=body,
        headers=headers_for(body, event="user_created"),
        timeout=10,
    )
    assert response.status_code == 200
    delivery_id = response.json()["delivery_id"]
    assert isinstance(delivery_id, int)
    return delivery_id


def finished(runtime: Runtime, delivery_id: int) -> bool:
    with runtime.sessions() as session:
        row = session.get(Delivery, delivery_id)
        return row is not None and row.status == DeliveryStatus.DONE


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting for a parent (or an init) to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_serve_runs_its_worker_in_a_process_of_its_own_and_starts_it_again(
    served: Served, runtime: Runtime
) -> None:
    first = wait_for(lambda: logged(served, "worker process started"), what="the worker process")[0]["pid"]
    assert isinstance(first, int)
    assert first != served.process.pid
    assert logged(served, "serving")[0]["worker"] == "process"
    delivery = post_user_created(served, 81)
    wait_for(lambda: finished(runtime, delivery), what="the worker process")
    # Its work shows in serve's /metrics, read from the child.
    wait_for(lambda: processed(served.url, "done") >= 1, what="the child's counters in /metrics")

    os.kill(first, signal.SIGKILL)
    restarted = wait_for(
        lambda: [e["pid"] for e in logged(served, "worker process started") if e["pid"] != first],
        what="a new worker process",
    )
    assert logged(served, "worker process ended")
    delivery = post_user_created(served, 82)
    wait_for(lambda: finished(runtime, delivery), what="the new worker process")

    assert served.stop() == 0
    assert not alive(restarted[0])


def test_serve_can_keep_its_worker_as_a_thread(env: dict[str, str], runtime: Runtime) -> None:
    server = serve({**env, "MUG_WORKER_SEPARATE_PROCESS": "false"})
    try:
        assert logged(server, "serving")[0]["worker"] == "thread"
        delivery = post_user_created(server, 83)
        wait_for(lambda: finished(runtime, delivery), what="the worker thread")
        wait_for(lambda: processed(server.url, "done") >= 1, what="the processed counter")
        assert not logged(server, "worker process started")
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()


def test_a_serve_killed_outright_takes_its_worker_process_with_it(served: Served) -> None:
    child = wait_for(lambda: logged(served, "worker process started"), what="the worker process")[0]["pid"]
    assert isinstance(child, int)
    served.process.kill()  # no SIGTERM handler runs: the child sees its lifeline end
    served.process.wait(timeout=10)
    wait_for(lambda: not alive(child), what="the orphaned worker process to stop")


def test_a_stop_for_the_whole_process_group_stops_both_quietly(env: dict[str, str], runtime: Runtime) -> None:
    """systemd stops a service by signalling all its processes: the child may hear it before serve."""
    server = serve(env, own_group=True)
    try:
        wait_for(lambda: logged(server, "worker process started"), what="the worker process")
        delivery = post_user_created(server, 84)
        wait_for(lambda: finished(runtime, delivery), what="the worker process")
        os.killpg(server.process.pid, signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        server.stop_reading()
        assert "mug-sidecar stopped" in "".join(server.log)
        assert logged(server, "worker stopped")
        assert not logged(server, "worker process ended")  # a clean stop is not mourned as a crash
    finally:
        if server.process.poll() is None:
            server.process.kill()
