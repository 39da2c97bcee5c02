"""deliveries counted per occurrence, area and state, kept by triggers as the outbox's rows change

The results' breakdown by area grouped every delivery of a campaign by the area written on it (`details`'
"area"): seconds for a million rows. These counts are kept the way 0017 keeps `delivery_counts`, with the
area as one more key ('' for a delivery that names none): PostgreSQL statement triggers append the changes to
`delivery_area_count_changes`, which `broadcaster.counts.fold` folds; SQLite row triggers add directly. A row
is counted under the area it names now, so erasing its details (retention) moves it to ''.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

POSTGRESQL_AREA = "coalesce(details ->> 'area', '')"
SQLITE_AREA = "coalesce(json_extract({row}.details, '$.area'), '')"

# Each statement's changes, summed per (occurrence, area, state); a row that kept all three adds nothing.
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION count_delivery_area_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO delivery_area_count_changes (occurrence_id, area, state, number)
        SELECT occurrence_id, {POSTGRESQL_AREA}, state, count(*) FROM new_rows GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO delivery_area_count_changes (occurrence_id, area, state, number)
        SELECT occurrence_id, {POSTGRESQL_AREA}, state, -count(*) FROM old_rows GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO delivery_area_count_changes (occurrence_id, area, state, number)
        SELECT occurrence_id, area, state, sum(number) FROM (
            SELECT occurrence_id, {POSTGRESQL_AREA} AS area, state, 1 AS number FROM new_rows
            UNION ALL
            SELECT occurrence_id, {POSTGRESQL_AREA} AS area, state, -1 AS number FROM old_rows
        ) AS moved
        GROUP BY occurrence_id, area, state
        HAVING sum(number) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
# PostgreSQL allows transition tables on one event per trigger, and none with a column list: three triggers.
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER deliveries_area_counted_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_area_changes()",
    "CREATE TRIGGER deliveries_area_counted_update AFTER UPDATE ON deliveries "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_area_changes()",
    "CREATE TRIGGER deliveries_area_counted_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_area_changes()",
]
_ADD = (
    "INSERT INTO delivery_area_counts (occurrence_id, area, state, number) "
    "VALUES ({row}.occurrence_id, " + SQLITE_AREA + ", {row}.state, {n}) "
    "ON CONFLICT (occurrence_id, area, state) DO UPDATE SET number = number + excluded.number;"
)


def _add(row: str, n: int) -> str:
    return _ADD.format(row=row, n=n)


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER deliveries_area_counted_insert AFTER INSERT ON deliveries BEGIN {_add('NEW', 1)} END",
    "CREATE TRIGGER deliveries_area_counted_update AFTER UPDATE OF occurrence_id, state, details ON deliveries "
    "WHEN OLD.state IS NOT NEW.state OR OLD.occurrence_id IS NOT NEW.occurrence_id "
    "OR json_extract(OLD.details, '$.area') IS NOT json_extract(NEW.details, '$.area') "
    f"BEGIN {_add('OLD', -1)} {_add('NEW', 1)} END",
    f"CREATE TRIGGER deliveries_area_counted_delete AFTER DELETE ON deliveries BEGIN {_add('OLD', -1)} END",
]
TRIGGER_NAMES = ["deliveries_area_counted_insert", "deliveries_area_counted_update", "deliveries_area_counted_delete"]


def backfill(dialect: str) -> str:
    """What the counts start from when the triggers are created over an outbox that already has rows."""
    area = POSTGRESQL_AREA if dialect == "postgresql" else SQLITE_AREA.format(row="deliveries")
    return (
        "INSERT INTO delivery_area_counts (occurrence_id, area, state, number) "
        f"SELECT occurrence_id, {area}, state, count(*) FROM deliveries GROUP BY 1, 2, 3"
    )


def upgrade() -> None:
    op.create_table(
        "delivery_area_counts",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("occurrence_id", "area", "state", name=op.f("pk_delivery_area_counts")),
    )
    op.create_table(
        "delivery_area_count_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_area_count_changes")),
    )
    op.create_index(
        "ix_delivery_area_count_changes_occurrence_id", "delivery_area_count_changes", ["occurrence_id"], unique=False
    )
    # Triggers first: creating them locks out writers until this transaction commits, so the backfill
    # below counts exactly the rows the triggers will not.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(backfill(dialect))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON deliveries" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS count_delivery_area_changes()")
    op.drop_index("ix_delivery_area_count_changes_occurrence_id", table_name="delivery_area_count_changes")
    op.drop_table("delivery_area_count_changes")
    op.drop_table("delivery_area_counts")
