"""deliveries indexed by occurrence and state, for the console's monitor counts

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 13:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_occurrence_state", "deliveries", ["occurrence_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_occurrence_state", table_name="deliveries")
