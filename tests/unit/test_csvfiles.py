"""CSV in and out as spreadsheets read and write it: quoting, separators, formula cells, unwritable places."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from pathlib import Path

import pytest

from broadcaster.csvfiles import Columns, CsvOutput, Row, Table, Upload, write_csv
from broadcaster.errors import UserError
from broadcaster.problems import InvalidInput
from tests.spreadsheets import STYLES, save_as

COLUMNS = Columns({"name": ("Tên đơn vị",), "emails": ("Email",)}, required=("name",), kind="agencies")


def read_all(source: Upload | Path) -> tuple[list[Row], list[tuple[int, str]]]:
    rejected: list[tuple[int, str]] = []
    rows = list(Table(source, COLUMNS).rows(lambda row, reason: rejected.append((row.line, reason))))
    return rows, rejected


@pytest.mark.parametrize("style", sorted(STYLES))
def test_quoted_cells_with_doubled_quotes_read_as_the_spreadsheet_wrote_them(tmp_path: Path, style: str) -> None:
    # The header has no quotes at all: quoting must not be decided from it (the cell below once
    # came back as 'Báo "Tây Ninh"""').
    path = save_as(
        tmp_path / "agencies.csv",
        [
            ["Tên đơn vị", "Email"],
            ['Báo "Tây Ninh"', "bao@tayninh.example"],
            ["Sở Y tế; Tây Ninh, cơ quan", "soyte@tayninh.example"],
            ["Đài\nhai dòng", "dai@tayninh.example"],
        ],
        style,
    )
    rows, rejected = read_all(path)
    assert rejected == []
    assert [row.values["name"] for row in rows] == ['Báo "Tây Ninh"', "Sở Y tế; Tây Ninh, cơ quan", "Đài\nhai dòng"]
    assert [row.line for row in rows] == [2, 3, 4]


def test_the_raw_text_of_a_doubled_quote_cell_reads_exactly() -> None:
    upload = Upload.of_bytes("agencies.csv", 'Tên đơn vị,Email\n"Báo ""Tây Ninh""",bao@tayninh.example\n'.encode())
    rows, _ = read_all(upload)
    assert rows[0].values == {"name": 'Báo "Tây Ninh"', "emails": "bao@tayninh.example"}


def test_a_form_upload_spooled_to_a_temporary_file_is_read_and_left_open() -> None:
    # What a web framework hands over for an uploaded file: a SpooledTemporaryFile, already written to.
    with tempfile.SpooledTemporaryFile(max_size=16) as spooled:
        spooled.write("Tên đơn vị,Email\r\nSở Y tế,soyte@tayninh.example\r\n".encode())
        spooled.seek(0)
        rows, _ = read_all(Upload("danh-sach.csv", spooled))
        assert rows[0].values["name"] == "Sở Y tế"
        assert not spooled.closed


def test_an_upload_that_cannot_seek_is_read_whole() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, content: bytes):
            self.inner = io.BytesIO(content)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            data = self.inner.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)

    content = "\ufeffTên đơn vị;Email\r\n" + "".join(f"Đơn vị {n};dv{n}@x.example\r\n" for n in range(5000))
    upload = Upload("upload.csv", io.BufferedReader(Pipe(content.encode())))
    rows, _ = read_all(upload)
    assert len(rows) == 5000 and rows[-1].values["name"] == "Đơn vị 4999"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_recognised(encoding: str) -> None:
    content = "Tên đơn vị\tEmail\r\nSở Y tế\tsoyte@tayninh.example\r\n".encode(encoding)
    rows, _ = read_all(Upload.of_bytes("unicode.txt", content))
    assert rows[0].values == {"name": "Sở Y tế", "emails": "soyte@tayninh.example"}


def test_a_nul_character_rejects_its_row() -> None:
    upload = Upload.of_bytes("a.csv", "Tên đơn vị,Email\nSở\x00Y tế,a@x.example\nSở Tư pháp,b@x.example\n".encode())
    rows, rejected = read_all(upload)
    assert [row.values["name"] for row in rows] == ["Sở Tư pháp"]
    assert rejected == [(2, "column 1 holds a NUL character, which no text may hold (is the file a text export?)")]


def test_a_workbook_saved_under_a_csv_name_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "danh-sach.csv", "w") as workbook:  # an .xlsx is a zip of XML parts
        workbook.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(UserError, match=r"danh-sach.csv: is a spreadsheet workbook, not CSV; in Excel save it as"):
        read_all(tmp_path / "danh-sach.csv")


