"""CSV in and out, as spreadsheets write and read it.

In: UTF-8 with or without BOM or UTF-16 "Unicode text", comma, semicolon or tab separated, quoted
cells with `""` escapes, Vietnamese or English column names; from a file or from uploaded content.
Out: `write_csv` writes every CSV the project produces, whole or not at all, with cells that a
spreadsheet would run as a formula made inert.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from broadcaster.errors import UserError
from broadcaster.problems import InvalidInput, Problem
from broadcaster.text import strip_diacritics

# Columns a file may have that no import reads: the row number Vietnamese lists begin with, notes,
# and the two columns a rejects file adds, so that a corrected rejects file imports as it is.
IGNORED_COLUMNS = ("STT", "Số thứ tự", "No", "Ghi chú", "note", "notes", "line", "reason")
_DELIMITERS = ("\t", ";", ",")  # on a tie the first wins: a header holding a comma is rarely comma-separated
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (zip), .xls (OLE2)
_SAMPLE_BYTES = 64  # enough to tell UTF-16 from UTF-8 with or without a BOM
_SAVE_AS = "in Excel save it as 'CSV UTF-8 (Comma delimited)'"


@dataclass(frozen=True)
class Upload:
    """CSV content from anywhere: a file the command line opened, a form upload, bytes in memory.

    `name` is what messages call it (a file name); `stream` is read as bytes and not closed here.
    """

    name: str
    stream: IO[bytes]

    @classmethod
    def of_bytes(cls, name: str, content: bytes) -> Upload:
        return cls(name, io.BytesIO(content))


@contextmanager
def open_upload(path: Path) -> Iterator[Upload]:
    """A file on disk as an Upload, with a sentence when it cannot be opened."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        yield Upload(str(path), handle)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # canonical column → cell text (NFC, stripped)
    raw: list[str]


def header_key(text: str) -> str:
    """A column name without case, diacritics or punctuation: 'Số điện thoại' → 'sodienthoai', 'S.Đ.T' → 'sdt'."""
    return re.sub(r"[^a-z0-9]+", "", strip_diacritics(text).lower())


@dataclass(frozen=True)
class Columns:
    """The columns one kind of file has: each canonical name with the header spellings accepted for it
    (compared without case, diacritics or punctuation), and which of them a file must have."""

    spellings: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    kind: str
    _by_key: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, str] = {}
        for name, spellings in self.spellings.items():
            for spelling in (name, *spellings):
                taken = by_key.setdefault(header_key(spelling), name)
                assert taken == name, f"'{spelling}' names both {taken} and {name}"
        object.__setattr__(self, "_by_key", by_key)

    def canonical(self, header: str) -> str | None:
        return self._by_key.get(header_key(header))

    def accepted(self) -> str:
        """The accepted names, as an error message lists them."""
        names = [f"{name} ({', '.join(spellings)})" for name, spellings in self.spellings.items()]
        return "; ".join(names) + f"; and, not read: {', '.join(IGNORED_COLUMNS)}"


_IGNORED_KEYS = {header_key(name) for name in IGNORED_COLUMNS}


def _encoding_of(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a BOM: most header letters are ASCII, so one byte of each pair is zero (UTF-8 text
    # holds no zero bytes at all).
    pairs = len(head) // 2
    low, high = head[1 : 2 * pairs : 2].count(0), head[0 : 2 * pairs : 2].count(0)
    if pairs >= 2 and max(low, high) * 4 >= pairs and min(low, high) == 0:
        return "utf-16-le" if low else "utf-16-be"
    return "utf-8-sig"


def _split_line(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], csv.excel, delimiter=delimiter), [])


def _delimiter(header_line: str) -> str:
    """The separator that splits the header into the most columns; quotes are read as Excel writes them."""
    counts = {d: len(_split_line(header_line, d)) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: counts[d])


