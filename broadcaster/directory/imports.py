"""What every directory import shares: the report of what a file did, chunks, the language columns, upserts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from broadcaster.csvfiles import Row, Table, Upload
from broadcaster.errors import UserError
from broadcaster.locales import normalise_locale
from broadcaster.text import one_line

CHUNK = 2000
T = TypeVar("T")
Source = Upload | Path  # CSV content: uploaded, or a file the program ships


@dataclass
class ImportReport:
    kind: str
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    converted: list[tuple[int, str, str]] = field(default_factory=list)  # line, old number, new number
    kept_opted_out: int = 0
    rejects: list[tuple[int, str, list[str]]] = field(default_factory=list)  # line, reason, raw cells
    warnings: list[tuple[int, str, list[str]]] = field(default_factory=list)  # line, what to check, raw cells
    header: list[str] = field(default_factory=list)
    columns_read: dict[str, str] = field(default_factory=dict)  # header cell → column it was read as

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def columns_not_read(self) -> list[str]:
        return [cell for cell in self.header if cell and cell not in self.columns_read]

    def read_from(self, table: Table) -> None:
        self.header, self.columns_read = table.header, table.columns_read

    def reject(self, row: Row, reason: str) -> None:
        self.rejects.append((row.line, reason, row.raw))

    def warn(self, row: Row, warning: str) -> None:
        self.warnings.append((row.line, warning, row.raw))

    def rejects_table(self) -> tuple[list[str], list[list[str]]]:
        """The rejected rows as they were, after their line and the reason: a file to correct and import again."""
        rows = [[str(line), reason, *raw] for line, reason, raw in self.rejects]
        return ["line", "reason", *self.header], rows

    def notes_table(self) -> tuple[list[str], list[list[str]]]:
        """Every conversion, warning and rejection, by line: the complete account of the import."""
        notes = [(line, "converted", f"old number {old} converted to {new}") for line, old, new in self.converted]
        notes += [(line, "warning", warning) for line, warning, _raw in self.warnings]
        notes += [(line, "rejected", reason) for line, reason, _raw in self.rejects]
        notes.sort(key=lambda note: note[0])
        return ["file", "line", "outcome", "detail"], [[self.source, str(line), *rest] for line, *rest in notes]


class NothingImported(UserError):
    """Every row of a file was rejected: nothing is changed, and the report says why for each row."""

    def __init__(self, report: ImportReport):
        self.report = report
        count = len(report.rejects)
        super().__init__(
            f"{report.source}: none of its {count} row{'s' if count != 1 else ''} could be imported, "
            "so nothing was changed; the reasons are listed by line"
        )


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def split_cell(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;,\n]", cell) if part.strip()]


ENGLISH_NAME = ("English name", "Tên tiếng Anh")
# Columns a file may leave out: an entry keeps what it has when its file has no such column.
LANGUAGE_COLUMNS = ("name_en", "locale")


def language_cells(row: Row) -> dict[str, str | None]:
    """The English name and locale a row gives, for the columns its file has (an empty cell clears them);
    ValueError when the locale is not a language tag."""
    values: dict[str, str | None] = {}
    if "name_en" in row.values:
        name_en = row.values["name_en"] or None
        if name_en is not None:
            one_line(name_en)  # like the name, it can be a letter's To: header
        values["name_en"] = name_en
    if "locale" in row.values:
        values["locale"] = normalise_locale(row.values["locale"]) if row.values["locale"] else None
    return values


def upsert(session: Session, model: type[Any], current: Any, values: dict[str, Any], report: ImportReport) -> None:
    if current is None:
        session.add(model(**values))
        report.new += 1
    elif any(getattr(current, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(current, name, value)
        report.updated += 1
    else:
        report.unchanged += 1


# ---- Facebook pages ---------------------------------------------------------------------------


def read_locale(cell: str) -> str:
    """The locale a row asks for, 'vi' when empty: the one place a CSV import reads a locale.

    ValueError when the cell is not a language tag (a path, a formula, an unknown language)."""
    return normalise_locale(cell or "vi")
