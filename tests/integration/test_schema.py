"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from sidecar.db.models import Base
from sidecar.db.schema import head_revision, schema_status
from sidecar.runtime import Runtime


def test_migrations_match_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_test_databases_are_at_head(runtime: Runtime) -> None:
    status = schema_status(runtime.engine)
    assert status.up_to_date
    assert status.current == head_revision()
