"""Alembic environment: runs on the connection handed in by sidecar.db.schema.upgrade."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from sidecar.config import load_config
from sidecar.db.engine import is_sqlite, make_engine
from sidecar.db.models import Base


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # `alembic` run by hand (new revisions): use the sidecar's own configuration.
        config = load_config(os.environ.get("MUG_CONFIG"), os.environ)
        engine = make_engine(config.database.url)
        with engine.begin() as conn:
            _migrate(conn)
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(connection.engine),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
