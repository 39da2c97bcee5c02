"""deliveries counted per occurrence and state, kept by triggers as the outbox's rows change

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Each statement's changes, summed per (occurrence, state); a row whose state did not change adds nothing.
POSTGRESQL_FUNCTION = """
CREATE FUNCTION count_delivery_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO delivery_count_changes (occurrence_id, state, number)
        SELECT occurrence_id, state, count(*) FROM new_rows GROUP BY occurrence_id, state;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO delivery_count_changes (occurrence_id, state, number)
        SELECT occurrence_id, state, -count(*) FROM old_rows GROUP BY occurrence_id, state;
    ELSE
        INSERT INTO delivery_count_changes (occurrence_id, state, number)
        SELECT occurrence_id, state, sum(number) FROM (
            SELECT occurrence_id, state, 1 AS number FROM new_rows
            UNION ALL
            SELECT occurrence_id, state, -1 AS number FROM old_rows
        ) AS moved
        GROUP BY occurrence_id, state
        HAVING sum(number) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
# PostgreSQL allows transition tables on one event per trigger, and none with a column list: three triggers.
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_changes()",
    "CREATE TRIGGER deliveries_counted_update AFTER UPDATE ON deliveries "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_changes()",
    "CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_changes()",
]
_ADD = (
    "INSERT INTO delivery_counts (occurrence_id, state, number) VALUES ({row}.occurrence_id, {row}.state, {n}) "
    "ON CONFLICT (occurrence_id, state) DO UPDATE SET number = number + excluded.number;"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON deliveries BEGIN {_ADD.format(row='NEW', n=1)} END",
    "CREATE TRIGGER deliveries_counted_update AFTER UPDATE OF occurrence_id, state ON deliveries "
    "WHEN OLD.state IS NOT NEW.state OR OLD.occurrence_id IS NOT NEW.occurrence_id "
    f"BEGIN {_ADD.format(row='OLD', n=-1)} {_ADD.format(row='NEW', n=1)} END",
    f"CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON deliveries BEGIN {_ADD.format(row='OLD', n=-1)} END",
]
TRIGGER_NAMES = ["deliveries_counted_insert", "deliveries_counted_update", "deliveries_counted_delete"]
# What the counts start from when the triggers are created over an outbox that already has rows.
BACKFILL = (
    "INSERT INTO delivery_counts (occurrence_id, state, number) "
    "SELECT occurrence_id, state, count(*) FROM deliveries GROUP BY occurrence_id, state"
)


def upgrade() -> None:
    op.create_table(
        "delivery_counts",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("occurrence_id", "state", name=op.f("pk_delivery_counts")),
    )
    op.create_table(
        "delivery_count_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_count_changes")),
    )
    op.create_index(
        "ix_delivery_count_changes_occurrence_id", "delivery_count_changes", ["occurrence_id"], unique=False
    )
    # Triggers first: creating them locks out writers until this transaction commits, so the backfill
    # below counts exactly the rows the triggers will not.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(BACKFILL)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON deliveries" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS count_delivery_changes()")
    op.drop_index("ix_delivery_count_changes_occurrence_id", table_name="delivery_count_changes")
    op.drop_table("delivery_count_changes")
    op.drop_table("delivery_counts")
