"""station secret links and airing reports: stations say whether each slot's script aired

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_links",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_station_links_station_id_stations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_links")),
        sa.UniqueConstraint("digest", name=op.f("uq_station_links_digest")),
    )
    op.create_table(
        "airing_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("aired", sa.Boolean(), nullable=False),
        sa.Column("aired_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_airing_reports_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_airing_reports_station_id_stations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airing_reports")),
    )
    op.create_index("ix_airing_reports_delivery_id", "airing_reports", ["delivery_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_airing_reports_delivery_id", table_name="airing_reports")
    op.drop_table("airing_reports")
    op.drop_table("station_links")
