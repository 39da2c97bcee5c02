"""campaigns' subscribable calendar links, rotatable

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_feed_links",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("rotated_at", sa.DateTime(), nullable=False),
        sa.Column("rotated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_feed_links_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_feed_links")),
    )


def downgrade() -> None:
    op.drop_table("campaign_feed_links")
