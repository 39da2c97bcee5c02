"""issuer reading dictionary: the abbreviations an announcer reads as words (DOMAIN §15)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "readings",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.drop_column("readings")
