"""English names for directory entries, and a locale on agencies and pages

Agencies and Facebook pages get an optional English name (used by English renderings: the letter's
"To:", a page's name) and an optional locale (empty: the campaign's first locale, as before). Issuers
get their English names (body, unit, unit name, short name) for English letterheads and running text.

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN: a rebuilt table (SQLite's batch mode) would trip the foreign keys.
    for table in ("agencies", "facebook_pages"):
        op.add_column(table, sa.Column("name_en", sa.String(length=300), nullable=True))
        op.add_column(table, sa.Column("locale", sa.String(length=10), nullable=True))
    op.add_column(
        "issuers",
        sa.Column(
            "english",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
            server_default=sa.text("'{}'"),
        ),
    )


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite has it since 3.35): a rebuilt table would trip the foreign keys.
    op.drop_column("issuers", "english")
    for table in ("facebook_pages", "agencies"):
        op.drop_column(table, "locale")
        op.drop_column(table, "name_en")
