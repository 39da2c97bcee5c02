"""console sessions (only the id's digest kept) and test lists

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("client", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_console_sessions_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("digest", name=op.f("uq_console_sessions_digest")),
    )
    op.create_index("ix_console_sessions_account_id", "console_sessions", ["account_id"], unique=False)
    with op.batch_alter_table("subscriber_lists") as batch:
        batch.add_column(sa.Column("is_test", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("subscriber_lists") as batch:
        batch.drop_column("is_test")
    op.drop_index("ix_console_sessions_account_id", table_name="console_sessions")
    op.drop_table("console_sessions")
