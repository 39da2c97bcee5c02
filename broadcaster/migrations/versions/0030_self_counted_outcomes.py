"""deliveries.count_mark: a statement that counts its own state changes marks the rows it writes, and
SQLite's row triggers leave those rows to it

SQLite's row triggers count each row's change with an upsert per kept count (state, area, each list): about
eleven CPU-µs a message over a lease and an outcome. The worker's lease and outcome statements now fold a
batch's changes into the counts themselves, from the rows the statement returns (`broadcaster.counts`), and
bump `count_mark` on those rows; the triggers still count every change that leaves the mark as it was, so
every other writer (reports, skips, cancels, retries, retention, fallback, anything written later) is counted
by them as before. PostgreSQL's statement triggers already count a statement's rows at once: they are
unchanged, and nothing there bumps the mark.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_BY_STATE = (
    "INSERT INTO delivery_counts (occurrence_id, state, number) VALUES ({row}.occurrence_id, {row}.state, {n}) "
    "ON CONFLICT (occurrence_id, state) DO UPDATE SET number = number + excluded.number;"
)
_BY_AREA = (
    "INSERT INTO delivery_area_counts (occurrence_id, area, state, number) "
    "VALUES ({row}.occurrence_id, coalesce(json_extract({row}.details, '$.area'), ''), {row}.state, {n}) "
    "ON CONFLICT (occurrence_id, area, state) DO UPDATE SET number = number + excluded.number;"
)
_BY_LIST = (
    "INSERT INTO delivery_list_counts (occurrence_id, list_id, state, number) "
    "SELECT {row}.occurrence_id, named.value, {row}.state, {n} FROM json_each({row}.details, '$.lists') AS named "
    "WHERE true ON CONFLICT (occurrence_id, list_id, state) DO UPDATE SET number = number + excluded.number;"
)
_MOVED = "OLD.state IS NOT NEW.state OR OLD.occurrence_id IS NOT NEW.occurrence_id"
# name → (the columns it watches, when it counts, what it adds per row) as migrations 0017, 0025, 0027 made them
_UPDATE_TRIGGERS = {
    "deliveries_counted_update": ("occurrence_id, state", _MOVED, _BY_STATE),
    "deliveries_area_counted_update": (
        "occurrence_id, state, details",
        f"{_MOVED} OR json_extract(OLD.details, '$.area') IS NOT json_extract(NEW.details, '$.area')",
        _BY_AREA,
    ),
    "deliveries_list_counted_update": (
        "occurrence_id, state, details",
        "(json_type(OLD.details, '$.lists') = 'array' OR json_type(NEW.details, '$.lists') = 'array') "
        f"AND ({_MOVED} OR json_extract(OLD.details, '$.lists') IS NOT json_extract(NEW.details, '$.lists'))",
        _BY_LIST,
    ),
}


def _create(name: str, *, unless_marked: bool) -> str:
    columns, counts, add = _UPDATE_TRIGGERS[name]
    condition = f"NEW.count_mark IS OLD.count_mark AND ({counts})" if unless_marked else counts
    return (
        f"CREATE TRIGGER {name} AFTER UPDATE OF {columns} ON deliveries WHEN {condition} "
        f"BEGIN {add.format(row='OLD', n=-1)} {add.format(row='NEW', n=1)} END"
    )


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("count_mark", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        return
    for name in _UPDATE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
        op.execute(_create(name, unless_marked=True))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in _UPDATE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
            op.execute(_create(name, unless_marked=False))
    op.drop_column("deliveries", "count_mark")  # after the triggers that name it are gone
