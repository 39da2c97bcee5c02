"""each accepted SMS's own next report look-up, and how often it was asked

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-06 20:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broadcaster.models

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("look_up_at", broadcaster.models.UTCDateTime(), nullable=True))
    op.add_column("deliveries", sa.Column("look_ups", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    # Plain column drops: a batch rebuild of this table on SQLite would break the keys that point at it.
    op.drop_column("deliveries", "look_ups")
    op.drop_column("deliveries", "look_up_at")
