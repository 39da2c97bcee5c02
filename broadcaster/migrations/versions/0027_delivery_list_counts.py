"""deliveries counted per occurrence, subscriber list and state, kept by triggers as the outbox's rows change

The results' breakdown by subscriber list joined every SMS delivery of a campaign with the subscribers by
number: seconds for a 100,000-number list. A delivery now records the lists its number was on when the
fan-out wrote it (`details`' "lists", the lists' ids; a number on two lists is one delivery naming both),
and these counts are kept the way 0025 keeps them per area, one count per list the delivery names:
PostgreSQL statement triggers append the changes to `delivery_list_count_changes`, which
`broadcaster.counts.fold` folds; SQLite row triggers add directly. Erasing a delivery's details (retention)
takes it out of its lists' counts.

Deliveries written before this revision get the lists their number is on now (what the breakdown counted
until now), then the counts start from them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def _postgresql_lists(row: str) -> str:
    """The row's lists as rows of one `list_id` column (none when it names no lists)."""
    return (
        f"jsonb_array_elements_text(CASE WHEN jsonb_typeof({row}.details -> 'lists') = 'array' "
        f"THEN {row}.details -> 'lists' END) AS named(list_id)"
    )


# Each statement's changes, summed per (occurrence, list, state); a row that kept all three adds nothing.
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION count_delivery_list_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO delivery_list_count_changes (occurrence_id, list_id, state, number)
        SELECT r.occurrence_id, named.list_id::integer, r.state, count(*)
        FROM new_rows AS r CROSS JOIN LATERAL {_postgresql_lists("r")} GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO delivery_list_count_changes (occurrence_id, list_id, state, number)
        SELECT r.occurrence_id, named.list_id::integer, r.state, -count(*)
        FROM old_rows AS r CROSS JOIN LATERAL {_postgresql_lists("r")} GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO delivery_list_count_changes (occurrence_id, list_id, state, number)
        SELECT occurrence_id, list_id, state, sum(number) FROM (
            SELECT r.occurrence_id, named.list_id::integer AS list_id, r.state, 1 AS number
            FROM new_rows AS r CROSS JOIN LATERAL {_postgresql_lists("r")}
            UNION ALL
            SELECT r.occurrence_id, named.list_id::integer AS list_id, r.state, -1 AS number
            FROM old_rows AS r CROSS JOIN LATERAL {_postgresql_lists("r")}
        ) AS moved
        GROUP BY occurrence_id, list_id, state
        HAVING sum(number) <> 0;
    END IF;
    RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER deliveries_list_counted_insert AFTER INSERT ON deliveries REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_list_changes()",
    "CREATE TRIGGER deliveries_list_counted_update AFTER UPDATE ON deliveries "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_list_changes()",
    "CREATE TRIGGER deliveries_list_counted_delete AFTER DELETE ON deliveries REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION count_delivery_list_changes()",
]
_ADD = (
    "INSERT INTO delivery_list_counts (occurrence_id, list_id, state, number) "
    "SELECT {row}.occurrence_id, named.value, {row}.state, {n} FROM json_each({row}.details, '$.lists') AS named "
    "WHERE true ON CONFLICT (occurrence_id, list_id, state) DO UPDATE SET number = number + excluded.number;"
)
_NAMES_LISTS = "json_type({row}.details, '$.lists') = 'array'"


def _add(row: str, n: int) -> str:
    return _ADD.format(row=row, n=n)


