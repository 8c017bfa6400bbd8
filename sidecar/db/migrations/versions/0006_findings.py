"""findings: the moderators' queue of sensitive-information findings, scanned post versions, allowances

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "findings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("post_number", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_username", sa.String(length=100), nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("preview", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("detector_version", sa.String(length=20), nullable=False),
        sa.Column("first_version", sa.Integer(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("notified_at", UTC_TIME, nullable=True),
        sa.Column("flagged_at", UTC_TIME, nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("post_id", "fingerprint", name=op.f("uq_findings_post_id_fingerprint")),
    )
    op.create_index("ix_findings_status", "findings", ["status", "id"])
    op.create_index(op.f("ix_findings_author_id"), "findings", ["author_id"])
    op.create_table(
        "post_scans",
        sa.Column("post_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("pm_attempted", sa.Boolean(), nullable=False),
        sa.Column("pm_sent", sa.Boolean(), nullable=False),
        sa.Column("scanned_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("post_id", "version", name=op.f("pk_post_scans")),
    )
    op.create_table(
        "finding_allowances",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("forum_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("finding_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", "forum_user_id", name=op.f("pk_finding_allowances")),
    )
    op.create_table(
        "author_notices",
        sa.Column("forum_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_pm_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("forum_user_id", name=op.f("pk_author_notices")),
    )


def downgrade() -> None:
    op.drop_table("author_notices")
    op.drop_table("finding_allowances")
    op.drop_table("post_scans")
    op.drop_table("findings")
