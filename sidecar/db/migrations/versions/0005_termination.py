"""termination: standings, Board deferrals and their approvals, sweeps and their steps

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)
STATES = ("pending", "active", "grace", "terminated", "deferred")


def upgrade() -> None:
    with op.batch_alter_table("forum_links") as batch:
        batch.add_column(sa.Column("withheld_groups", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "standings",
        sa.Column("member_number", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("since", UTC_TIME, nullable=False),
        sa.Column("deferral_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(" OR ".join(f"state = '{s}'" for s in STATES), name=op.f("ck_standings_state")),
        sa.PrimaryKeyConstraint("member_number", name=op.f("pk_standings")),
    )
    op.create_index(op.f("ix_standings_state"), "standings", ["state"])
    op.create_table(
        "deferrals",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("member_number", sa.String(length=64), nullable=True),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("resolution", sa.String(length=200), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("effective_at", UTC_TIME, nullable=True),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(member_number IS NULL) <> (org_id IS NULL)", name=op.f("ck_deferrals_one_target")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deferrals")),
    )
    op.create_index("ix_deferrals_open", "deferrals", ["revoked_at", "until"])
    op.create_table(
        "deferral_approvals",
        sa.Column("deferral_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["deferral_id"],
            ["deferrals.id"],
            name=op.f("fk_deferral_approvals_deferral_id_deferrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deferral_id", "username", name=op.f("pk_deferral_approvals")),
    )
    op.create_table(
        "sweeps",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("planned_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweeps")),
    )
    op.create_index("ix_sweeps_status", "sweeps", ["status", "id"])
    op.create_table(
        "sweep_steps",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("sweep_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("member_number", sa.String(length=64), nullable=False),
        sa.Column("forum_user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sweep_id"], ["sweeps.id"], name=op.f("fk_sweep_steps_sweep_id_sweeps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_steps")),
    )
    op.create_index("ix_sweep_steps_sweep", "sweep_steps", ["sweep_id", "status", "seq"])


def downgrade() -> None:
    op.drop_table("sweep_steps")
    op.drop_table("sweeps")
    op.drop_table("deferral_approvals")
    op.drop_table("deferrals")
    op.drop_table("standings")
    with op.batch_alter_table("forum_links") as batch:
        batch.drop_column("withheld_groups")
