"""The databases a benchmark runs on: its SQLite file, and a PostgreSQL database made for the run and dropped
after it (shared by the benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


class BenchError(Exception):
    """A run that could not be completed (a server that would not start, a database out of reach)."""


@contextmanager
def postgres_database(server_url: str, name: str) -> Iterator[str]:
    """Create ``name`` on the server of ``server_url``; yield its SQLAlchemy URL; drop it afterwards."""
    server = make_url(server_url)
    conninfo = server.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot create database {name} on {server.render_as_string()}: {exc}") from exc
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def databases(
    sqlite_url: str, server_url: str | None, scratch_name: str
) -> Iterator[tuple[str, AbstractContextManager[str]]]:
    """The databases to run on, each as its name and a context that yields its URL: the SQLite file, then
    (with ``server_url``) ``scratch_name`` made on that PostgreSQL server for the run and dropped after it.
    A database that cannot be made raises ``BenchError`` when its context is entered."""
    yield "sqlite", nullcontext(sqlite_url)
    if server_url:
        yield "postgresql", postgres_database(server_url, scratch_name)
