"""a credential held back until a moment, for every worker (a Zalo OA whose daily ZNS quota is used up)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 04:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broadcaster.models

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("held_until", broadcaster.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("credentials", "held_until")
