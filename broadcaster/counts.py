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
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, literal_column, select, union_all
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.orm import Session

from broadcaster.models import DeliveryCount, DeliveryCountChange


def counts(session: Session, occurrence_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """Deliveries per (occurrence, state) of these occurrences; states with none are left out."""
    ids = list(occurrence_ids)
    if not ids:
        return {}
    folded = select(DeliveryCount.occurrence_id, DeliveryCount.state, DeliveryCount.number).where(
        DeliveryCount.occurrence_id.in_(ids)
    )
    changes = select(DeliveryCountChange.occurrence_id, DeliveryCountChange.state, DeliveryCountChange.number).where(
        DeliveryCountChange.occurrence_id.in_(ids)
    )
    both = union_all(folded, changes).subquery()
    summed = select(both.c.occurrence_id, both.c.state, func.sum(both.c.number)).group_by(
        both.c.occurrence_id, both.c.state
    )
    return {(occurrence, state): int(number) for occurrence, state, number in session.execute(summed) if number}


def fold(session: Session) -> int:
    """Move the changes not folded yet into the counts, in the caller's transaction; returns how many
    counts changed.

    One statement deletes the changes it can see and adds their sums: a change committed meanwhile is not
    deleted, so it is folded next time, never lost or counted twice.
    """
    if session.get_bind().dialect.name != "postgresql":
        return 0  # SQLite's triggers write the counts directly, and nothing else writes them
    moved = (
        delete(DeliveryCountChange)
        .returning(DeliveryCountChange.occurrence_id, DeliveryCountChange.state, DeliveryCountChange.number)
        .cte("moved")
    )
    summed = select(moved.c.occurrence_id, moved.c.state, func.sum(moved.c.number)).group_by(
        moved.c.occurrence_id, moved.c.state
    )
    insert = postgresql_insert(DeliveryCount).from_select(["occurrence_id", "state", "number"], summed)
    added = {"number": DeliveryCount.number + insert.excluded.number}
    upsert = insert.on_conflict_do_update(index_elements=["occurrence_id", "state"], set_=added)
    folded = len(session.execute(upsert.returning(literal_column("1"))).all())
    session.execute(delete(DeliveryCount).where(DeliveryCount.number == 0))
    return folded
