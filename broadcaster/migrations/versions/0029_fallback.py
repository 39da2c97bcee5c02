"""a channel's fallback (who it could not reach gets another channel's message), when a delivery was passed on,
and why a provider credential is held back (shown in the console)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 04:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import broadcaster.models

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaign_channels", sa.Column("fallback", broadcaster.models.JSONType, nullable=True))
    op.add_column("deliveries", sa.Column("passed_on_at", broadcaster.models.UTCDateTime(), nullable=True))
    op.add_column("credentials", sa.Column("held_because", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("credentials", "held_because")
    op.drop_column("deliveries", "passed_on_at")
    op.drop_column("campaign_channels", "fallback")
