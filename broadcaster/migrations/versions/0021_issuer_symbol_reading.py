"""issuer's way of reading document symbols aloud: "số 881 của Sở …" (brief) or the number alone (DOMAIN §15)

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("symbol_reading", sa.String(length=10), nullable=False, server_default="brief"))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite has it since 3.35): a rebuilt table would trip the foreign keys.
    op.drop_column("issuers", "symbol_reading")
