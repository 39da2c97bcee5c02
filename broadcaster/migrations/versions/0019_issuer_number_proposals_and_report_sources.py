"""issuers' proposed numbers (a two-person change) and where each delivery report came from

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import broadcaster.models

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("proposed_numbers", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True)
        )
        batch_op.add_column(sa.Column("proposed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("proposed_at", broadcaster.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_source", sa.String(length=10), nullable=True))
    # Reports recorded before this revision came by callback or by the pull; which is not known: callback,
    # the one a later pull may correct.
    op.execute("UPDATE deliveries SET report_source = 'callback' WHERE report IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("report_source")
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_column("proposed_at")
        batch_op.drop_column("proposed_by")
        batch_op.drop_column("proposed_numbers")
