"""registration: decisions on sign-ups, forum links, minimal consent records, periodic job slots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "registrations",
        sa.Column("forum_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("member_number", sa.String(length=50), nullable=True),
        sa.Column("suggested_org", sa.String(length=50), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.Column("decided_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("forum_user_id", name=op.f("pk_registrations")),
    )
    op.create_index(op.f("ix_registrations_status"), "registrations", ["status"])
    op.create_table(
        "forum_links",
        sa.Column("forum_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_number", sa.String(length=50), nullable=True),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("linked_at", UTC_TIME, nullable=False),
        sa.Column("granted_groups", sa.Text(), nullable=False),
        sa.Column("imposed_suspension", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("forum_user_id", name=op.f("pk_forum_links")),
    )
    op.create_index(op.f("ix_forum_links_member_number"), "forum_links", ["member_number"])
    op.create_table(
        "consent_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("forum_user_id", sa.BigInteger(), nullable=False),
        sa.Column("member_number", sa.String(length=50), nullable=True),
        sa.Column("policy_version", sa.String(length=50), nullable=False),
        sa.Column("purpose", sa.String(length=50), nullable=False),
        sa.Column("choice", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(op.f("ix_consent_events_forum_user_id"), "consent_events", ["forum_user_id"])


def downgrade() -> None:
    op.drop_table("consent_events")
    op.drop_table("forum_links")
    op.drop_table("registrations")
    op.drop_table("job_runs")
