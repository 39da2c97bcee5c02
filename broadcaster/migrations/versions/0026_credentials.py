"""credentials that turn over, kept sealed and shared by every worker (a Zalo OA's token pair); providers'
approved message templates in the directory (a Zalo OA's ZNS templates)

A Zalo OA's refresh token is single-use: whoever renews the access token must keep the new pair before
anything else can lose it, and every worker must see it. One row per credential, sealed with the
installation's secret key; `renew` locks the row, renews and writes the new pair in one transaction.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 02:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import broadcaster.models

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.Column("renewed_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_credentials")),
    )
    op.create_table(
        "provider_templates",
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("template_id", sa.String(length=30), nullable=False),
        sa.Column("account", sa.String(length=50), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("channel", "template_id", name=op.f("pk_provider_templates")),
    )


def downgrade() -> None:
    op.drop_table("provider_templates")
    op.drop_table("credentials")
