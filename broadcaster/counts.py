"""Deliveries counted per occurrence and state, kept as the outbox's rows change, so that the console's
dashboard and monitor read a handful of rows instead of counting a campaign's (up to millions of) rows.

The one way every change is counted: triggers on `deliveries` (migration 0017 creates them),
fired in the writing transaction by every INSERT, by every UPDATE that moves a row to another state, and
by every DELETE — whichever code path writes (fan-out, lease, outcome, report, retry, skip, cancel), and
any written later. Counting in application code instead would need each set-based UPDATE to know the
states its rows leave, which neither database returns, and would miss the next UPDATE someone writes.

- PostgreSQL, where many workers write at once: a statement trigger appends one row per (occurrence,
  state) the statement changed, with +n/-n, to `delivery_count_changes` (its transition tables give the
  old and new rows). Appending never touches a row another transaction holds, so the workers are not
  serialised on hot count rows; `fold` moves the changes into `delivery_counts` periodically, in one
  transaction (the timetable's periodic job), so reads stay small.
- SQLite, where one writer at a time holds the whole database anyway: row triggers add to
  `delivery_counts` directly (an upsert on a row of a tiny table), and there is nothing to fold.

A count is the folded number plus the changes not folded yet: `counts` reads both.

On SQLite those row triggers cost an upsert per kept count for each row that changes state: about half the
database's time of a batched fan-out. So the worker's lease and outcome statements count their own rows,
once per batch (`count_moves`): they bump `count_mark` on the rows they write, which the triggers leave to
them (migration 0030), and return each row's occurrence, area and lists; the batch's moves are summed in
Python and added with one upsert per (occurrence, area or list, state). Every other write, and every write
on PostgreSQL, is still counted by the triggers. The same is kept per
(occurrence, area named on the delivery, state) for the results' breakdown by area (migration 0025,
`area_counts`), and per (occurrence, subscriber list named on the delivery, state) for the breakdown by list
(migration 0027, `list_counts`): the fan-out writes on each delivery the lists its number is on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session

from broadcaster.models import (
    Delivery,
    DeliveryAreaCount,
    DeliveryAreaCountChange,
    DeliveryCount,
    DeliveryCountChange,
    DeliveryListCount,
    DeliveryListCountChange,
)


class _Kept:
    """One kind of kept count: its folded table, its table of changes and the keys it counts by."""

    def __init__(self, counted: type[Any], changes: type[Any], keys: tuple[str, ...]) -> None:
        self.counted: Table = counted.__table__
        self.changes: Table = changes.__table__
        self.keys = ("occurrence_id", *keys)

    def read(self, session: Session, occurrence_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """The folded numbers plus the changes not folded yet, per key; keys with none are left out."""
        both = union_all(
            *(
                select(*(table.c[key] for key in self.keys), table.c.number).where(
                    table.c.occurrence_id.in_(occurrence_ids)
                )
                for table in (self.counted, self.changes)
            )
        ).subquery()
        keys = [both.c[key] for key in self.keys]
        summed = select(*keys, func.sum(both.c.number)).group_by(*keys)
        return [(*row[:-1], int(row[-1])) for row in session.execute(summed) if row[-1]]

    def fold(self, session: Session) -> int:
        moved = delete(self.changes).returning(*(self.changes.c[key] for key in self.keys), self.changes.c.number)
        moved_rows = moved.cte("moved")
        keys = [moved_rows.c[key] for key in self.keys]
        summed = select(*keys, func.sum(moved_rows.c.number)).group_by(*keys)
        insert = postgresql_insert(self.counted).from_select([*self.keys, "number"], summed)
        added = {"number": self.counted.c.number + insert.excluded.number}
        upsert = insert.on_conflict_do_update(index_elements=list(self.keys), set_=added)
        folded = len(session.execute(upsert.returning(literal_column("1"))).all())
        session.execute(delete(self.counted).where(self.counted.c.number == 0))
        return folded


BY_STATE = _Kept(DeliveryCount, DeliveryCountChange, ("state",))
BY_AREA_AND_STATE = _Kept(DeliveryAreaCount, DeliveryAreaCountChange, ("area", "state"))
BY_LIST_AND_STATE = _Kept(DeliveryListCount, DeliveryListCountChange, ("list_id", "state"))


def counts(session: Session, occurrence_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """Deliveries per (occurrence, state) of these occurrences; states with none are left out."""
    ids = list(occurrence_ids)
    if not ids:
        return {}
    return {(occurrence, state): number for occurrence, state, number in BY_STATE.read(session, ids)}


def area_counts(session: Session, occurrence_ids: Iterable[int]) -> dict[tuple[int, str, str], int]:
    """Deliveries per (occurrence, area named on the delivery, state) of these occurrences; '' stands for
    deliveries that name no area; keys with none are left out."""
    ids = list(occurrence_ids)
    if not ids:
        return {}
    found = BY_AREA_AND_STATE.read(session, ids)
    return {(occurrence, area, state): number for occurrence, area, state, number in found}


def list_counts(session: Session, occurrence_ids: Iterable[int]) -> dict[tuple[int, int, str], int]:
    """Deliveries per (occurrence, subscriber list named on the delivery, state) of these occurrences; a
    delivery naming two lists counts under both; keys with none are left out."""
    ids = list(occurrence_ids)
    if not ids:
        return {}
    found = BY_LIST_AND_STATE.read(session, ids)
    return {(occurrence, list_id, state): number for occurrence, list_id, state, number in found}


def fold(session: Session) -> int:
    """Move the changes not folded yet into the counts, in the caller's transaction; returns how many
    counts changed.

    One statement per kind of count deletes the changes it can see and adds their sums: a change committed
    meanwhile is not deleted, so it is folded next time, never lost or counted twice.
    """
    if session.get_bind().dialect.name != "postgresql":
        return 0  # SQLite's triggers write the counts directly, and nothing else writes them
    return sum(kept.fold(session) for kept in (BY_STATE, BY_AREA_AND_STATE, BY_LIST_AND_STATE))


# ---- statements that count their own rows (SQLite) ---------------------------------------------------------

# What a self-counting statement returns for each row it writes, read as SQLite's triggers read it: the area
# ('' for none) and the lists (the JSON array, NULL when the row names none).
SQLITE_AREA: ColumnElement[Any] = func.coalesce(func.json_extract(Delivery.details, "$.area"), "")
SQLITE_LISTS: ColumnElement[Any] = literal_column(
    "CASE json_type(deliveries.details, '$.lists') WHEN 'array' THEN json_extract(deliveries.details, '$.lists') END"
)
# A moved row, as a self-counting statement returns it: occurrence, area, lists (JSON or None), new state.
Moved = tuple[int, Any, str | None, str]

# Driver-level statements (qmark parameters): a batch adds a handful of rows, and compiling a statement for
# them cost more than running it.
_ADD_BY_STATE = (
    "INSERT INTO delivery_counts (occurrence_id, state, number) VALUES (?, ?, ?) "
    "ON CONFLICT (occurrence_id, state) DO UPDATE SET number = number + excluded.number"
)
_ADD_BY_AREA = (
    "INSERT INTO delivery_area_counts (occurrence_id, area, state, number) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (occurrence_id, area, state) DO UPDATE SET number = number + excluded.number"
)
# The lists' ids as the list trigger reads them: each value of the JSON array.
_ADD_BY_LIST = (
    "INSERT INTO delivery_list_counts (occurrence_id, list_id, state, number) "
    "SELECT ?, named.value, ?, ? FROM json_each(?) AS named "
    "WHERE true ON CONFLICT (occurrence_id, list_id, state) DO UPDATE SET number = number + excluded.number"
)


def count_moves(connection: Connection, left: str, moved: Sequence[Moved]) -> None:
    """Count rows one statement moved out of state `left` (and marked, so no trigger counted them): the
    batch summed per (occurrence, area, lists, new state), then one upsert per kept count that changed.

    Such a statement changes a row's state only: its occurrence, area and lists are the same before and after,
    which is what lets the returned row stand for both sides of the move."""
    by_state: Counter[tuple[int, str]] = Counter()
    by_area: Counter[tuple[int, Any, str]] = Counter()
    by_lists: Counter[tuple[int, str, str]] = Counter()
    for (occurrence, area, lists, entered), number in Counter(map(tuple, moved)).items():
        if entered == left:
            continue
        for state, signed in ((left, -number), (entered, number)):
            by_state[occurrence, state] += signed
            by_area[occurrence, area, state] += signed
            if lists is not None:
                by_lists[occurrence, lists, state] += signed
    _add(connection, _ADD_BY_STATE, [(*key, number) for key, number in by_state.items() if number])
    _add(connection, _ADD_BY_AREA, [(*key, number) for key, number in by_area.items() if number])
    lists = [(occurrence, state, number, named) for (occurrence, named, state), number in by_lists.items() if number]
    _add(connection, _ADD_BY_LIST, lists)


def _add(connection: Connection, statement: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        connection.exec_driver_sql(statement, rows)