def test_decomposed_vietnamese_is_read_as_composed(tmp_path: Path) -> None:
    rows, _ = read_all(save_as(tmp_path / "nfd.csv", [["Tên đơn vị"], ["Sở Thông tin"]], "numbers-nfd"))
    assert rows[0].values["name"] == "Sở Thông tin"  # NFC, as typed on Windows


def test_an_unknown_column_names_itself_and_the_accepted_names() -> None:
    upload = Upload.of_bytes("a.csv", "Tên đơn vị,Email,Fax\nA,a@x.example,0\n".encode())
    with pytest.raises(InvalidInput) as caught:
        read_all(upload)
    (problem,) = caught.value.problems
    assert str(problem) == (
        "line 1: column 'Fax' is not one a agencies file has; the accepted columns are name (Tên đơn vị); "
        "emails (Email); and, not read: STT, Số thứ tự, No, Ghi chú, note, notes, line, reason"
    )


def test_a_column_given_twice_is_an_error_naming_both() -> None:
    upload = Upload.of_bytes("a.csv", "Tên đơn vị,email,EMAIL\nA,a@x.example,b@x.example\n".encode())
    with pytest.raises(InvalidInput) as caught:
        read_all(upload)
    assert [str(p) for p in caught.value.problems] == [
        "line 1: columns 'email' and 'EMAIL' both give the emails; keep one of them"
    ]


def test_text_under_a_column_without_a_name_rejects_the_row() -> None:
    upload = Upload.of_bytes(
        "a.csv", "Tên đơn vị,Email,\nA,a@x.example,\nB,b@x.example,lost?\nC,c@x.example,,x\n".encode()
    )
    rows, rejected = read_all(upload)
    assert [row.values["name"] for row in rows] == ["A"]
    assert rejected == [
        (3, "column 3 holds 'lost?' but has no name in the header line"),
        (4, "column 4 holds 'x' but has no name in the header line"),
    ]


def test_a_header_without_rows_is_an_error() -> None:
    with pytest.raises(UserError, match=r"^a\.csv: the file has a header line but no rows to import$"):
        read_all(Upload.of_bytes("a.csv", "Tên đơn vị,Email\r\n,\r\n\r\n , \r\n".encode()))


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example","Xem")',
        "=cmd|' /C calc'!A0",
        "+84912345678",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
    ],
)
def test_every_cell_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path, cell: str) -> None:
    path = tmp_path / "out.csv"
    assert write_csv(path, ["line", "value"], [[2, cell], [3, "Sở Y tế"]]) == 2
    rows = list(csv.reader(path.open(encoding="utf-8-sig", newline="")))
    assert rows == [["line", "value"], ["2", "'" + cell], ["3", "Sở Y tế"]]


def test_writing_where_a_folder_is_or_where_a_file_blocks_the_folder_is_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(UserError, match=r"a-file/out.csv: cannot be written, .*/a-file is a file and not a folder$"):
        write_csv(tmp_path / "a-file" / "out.csv", ["h"], [])
    with pytest.raises(UserError, match=r"/proc/version/x/out.csv: cannot be written, /proc/version is a file"):
        write_csv(Path("/proc/version/x/out.csv"), ["h"], [])
    with pytest.raises(UserError, match=r"/proc/out.csv: cannot be written \(No such file or directory\)$"):
        write_csv(Path("/proc/out.csv"), ["h"], [])  # a folder nobody, not even root, may create files in
    with pytest.raises(UserError, match="is a folder; give the name of a CSV file to write"):
        write_csv(tmp_path, ["h"], [])


def test_an_output_opened_before_work_that_fails_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rejects.csv"
    path.write_text("the previous run\n")
    with pytest.raises(RuntimeError), CsvOutput(path):
        raise RuntimeError("the import failed")
    assert path.read_text() == "the previous run\n"
    assert list(tmp_path.iterdir()) == [path]


def test_every_csv_the_program_writes_goes_through_write_csv() -> None:
    # One writer, so that no export forgets to make formula cells inert (csvfiles.write_csv / CsvOutput).
    root = Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for folder in ("broadcaster", "channels")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "csvfiles.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8"))
    ]
    assert writers == [], f"write CSV with broadcaster.csvfiles.write_csv, not csv.writer, in {writers}"
