"""The ``simulator`` command: serves over HTTP until SIGTERM, and refuses bad options."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests
from click.testing import CliRunner

from sidecar.forum.simulator.cli import simulator
from tests.integration.polling import wait_for

ROOT = Path(__file__).parents[2]


def test_the_command_serves_the_demo_forum_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar.forum.simulator",
            "--port",
            "0",
            "--api-key",
            "cli-key",
            "--seed",
            "demo",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        first = lines.get(timeout=30)
        url = first.strip().rsplit(" ", 1)[-1]
        headers = {"Api-Key": "cli-key", "Api-Username": "alice"}

        def site_up() -> requests.Response | None:
            try:
                return requests.get(f"{url}/site.json", headers=headers, timeout=2)
            except requests.ConnectionError:
                return None

        site = wait_for(site_up, timeout=30, what="the simulator to answer")
        pending = requests.get(f"{url}/admin/users/list/pending.json", headers=headers, timeout=5).json()

        assert first.startswith("Discourse simulator listening on http://127.0.0.1:")
        assert [f["name"] for f in site.json()["user_fields"]] == ["Membership number", "Company"]
        assert [row["username"] for row in pending] == ["erin"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
    assert code == 0


def test_a_short_webhook_secret_is_refused() -> None:
    result = CliRunner().invoke(simulator, ["--api-key", "k", "--webhook-secret", "short"])

    assert result.exit_code == 2
    assert "at least 12 characters" in result.output


def test_a_bad_seed_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed.toml"
    seed.write_text('[[users]]\nusername = "x"\n')

    result = CliRunner().invoke(simulator, ["--api-key", "k", "--seed", str(seed)])

    assert result.exit_code == 2
    assert "users[0].email" in result.output
