"""The CLI against a real database: schema commands, the inbox listing, retries and draining."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from sidecar.cli import main
from sidecar.db.engine import make_engine
from sidecar.db.models import Delivery, DeliveryStatus
from sidecar.db.schema import head_revision
from sidecar.forum.simulator import DiscourseSimulator, start_background
from sidecar.runtime import Runtime
from tests.forum.conftest import API_KEY
from tests.support import headers_for, sidecar_env, user_body


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_db_upgrade_creates_the_schema_and_status_reports_it(tmp_path: Path) -> None:
    env = sidecar_env(f"sqlite:///{tmp_path}/fresh.db", tmp_path / "state")
    code, _, err = run(env, "db", "status")
    assert code == 1
    assert "no schema yet: run `mug-sidecar db upgrade`" in err
    code, out, _ = run(env, "deliveries", "list")
    assert code == 1
    code, out, _ = run(env, "db", "upgrade")
    assert code == 0
    assert "schema is current" in out
    code, out, _ = run(env, "db", "status")
    assert (code, out.strip()) == (0, f"schema is current (revision {head_revision()})")
    engine = make_engine(f"sqlite:///{tmp_path}/fresh.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_db_upgrade_twice_is_harmless(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade")[0] == 0
    assert run(env, "db", "upgrade")[0] == 0


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    env = sidecar_env("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "state")
    code, _, err = run(env, "db", "status")
    assert code == 1
    assert err.startswith("error: cannot reach the database")


def test_deliveries_list_json_retry_and_drain(
    env: dict[str, str], client: FlaskClient, runtime: Runtime
) -> None:
    body = user_body(31)
    response = client.post(
        "/webhooks/discourse", data=body, headers=headers_for(body, event="user_created", event_id=5)
    )
    assert response.status_code == 200
    ping = b'{"ping":"OK"}'
    client.post("/webhooks/discourse", data=ping, headers=headers_for(ping, event="ping", event_type="ping"))

    code, out, _ = run(env, "deliveries", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [d["event"] for d in listed] == ["ping", "user_created"]  # newest first
    created = listed[1]
    assert {k: created[k] for k in ("event_id", "status", "attempts", "last_error")} == {
        "event_id": 5,
        "status": "received",
        "attempts": 0,
        "last_error": None,
    }
    assert isinstance(created["id"], int)

    code, _, err = run(env, "worker", "--drain")
    assert code == 1
    assert "no forum is configured" in err
    with start_background(DiscourseSimulator(api_key=API_KEY)) as forum:
        forum_env = {**env, "MUG_FORUM_URL": forum.url, "MUG_FORUM_API_KEY": API_KEY}
        code, _, err = run(forum_env, "worker", "--drain")
    assert code == 0
    assert "processed 2 deliveries" in err
    code, out, _ = run(env, "deliveries", "list", "--status", "ignored", "--json")
    assert [d["event"] for d in json.loads(out)] == ["ping"]
    # The sign-up names a forum account that does not exist (any more): nothing to decide, done.
    code, out, _ = run(env, "deliveries", "list", "--status", "done", "--json")
    assert [d["event"] for d in json.loads(out)] == ["user_created"]
    assert json.loads(run(env, "deliveries", "list", "--status", "received", "--json")[1]) == []

    code, out, _ = run(env, "deliveries", "retry", str(created["id"]))
    assert (code, out.strip()) == (0, f"delivery {created['id']} (user_created) queued again")
    with runtime.sessions() as session:
        row = session.execute(select(Delivery).where(Delivery.id == created["id"])).scalar_one()
        assert (row.status, row.attempts) == (DeliveryStatus.RECEIVED, 0)

    code, out, _ = run(env, "deliveries", "list")
    assert code == 0
    assert "user_created" in out
    assert "received" in out


def test_retry_of_a_missing_delivery_exits_1(env: dict[str, str]) -> None:
    code, _, err = run(env, "deliveries", "retry", "4242")
    assert code == 1
    assert "no delivery 4242" in err


def test_rejections_are_listed(env: dict[str, str], client: FlaskClient) -> None:
    client.post("/webhooks/discourse", data=b"{}", headers={"X-Discourse-Event": "ping"})
    code, out, _ = run(env, "deliveries", "rejections", "--json")
    assert code == 0
    [rejected] = json.loads(out)
    assert (rejected["reason"], rejected["status_code"], rejected["event"]) == (
        "missing_signature",
        401,
        "ping",
    )
    assert "body" not in rejected


def test_bad_status_filter_is_refused(env: dict[str, str]) -> None:
    code, _, err = run(env, "deliveries", "list", "--status", "exploded")
    assert code == 2
    assert "Invalid value for '--status'" in err
