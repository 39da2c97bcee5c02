"""send paces: one send rate per channel or provider account, shared by every worker

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_paces",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("next_free", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_paces")),
    )


def downgrade() -> None:
    op.drop_table("send_paces")
