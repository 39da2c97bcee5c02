"""areas carry a validity and the areas that replaced them (the 2025 reorganisation, DOMAIN §13)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
    op.create_table(
        "area_successors",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("successor_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_area_successors_area_id_areas")),
        sa.ForeignKeyConstraint(["successor_id"], ["areas.id"], name=op.f("fk_area_successors_successor_id_areas")),
        sa.PrimaryKeyConstraint("area_id", "successor_id", name=op.f("pk_area_successors")),
    )


def downgrade() -> None:
    op.drop_table("area_successors")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_column("valid_until")
        batch_op.drop_column("valid_from")
