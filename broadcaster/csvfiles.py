"""Reading CSV files as spreadsheets export them: UTF-8 with or without BOM, UTF-16 "Unicode text",
comma, semicolon or tab separated, Vietnamese or English column names."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from broadcaster.errors import UserError
from broadcaster.text import strip_diacritics


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # canonical column → cell text (stripped)
    raw: list[str]


def header_key(text: str) -> str:
    """'Số điện thoại' → 'so_dien_thoai'."""
    return re.sub(r"[^a-z0-9]+", "_", strip_diacritics(text).lower()).strip("_")


def _encoding_of(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        return csv.excel


class Table:
    """A CSV file read row by row, with canonical column names.

    `columns` maps each canonical name to the header spellings accepted for it (first is the
    canonical one). Streams: the file is never held in memory whole.
    """

    def __init__(self, path: Path, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]):
        self.path = path
        self.columns = columns
        self.required = required
        self.header: list[str] = []

    def rows(self) -> Iterator[Row]:
        path = self.path
        try:
            with path.open("rb") as probe:
                encoding = _encoding_of(probe.read(4))
            handle = path.open(encoding=encoding, newline="")
        except FileNotFoundError:
            raise UserError(f"{path}: file not found") from None
        except OSError as exc:
            raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
        with handle:
            line = 1
            try:
                sample = handle.read(4096)
                handle.seek(0)
                reader = csv.reader(handle, _dialect(sample))
                self.header = next(reader, [])
                if not self.header:
                    raise UserError(f"{path}: the file is empty; the first line must name the columns")
                positions = _column_positions(path, self.header, self.columns, self.required)
                for raw in reader:
                    line = reader.line_num
                    if any(cell.strip() for cell in raw):
                        yield Row(line, {name: _cell(raw, index) for name, index in positions.items()}, raw)
            except UnicodeDecodeError:
                raise UserError(
                    f"{path} after line {line}: is not UTF-8 text; in Excel save it as 'CSV UTF-8 (Comma delimited)'"
                ) from None
            except csv.Error as exc:
                raise UserError(f"{path} line {line}: cannot be read as CSV ({exc})") from None


def _cell(raw: list[str], index: int) -> str:
    return raw[index].strip() if index < len(raw) else ""


def _column_positions(
    path: Path, header: list[str], columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...]
) -> dict[str, int]:
    keys = [header_key(cell) for cell in header]
    positions: dict[str, int] = {}
    for name, spellings in columns.items():
        for index, key in enumerate(keys):
            if key in spellings and name not in positions:
                positions[name] = index
    missing = [name for name in required if name not in positions]
    if missing:
        wanted = "; ".join(f"'{name}' (or {', '.join(columns[name][1:3])})" for name in missing)
        raise UserError(f"{path} line 1: no column for {wanted}; the columns found are {', '.join(header)}")
    return positions


def write_rejects(path: Path, header: list[str], rejects: list[tuple[int, str, list[str]]]) -> None:
    """The rejected rows, as they were, with their line number and the reason, for correction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", *header])
        for line, reason, raw in rejects:
            writer.writerow([line, reason, *raw])
    temporary.replace(path)
