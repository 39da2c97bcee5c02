"""partial delivery indexes: the claim index holds unfinished rows, the daily-cap index finished ones

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("done_at IS NULL")
FINISHED = sa.text("done_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.drop_index("ix_deliveries_recent")
        batch_op.create_index(
            "ix_deliveries_claim",
            ["channel", "state", "rank", "due_at"],
            unique=False,
            sqlite_where=UNFINISHED,
            postgresql_where=UNFINISHED,
        )
        batch_op.create_index(
            "ix_deliveries_recent",
            ["channel", "address", "done_at"],
            unique=False,
            sqlite_where=FINISHED,
            postgresql_where=FINISHED,
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_recent")
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.create_index("ix_deliveries_recent", ["channel", "address", "done_at"], unique=False)
        batch_op.create_index("ix_deliveries_claim", ["channel", "state", "rank", "due_at"], unique=False)