SQLITE_TRIGGERS = [
    "CREATE TRIGGER deliveries_list_counted_insert AFTER INSERT ON deliveries "
    f"WHEN {_NAMES_LISTS.format(row='NEW')} BEGIN {_add('NEW', 1)} END",
    "CREATE TRIGGER deliveries_list_counted_update AFTER UPDATE OF occurrence_id, state, details ON deliveries "
    f"WHEN ({_NAMES_LISTS.format(row='OLD')} OR {_NAMES_LISTS.format(row='NEW')}) "
    "AND (OLD.state IS NOT NEW.state OR OLD.occurrence_id IS NOT NEW.occurrence_id "
    "OR json_extract(OLD.details, '$.lists') IS NOT json_extract(NEW.details, '$.lists')) "
    f"BEGIN {_add('OLD', -1)} {_add('NEW', 1)} END",
    "CREATE TRIGGER deliveries_list_counted_delete AFTER DELETE ON deliveries "
    f"WHEN {_NAMES_LISTS.format(row='OLD')} BEGIN {_add('OLD', -1)} END",
]
TRIGGER_NAMES = ["deliveries_list_counted_insert", "deliveries_list_counted_update", "deliveries_list_counted_delete"]

# The SMS deliveries written before: the lists their number is on now (details may be NULL or JSON null).
POSTGRESQL_NAME_LISTS = """
UPDATE deliveries AS d
SET details = CASE WHEN jsonb_typeof(d.details) = 'object' THEN d.details ELSE '{}'::jsonb END
    || jsonb_build_object('lists', on_lists.lists)
FROM (SELECT phone, jsonb_agg(list_id ORDER BY list_id) AS lists FROM subscribers GROUP BY phone) AS on_lists
WHERE on_lists.phone = d.address AND d.channel LIKE 'sms%' AND NOT coalesce(d.details ? 'lists', false)
"""
SQLITE_NAME_LISTS = """
UPDATE deliveries
SET details = json_set(CASE json_type(details) WHEN 'object' THEN details ELSE '{}' END, '$.lists', json((
    SELECT json_group_array(list_id) FROM (
        SELECT list_id FROM subscribers WHERE phone = deliveries.address ORDER BY list_id
    )
)))
WHERE channel LIKE 'sms%' AND address IN (SELECT phone FROM subscribers)
AND json_type(details, '$.lists') IS NULL
"""


def backfill(dialect: str) -> str:
    """What the counts start from when the triggers are created over an outbox that already has rows."""
    if dialect == "postgresql":
        return (
            "INSERT INTO delivery_list_counts (occurrence_id, list_id, state, number) "
            f"SELECT d.occurrence_id, named.list_id::integer, d.state, count(*) "
            f"FROM deliveries AS d CROSS JOIN LATERAL {_postgresql_lists('d')} GROUP BY 1, 2, 3"
        )
    return (
        "INSERT INTO delivery_list_counts (occurrence_id, list_id, state, number) "
        "SELECT d.occurrence_id, named.value, d.state, count(*) "
        "FROM deliveries AS d, json_each(d.details, '$.lists') AS named "
        "WHERE json_type(d.details, '$.lists') = 'array' GROUP BY 1, 2, 3"
    )


def upgrade() -> None:
    op.create_table(
        "delivery_list_counts",
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("occurrence_id", "list_id", "state", name=op.f("pk_delivery_list_counts")),
    )
    op.create_table(
        "delivery_list_count_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_list_count_changes")),
    )
    op.create_index(
        "ix_delivery_list_count_changes_occurrence_id", "delivery_list_count_changes", ["occurrence_id"], unique=False
    )
    dialect = op.get_bind().dialect.name
    # The lists first, while no trigger counts by them; then the triggers (which lock out writers until this
    # transaction commits), so the backfill below counts exactly the rows the triggers will not.
    op.execute(POSTGRESQL_NAME_LISTS if dialect == "postgresql" else SQLITE_NAME_LISTS)
    if dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for trigger in POSTGRESQL_TRIGGERS:
            op.execute(trigger)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.execute(backfill(dialect))


def downgrade() -> None:
    """The counts go; the lists named on the deliveries stay (nothing before this revision reads them)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGER_NAMES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON deliveries" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS count_delivery_list_changes()")
    op.drop_index("ix_delivery_list_count_changes_occurrence_id", table_name="delivery_list_count_changes")
    op.drop_table("delivery_list_count_changes")
    op.drop_table("delivery_list_counts")
