"""membership: organizations and their domains, members and their emails, the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC_TIME = sa.DateTime(timezone=True)

# The statuses as of this revision (a migration never follows later edits of the code's enums). An OR
# chain rather than IN (...): SQLite evaluates an IN list in a CHECK through a temporary index per row.
ORGANIZATION_STATUSES = "status = 'active' OR status = 'lapsed' OR status = 'terminated'"
MEMBER_STATUSES = (
    "status = 'pending' OR status = 'active' OR status = 'grace' OR status = 'terminated'"
    " OR status = 'deferred'"
)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_through", sa.Date(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(ORGANIZATION_STATUSES, name=op.f("ck_organizations_status")),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "organization_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.org_id"],
            name=op.f("fk_organization_domains_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_organization_domains")),
    )
    op.create_index(op.f("ix_organization_domains_org_id"), "organization_domains", ["org_id"])
    op.create_table(
        "members",
        sa.Column("member_number", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_through", sa.Date(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(MEMBER_STATUSES, name=op.f("ck_members_status")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.org_id"], name=op.f("fk_members_org_id_organizations")
        ),
        sa.PrimaryKeyConstraint("member_number", name=op.f("pk_members")),
    )
    op.create_index(op.f("ix_members_org_id"), "members", ["org_id"])
    op.create_table(
        "member_emails",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("member_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_number"],
            ["members.member_number"],
            name=op.f("fk_member_emails_member_number_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_member_emails")),
    )
    op.create_index(op.f("ix_member_emails_member_number"), "member_emails", ["member_number"])
    op.create_table(
        "audit_entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"])
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"])
    op.create_index("ix_audit_entries_target", "audit_entries", ["target", "id"])


def downgrade() -> None:
    op.drop_table("audit_entries")
    op.drop_table("member_emails")
    op.drop_table("members")
    op.drop_table("organization_domains")
    op.drop_table("organizations")
