"""Values checked against what the database can store, before they are written.

PostgreSQL refuses a string longer than its column's `String(n)` (SQLite stores it whole) and any
NUL character, in text and in JSON (SQLite stores it, and C strings then cut the value short). Both
would surface as a driver's traceback, or not at all. One check, driven by the models' own column
lengths, runs on every INSERT and UPDATE on either database and answers with a sentence naming the
field instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import String, Table
from sqlalchemy.sql.dml import Insert, Update

from broadcaster.errors import UserError


class Unstorable(UserError):
    """A value the database cannot hold: too long for its column, or with a NUL character in it."""


@lru_cache(maxsize=128)
def _lengths(table: Table) -> dict[str, int]:
    """Each `String(n)` column's length, by the key its value is bound under."""
    return {
        column.key: column.type.length
        for column in table.columns
        if isinstance(column.type, String) and column.type.length
    }


def _strings(value: Any) -> Iterator[str]:
    """Every string in a value, inside JSON-like lists and mappings too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _preview(text: str) -> str:
    shown = text.replace("\0", "\\0")
    return shown if len(shown) <= 40 else shown[:40] + "…"


def problem(table: Table, field: str, value: Any) -> str | None:
    """Why `value` cannot be stored in `table.field`, in one sentence, or None when it can."""
    for text in _strings(value):
        if "\0" in text:
            return f"{table.name}.{field} contains a NUL character, which cannot be stored: '{_preview(text)}'"
    limit = _lengths(table).get(field)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return (
            f"{table.name}.{field} is {len(value)} characters long, more than the {limit} it can hold: "
            f"'{_preview(value)}'"
        )
    return None


def _storable(table: Table, values: Mapping[str, Any]) -> bool:
    """Whether every value of a row can be stored: the quick look a write pays (most values are numbers,
    times or short strings), before `check_row` looks for the one to name."""
    lengths = _lengths(table)
    for field, value in values.items():
        if isinstance(value, str):
            if "\0" in value or len(value) > lengths.get(field, len(value)):
                return False
        elif isinstance(value, Mapping | list | tuple) and problem(table, field, value) is not None:
            return False
    return True


def check_row(table: Table, values: Mapping[str, Any]) -> None:
    """Raise `Unstorable` for the first value of a row that cannot be stored; fields a person wrote
    (text) are named before the JSON copies some models keep of them."""
    if _storable(table, values):
        return
    for field, value in sorted(values.items(), key=lambda item: not isinstance(item[1], str)):
        if (found := problem(table, field, value)) is not None:
            raise Unstorable(found)


def check_before_write(_connection: Any, statement: Any, multiparams: Any, params: Any, _options: Any) -> None:
    """An engine `before_execute` hook: every row an INSERT or UPDATE is about to write is checked."""
    if not isinstance(statement, Insert | Update) or not isinstance(statement.table, Table):
        return
    rows = multiparams if multiparams else [params]
    for row in rows:
        if isinstance(row, Mapping):
            check_row(statement.table, row)
