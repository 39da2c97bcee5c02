"""issuers' proposed numbers (a two-person change) and where each delivery report came from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import broadcaster.models

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    numbers = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("issuers", sa.Column("proposed_numbers", numbers, nullable=True))
    op.add_column("issuers", sa.Column("proposed_by", sa.String(length=100), nullable=True))
    op.add_column("issuers", sa.Column("proposed_at", broadcaster.models.UTCDateTime(), nullable=True))
    op.add_column("deliveries", sa.Column("report_source", sa.String(length=10), nullable=True))
    # Reports recorded before this revision came by callback or by the pull; which is not known: callback,
    # the one a later pull may correct.
    op.execute("UPDATE deliveries SET report_source = 'callback' WHERE report IS NOT NULL")


def downgrade() -> None:
    # Plain column drops: a batch rebuild of these tables on SQLite would break the keys that point at them.
    op.drop_column("deliveries", "report_source")
    op.drop_column("issuers", "proposed_at")
    op.drop_column("issuers", "proposed_by")
    op.drop_column("issuers", "proposed_numbers")
