"""occurrences and the outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:15:35.241845
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import broadcaster.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_state",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_state")),
    )
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("rule_key", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.String(length=50), nullable=True),
        sa.Column("fire_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("bypassed_window", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("expanded_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", broadcaster.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_occurrences_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occurrences")),
        sa.UniqueConstraint(
            "campaign_id",
            "channel",
            "rule_key",
            "fire_at",
            name=op.f("uq_occurrences_campaign_id_channel_rule_key_fire_at"),
        ),
    )
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.create_index("ix_occurrences_state_fire_at", ["state", "fire_at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", broadcaster.models.UTCDateTime(), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("done_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["occurrence_id"], ["occurrences.id"], name=op.f("fk_deliveries_occurrence_id_occurrences")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("occurrence_id", "address", name=op.f("uq_deliveries_occurrence_id_address")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_claim", ["channel", "state", "rank", "due_at"], unique=False)
        batch_op.create_index("ix_deliveries_recent", ["channel", "address", "done_at"], unique=False)

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sendable_since", broadcaster.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("sendable_since")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_recent")
        batch_op.drop_index("ix_deliveries_claim")

    op.drop_table("deliveries")
    with op.batch_alter_table("occurrences", schema=None) as batch_op:
        batch_op.drop_index("ix_occurrences_state_fire_at")

    op.drop_table("occurrences")
    op.drop_table("scheduler_state")