@contextmanager
def _rewound(stream: IO[bytes]) -> Iterator[tuple[bytes, IO[bytes]]]:
    """The first bytes of a stream and the stream again from its start (spooled if it cannot seek)."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(_SAMPLE_BYTES)
        stream.seek(start)
        yield head, stream
        return
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        shutil.copyfileobj(stream, spool)
        spool.seek(0)
        head = spool.read(_SAMPLE_BYTES)
        spool.seek(0)
        yield head, spool


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


class Table:
    """A CSV file read row by row, with canonical column names. Streams: never held in memory whole.

    The header is checked first: a column no import knows, a column named twice or a required
    column missing is an error naming it. A row with text under a column without a name is rejected.
    """

    def __init__(self, source: Upload | Path, columns: Columns):
        self.source = source
        self.columns = columns
        self.name = source.name if isinstance(source, Upload) else str(source)
        self.header: list[str] = []
        self.columns_read: dict[str, str] = {}  # header cell → canonical column it was read as

    def rows(self, reject: Callable[[Row, str], None]) -> Iterator[Row]:
        if isinstance(self.source, Path):
            with open_upload(self.source) as upload:
                yield from self._read(upload.stream, reject)
        else:
            yield from self._read(self.source.stream, reject)

    def _read(self, stream: IO[bytes], reject: Callable[[Row, str], None]) -> Iterator[Row]:
        with _rewound(stream) as (head, binary):
            if head.startswith(_WORKBOOK_SIGNATURES):
                raise UserError(f"{self.name}: is a spreadsheet workbook, not CSV; {_SAVE_AS}")
            text = io.TextIOWrapper(binary, encoding=_encoding_of(head), newline="")
            try:
                yield from self._records(text, reject)
            finally:
                # The stream belongs to whoever opened it. After Ctrl-C it may be closed already by the time
                # this generator is collected: there is nothing left to hand back then.
                if not binary.closed:
                    text.detach()

    def _records(self, text: io.TextIOWrapper, reject: Callable[[Row, str], None]) -> Iterator[Row]:
        line = 1  # lines read so far; a record starts on the next one (a quoted cell may span lines)
        try:
            header_line = text.readline()
            delimiter = _delimiter(header_line)
            self.header = [_nfc(cell) for cell in _split_line(header_line, delimiter)]
            positions, unnamed = self._positions()
            reader = csv.reader(text, csv.excel, delimiter=delimiter)
            seen = 0
            for raw in reader:
                start, line = line + 1, reader.line_num + 1
                if not any(cell.strip() for cell in raw):
                    continue
                seen += 1
                row = Row(start, {name: _cell(raw, index) for name, index in positions.items()}, raw)
                if (stray := _stray_text(raw, len(self.header), unnamed)) is not None:
                    reject(row, stray)
                else:
                    yield row
            if seen == 0:
                raise UserError(f"{self.name}: the file has a header line but no rows to import")
        except UnicodeDecodeError:
            raise UserError(f"{self.name} after line {line}: is not UTF-8 text; {_SAVE_AS}") from None
        except csv.Error as exc:
            raise UserError(f"{self.name} line {line + 1}: cannot be read as CSV ({exc})") from None

    def _positions(self) -> tuple[dict[str, int], list[int]]:
        """Where each canonical column is, and which columns have no name; every header problem at once."""
        if not any(self.header):
            raise UserError(f"{self.name}: the file is empty; the first line must name the columns")
        positions: dict[str, int] = {}
        unnamed: list[int] = []
        unknown: list[str] = []
        problems: list[str] = []
        for index, cell in enumerate(self.header):
            name = self.columns.canonical(cell) if cell else None
            if not cell:
                unnamed.append(index)
            elif name is None and header_key(cell) not in _IGNORED_KEYS:
                unknown.append(f"'{cell}'")
            elif name in positions:
                first = self.header[positions[name]]
                problems.append(f"columns '{first}' and '{cell}' both give the {name}; keep one of them")
            elif name is not None:
                positions[name] = index
                self.columns_read[cell] = name
        for name in self.columns.required:
            if name not in positions:
                spellings = ", ".join(self.columns.spellings[name][:3])
                found = ", ".join(self.header)
                problems.append(f"no column for '{name}' (or {spellings}); the columns found are {found}")
        if unknown:
            problems.append(
                f"{'columns' if len(unknown) > 1 else 'column'} {', '.join(unknown)} "
                f"{'are not ones' if len(unknown) > 1 else 'is not one'} a {self.columns.kind} file has; "
                f"the accepted columns are {self.columns.accepted()}"
            )
        if problems:
            raise InvalidInput(self.name, [Problem("line 1", problem) for problem in problems])
        return positions, unnamed


def _cell(raw: list[str], index: int) -> str:
    return _nfc(raw[index]) if index < len(raw) else ""


def _stray_text(raw: list[str], named: int, unnamed: list[int]) -> str | None:
    """A sentence when the row has text in a column the header gives no name or a NUL, else None."""
    for index, cell in enumerate(raw):
        if "\x00" in cell:
            return f"column {index + 1} holds a NUL character, which no text may hold (is the file a text export?)"
        if cell.strip() and (index >= named or index in unnamed):
            return f"column {index + 1} holds '{cell.strip()}' but has no name in the header line"
    return None


# ---- writing -------------------------------------------------------------------------------------

# Cells a spreadsheet reads as a formula (OWASP "CSV injection"), including the full-width forms some
# spreadsheets also accept. A leading apostrophe makes them plain text and is not shown.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_safe(value: object) -> str:
    """The cell as text a spreadsheet shows and never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvOutput:
    """A CSV file to write, opened before the work whose result it holds.

    A place that cannot be written is thus known before that work is done (and committed). The file
    appears whole when the block ends, or not at all if it raises or nothing was written.
    """

    def __init__(self, path: Path):
        self.path = path
        self._temporary = path.with_name(path.name + ".part")
        self._handle: IO[str] | None = None
        self.written = False
        if path.is_dir():
            raise UserError(f"{path}: is a folder; give the name of a CSV file to write")
        blocking = next((folder for folder in path.parents if folder.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise UserError(f"{path}: cannot be written, {blocking} is a file and not a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self._temporary.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise UserError(f"{path}: cannot be written ({exc.strerror})") from None

    def write(self, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
        """Writes the header and the rows, every cell made spreadsheet-safe; the number of rows."""
        assert self._handle is not None, "a CsvOutput is written once"
        writer = csv.writer(self._handle)
        count = 0
        try:
            writer.writerow([spreadsheet_safe(cell) for cell in header])
            for row in rows:
                writer.writerow([spreadsheet_safe(cell) for cell in row])
                count += 1
        except OSError as exc:
            self.discard()
            raise UserError(f"{self.path}: cannot be written ({exc.strerror})") from None
        self.written = True
        return count

    def finish(self) -> None:
        if self._handle is None:
            return
        try:
            self._handle.close()
            self._handle = None
            self._temporary.replace(self.path)
        except OSError as exc:
            self.discard()
            raise UserError(f"{self.path}: cannot be written ({exc.strerror})") from None

    def discard(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            # Closing flushes what is buffered, which fails again on a full disk: the file is thrown away anyway.
            with contextlib.suppress(OSError):
                handle.close()
        self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> CsvOutput:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None and self.written:
            self.finish()
        else:
            self.discard()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Writes a CSV file the way every export of the project is written; returns the number of rows.

    UTF-8 with BOM (Excel then reads Vietnamese right), written whole or not at all, and cells that
    begin with =, +, -, @, tab or CR prefixed with an apostrophe so a spreadsheet never runs them.
    An unwritable place is a UserError with a sentence. To learn that before doing the work, open a
    `CsvOutput` first and write to it afterwards.
    """
    with CsvOutput(path) as output:
        return output.write(header, rows)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """The CSV `write_csv` would write, as bytes for a download: UTF-8 with BOM, formula cells made inert."""
    return titled_tables_csv([(None, header, rows)])


def titled_tables_csv(tables: Iterable[tuple[str | None, Sequence[str], Iterable[Sequence[object]]]]) -> bytes:
    """Several tables in one download, each as its title on a line (when it has one), its header and its
    rows, a blank line between two: UTF-8 with BOM, formula cells made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, (title, header, rows) in enumerate(tables):
        if number:
            writer.writerow([])
        if title is not None:
            writer.writerow([spreadsheet_safe(title)])
        writer.writerow([spreadsheet_safe(cell) for cell in header])
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def one_row_for_import(header: Sequence[str], values: Sequence[str]) -> bytes:
    """One row as the directory import reads a file: a form's entry goes through the same checks. Not an
    export, so nothing is made inert (a phone number's + stays)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerow(values)
    return buffer.getvalue().encode("utf-8")
