"""Fixtures: a fresh database per test on SQLite (default) or PostgreSQL (MUG_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from sidecar.app import create_app
from sidecar.clock import FixedClock
from sidecar.config import Config, load_config
from sidecar.db.engine import is_sqlite, make_engine
from sidecar.db.models import Base
from sidecar.db.schema import upgrade
from sidecar.runtime import Runtime, build_runtime
from tests.support import sidecar_env

TEST_DATABASE_ENV = "MUG_TEST_DATABASE_URL"
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _backend_url() -> str | None:
    return os.environ.get(TEST_DATABASE_ENV) or None


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    """One database for the session, schema migrated once; tests truncate it."""
    admin = make_url(_backend_url() or "")
    name = f"mug_test_{os.getpid()}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    if _backend_url() is None or is_sqlite(_backend_url() or ""):
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "sidecar.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_postgres_database")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a sidecar process run by a test (CLI runner or subprocess)."""
    return sidecar_env(database_url, tmp_path / "state")


@pytest.fixture
def config(env: dict[str, str]) -> Config:
    return load_config(None, env)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def runtime(config: Config, clock: FixedClock) -> Iterator[Runtime]:
    runtime = build_runtime(config, clock=clock)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on loopback; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
