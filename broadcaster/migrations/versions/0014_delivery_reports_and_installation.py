"""delivery reports, unknown outcomes, providers' answers and the installation's id

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    installation = op.create_table(
        "installation",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation")),
    )
    # Created once, here: every later key sent to a provider carries it (a database built again gets a new one).
    op.bulk_insert(installation, [{"id": secrets.token_hex(6), "created_at": datetime.now(UTC).replace(tzinfo=None)}])
    op.create_table(
        "unmatched_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dialect", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=320), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("report", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_reports")),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("ambiguous", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("response", sa.Text(), nullable=True))
        batch.add_column(sa.Column("report", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("report_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reported_at", sa.DateTime(), nullable=True))
    condition = sa.text("provider_id IS NOT NULL")
    op.create_index(
        "ix_deliveries_provider_id",
        "deliveries",
        ["provider_id"],
        unique=False,
        sqlite_where=condition,
        postgresql_where=condition,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_provider_id", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        for column in ("reported_at", "report_reason", "report", "response", "ambiguous"):
            batch.drop_column(column)
    op.drop_table("unmatched_reports")
    op.drop_table("installation")
