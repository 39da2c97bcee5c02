"""Directory files as people make them in spreadsheets: every column read or refused by name, opt-outs
never lost, quoted cells exact, phone cells taken as written, and every list the import makes written
out in full. Files are written here as Excel, LibreOffice and Numbers save them (tests/spreadsheets.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.csvfiles import IGNORED_COLUMNS, Upload
from broadcaster.db import make_engine, make_sessions, transaction
from broadcaster.models import Agency, Area, Subscriber, SubscriberList
from tests.conftest import CONFIG, Cli
from tests.spreadsheets import save_as

README = Path(__file__).resolve().parents[2] / "README.md"
AREAS = CONFIG / "directory" / "areas.csv"


@pytest.fixture
def with_areas(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        directory.import_areas(session, AREAS)
    return sessions


def subscribers_of(sessions: sessionmaker[Session], slug: str) -> dict[str, bool]:
    with sessions() as session:
        query = select(Subscriber.phone, Subscriber.opted_out).join(SubscriberList).where(SubscriberList.slug == slug)
        return {phone: opted_out for phone, opted_out in session.execute(query)}


def database(database_url: str) -> sessionmaker[Session]:
    return make_sessions(make_engine(database_url))


def count_subscribers(database_url: str) -> tuple[int, int]:
    """(lists, subscribers) in the database the CLI used."""
    with database(database_url)() as session:
        lists = session.scalar(select(func.count()).select_from(SubscriberList))
        subscribers = session.scalar(select(func.count()).select_from(Subscriber))
    return lists or 0, subscribers or 0


def ready(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("directory", "import", "areas", AREAS).exit_code == 0


# ---- columns -------------------------------------------------------------------------------------


def test_vietnamese_column_names_are_read_and_nothing_is_dropped(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    areas = save_as(
        tmp_path / "areas.csv",
        [
            ["STT", "Mã", "Tên", "Cấp", "Trực thuộc"],
            ["1", "tay-ninh", "Tỉnh Tây Ninh", "province", ""],
            ["2", "go-dau", "Huyện Gò Dầu", "district", "tay-ninh"],
            ["3", "phuoc-dong", "Xã Phước Đông", "commune", "Huyện Gò Dầu"],  # the parent by its name
        ],
        "excel-semicolon",
    )
    subscribers = save_as(
        tmp_path / "thue-bao.txt",
        [
            ["SĐT", "Khu vực", "Từ chối nhận tin", "Ghi chú"],
            ["0912345678", "phuoc-dong", "", "mới"],
            ["0983000111", "go-dau", "Đã từ chối", "gọi lại 3 lần"],
        ],
        "unicode-text",
    )
    with transaction(sessions) as session:
        directory.import_areas(session, areas)
        report = directory.import_subscribers(session, subscribers, "thue-bao", None)

    assert (report.new, report.rejects) == (2, [])
    assert report.columns_read == {"SĐT": "phone", "Khu vực": "area", "Từ chối nhận tin": "opted_out"}
    assert report.columns_not_read == ["Ghi chú"]
    with sessions() as session:
        commune = session.scalar(select(Area).where(Area.code == "phuoc-dong"))
        assert commune is not None and commune.parent is not None and commune.parent.code == "go-dau"
        assert commune.parent.parent is not None and commune.parent.parent.code == "tay-ninh"
    assert subscribers_of(sessions, "thue-bao") == {"+84912345678": False, "+84983000111": True}


def test_an_unknown_column_stops_the_import_naming_it_and_the_accepted_names(cli: Cli, database_url: str) -> None:
    ready(cli)
    source = save_as(
        cli.cwd / "tb.csv",
        [["Số điện thoại", "Khu vực", "Từ chối nhận tin nhắn"], ["0912345678", "go-dau", "x"]],
    )
    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao")

    assert run.exit_code == 1
    assert f"error: {source} has 1 problem:" in run.stderr
    assert (
        "- line 1: column 'Từ chối nhận tin nhắn' is not one a subscribers file has; the accepted columns are "
        "phone (Số điện thoại, SĐT, Điện thoại, ĐT, Số di động, Di động, Số thuê bao, Thuê bao); area (Khu vực, "
        "Địa bàn); locale (Ngôn ngữ); opted_out (opted out, opt-out, Từ chối, Từ chối nhận tin, Đã từ chối, "
        "Hủy đăng ký, Không nhận, Không nhận tin); opted_out_on (Ngày từ chối, Ngày hủy, Ngày hủy đăng ký); "
        "name (Họ và tên, Họ tên, Tên, Tên thuê bao, Chủ thuê bao); "
        "and, not read: STT, Số thứ tự, No, Ghi chú, note, notes, line, reason"
    ) in " ".join(run.stderr.split())
    assert count_subscribers(database_url) == (0, 0)


def test_a_column_given_twice_stops_the_import(cli: Cli, database_url: str) -> None:
    ready(cli)
    source = save_as(cli.cwd / "tb.csv", [["SĐT", "Khu vực", "Số điện thoại"], ["0912345678", "go-dau", "0987654321"]])
    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao")
    assert run.exit_code == 1
    assert "line 1: columns 'SĐT' and 'Số điện thoại' both give the phone; keep one of them" in run.stderr
    assert count_subscribers(database_url) == (0, 0)


def test_the_readme_lists_every_accepted_column_name() -> None:
    table = README.read_text(encoding="utf-8").split("## The directory", 1)[1].split("\n## ", 1)[0]
    kinds = [
        directory.AREA_COLUMNS,
        directory.AGENCY_COLUMNS,
        directory.STATION_COLUMNS,
        directory.SUBSCRIBER_COLUMNS,
        directory.PAGE_COLUMNS,
    ]
    for columns in kinds:
        row = next(line for line in table.splitlines() if line.startswith(f"| {columns.kind} |"))
        for name, spellings in columns.spellings.items():
            for spelling in (name, *spellings):
                assert f"`{spelling}`" in row, f"README's {columns.kind} row does not list `{spelling}`"
    for ignored in IGNORED_COLUMNS:
        assert f"`{ignored}`" in table


# ---- opt-outs --------------------------------------------------------------------------------------


def test_opt_out_words_in_a_real_file_are_honoured_and_unknown_ones_reject_the_row(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    words = ["đã từ chối", "Huỷ", "hủy", "x", "✓", "Có", "rồi", "yes", "opted out", "không", "Chưa", "no", "", "?"]
    rows = [["Số điện thoại", "Từ chối"]] + [[f"09120000{index:02d}", word] for index, word in enumerate(words)]
    path = save_as(tmp_path / "tb.csv", rows, "numbers-nfd")
    with transaction(with_areas) as session:
        report = directory.import_subscribers(session, path, "thue-bao", None)

    stored = subscribers_of(with_areas, "thue-bao")
    assert [number for number, opted_out in stored.items() if opted_out] == [f"+849120000{n:02d}" for n in range(9)]
    assert [number for number, opted_out in stored.items() if not opted_out] == [
        f"+849120000{n:02d}" for n in range(9, 13)
    ]
    assert [(line, reason.split(";")[0]) for line, reason, _raw in report.rejects] == [
        (15, "opt-out '?' is not a value this import knows")
    ]


def test_an_opt_out_date_with_a_negative_opt_out_rejects_the_row(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    path = save_as(
        tmp_path / "tb.csv",
        [
            ["SĐT", "Từ chối", "Ngày từ chối"],
            ["0912000001", "x", "14/05/2024"],
            ["0912000002", "", "15/05/2024"],
            ["0912000003", "x", "31/02/2024"],
        ],
    )
    with transaction(with_areas) as session:
        report = directory.import_subscribers(session, path, "thue-bao", None)
        opted_out_on = session.scalar(select(Subscriber.opted_out_on))
    assert str(opted_out_on) == "2024-05-14"
    assert [(line, reason) for line, reason, _raw in report.rejects] == [
        (3, "the opt-out date is 15/05/2024 but the opt-out cell says the number did not opt out"),
        (4, "opt-out date '31/02/2024' must be a real day written DD/MM/YYYY or YYYY-MM-DD"),
    ]


# ---- quoting -------------------------------------------------------------------------------------------


def test_a_quoted_agency_name_is_stored_exactly_and_importing_it_again_changes_nothing(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    before = save_as(tmp_path / "before.csv", [["Tên đơn vị", "Email"], ["Báo Tây Ninh", "toasoan@baotayninh.example"]])
    # As Excel on Vietnamese Windows saves it: semicolons, and the quotes in the name doubled.
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(
        "\ufeffTên đơn vị;Email;Nhóm\r\n"
        '"Báo ""Tây Ninh""";bandoc@baotayninh.example;bao-chi\r\n'
        '"Đài PT-TH; Tây Ninh";"dai@tayninh.example; ptth@tayninh.example";bao-chi\r\n'.encode()
    )
    with transaction(with_areas) as session:
        directory.import_agencies(session, before)
        report = directory.import_agencies(session, quoted)
    assert (report.new, report.updated, report.rejects) == (1, 1, [])

    with with_areas() as session:
        agencies = {agency.key: (agency.name, agency.emails) for agency in session.scalars(select(Agency))}
    assert agencies == {
        "bao-tay-ninh": ('Báo "Tây Ninh"', ["bandoc@baotayninh.example"]),
        "dai-pt-th-tay-ninh": ("Đài PT-TH; Tây Ninh", ["dai@tayninh.example", "ptth@tayninh.example"]),
    }
    with transaction(with_areas) as session:
        again = directory.import_agencies(session, quoted)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


def test_an_upload_imports_like_a_file(with_areas: sessionmaker[Session]) -> None:
    content = "Số điện thoại;Khu vực;Từ chối nhận tin\r\n0912345678;Gò Dầu;\r\n0983000111;Gò Dầu;hủy\r\n".encode()
    with transaction(with_areas) as session:
        report = directory.import_csv(session, "subscribers", Upload.of_bytes("tải lên.csv", content), "thue-bao")
    assert (report.source, report.new) == ("tải lên.csv", 2)
    assert subscribers_of(with_areas, "thue-bao") == {"+84912345678": False, "+84983000111": True}


# ---- phone cells -------------------------------------------------------------------------------------


def test_letters_in_a_phone_cell_reject_the_row_and_an_unlisted_range_is_imported_with_a_warning(
    cli: Cli, database_url: str
) -> None:
    ready(cli)
    source = save_as(cli.cwd / "tb.csv", [["SĐT"], ["0912abc678"], ["0521234567"], ["0912345678"]], "libreoffice")

    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao")

    assert run.exit_code == 0, run.output
    assert "  columns: SĐT → phone\n" in run.stdout
    assert "2 imported (2 new, 0 updated, 0 unchanged), 0 duplicates merged, 0 old numbers converted, 1 warnings" in (
        run.stdout
    )
    assert "line 2: '0912abc678' is not a phone number: it holds characters other than digits" in run.stderr
    assert "line 3: warning: '0521234567' looks like a mobile number but its range is not in the numbering plan" in (
        run.stdout
    )
    assert subscribers_of(database(database_url), "thue-bao") == {"+84521234567": False, "+84912345678": False}

    cli.env["BROADCASTER_STRICT_PHONE_RANGES"] = "true"
    strict = cli("directory", "import", "subscribers", source, "--list", "thue-bao-2")
    assert strict.exit_code == 0, strict.output
    assert "line 3: '0521234567' is in a mobile range the numbering plan does not list" in strict.stderr
    assert subscribers_of(database(database_url), "thue-bao-2") == {"+84912345678": False}


# ---- imports that import nothing, and the lists written out --------------------------------------------


def test_an_import_whose_every_row_is_rejected_fails_and_changes_nothing(cli: Cli, database_url: str) -> None:
    ready(cli)
    source = save_as(cli.cwd / "tb.csv", [["SĐT", "Từ chối"], ["0912abc678", ""], ["0912345678", "có thể"]])
    rejects = cli.cwd / "rejects.csv"

    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao", "--rejects", rejects)

    assert run.exit_code == 1
    assert run.stderr.strip().endswith(
        f"error: {source}: none of its 2 rows could be imported, so nothing was changed; the reasons are listed by line"
    )
    assert "line 3: opt-out 'có thể' is not a value this import knows" in run.stderr
    assert [row[0] for row in csv.reader(rejects.open(encoding="utf-8-sig"))] == ["line", "2", "3"]
    assert count_subscribers(database_url) == (0, 0)  # not even the empty list


def test_a_file_with_a_header_and_no_rows_fails(cli: Cli, database_url: str) -> None:
    ready(cli)
    source = save_as(cli.cwd / "tb.csv", [["SĐT", "Khu vực"], ["", ""]])
    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao")
    assert run.exit_code == 1
    assert run.stderr.strip() == f"error: {source}: the file has a header line but no rows to import"
    assert count_subscribers(database_url) == (0, 0)


def test_the_report_file_holds_every_conversion_warning_and_rejection(cli: Cli) -> None:
    ready(cli)
    rows = [["SĐT", "Khu vực"]]
    rows += [[f"0165{n:07d}", "go-dau"] for n in range(30)]  # old Viettel numbers, converted
    rows += [[f"052{n:07d}", "go-dau"] for n in range(3)]  # a range the metadata does not list
    rows += [[f"0912{n:06d}", "atlantis"] for n in range(25)]  # an unknown area
    source = save_as(cli.cwd / "tb.csv", rows)
    report = cli.cwd / "report" / "tb-report.csv"

    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao", "--report", report)

    assert run.exit_code == 0, run.output
    assert run.stdout.count("converted old number") == 20
    assert "… and 10 more (--report FILE writes every one)" in run.stdout
    assert "… and 5 more (--report FILE writes every one)" in run.stderr
    written = list(csv.DictReader(report.open(encoding="utf-8-sig")))
    assert [row["outcome"] for row in written] == ["converted"] * 30 + ["warning"] * 3 + ["rejected"] * 25
    assert written[0] == {
        "file": str(source),
        "line": "2",
        "outcome": "converted",
        "detail": "old number 01650000000 converted to +84350000000",
    }
    assert written[-1]["line"] == "59" and written[-1]["detail"].startswith("area 'atlantis' is not in the area list")
    assert "58 conversions, warnings and rejections written to" in run.stdout


@pytest.mark.parametrize("option", ["--rejects", "--report"])
def test_an_unwritable_output_file_fails_before_anything_is_committed(cli: Cli, database_url: str, option: str) -> None:
    ready(cli)
    source = save_as(cli.cwd / "tb.csv", [["SĐT"], ["0912345678"], ["xin chào"]])
    (cli.cwd / "blocked").write_text("a file where a folder should be")
    target = cli.cwd / "blocked" / "out.csv"

    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao", option, target)

    assert run.exit_code == 1
    assert run.stderr.strip() == f"error: {target}: cannot be written, {cli.cwd / 'blocked'} is a file and not a folder"
    assert count_subscribers(database_url) == (0, 0)


def test_the_rejects_file_makes_formulas_inert_and_imports_again_once_corrected(cli: Cli, database_url: str) -> None:
    ready(cli)
    source = save_as(
        cli.cwd / "agencies.csv",
        [
            ["Tên đơn vị", "Email"],
            ["Sở Y tế", "soyte@tayninh.example"],
            ['=HYPERLINK("http://evil.example","Xem")', "not-an-address"],
            ["Sở Tư pháp", "sotuphap(at)tayninh.example"],
        ],
    )
    rejects = cli.cwd / "rejects.csv"
    run = cli("directory", "import", "agencies", source, "--rejects", rejects)
    assert run.exit_code == 0, run.output

    rows = list(csv.reader(rejects.open(encoding="utf-8-sig")))
    assert rows[0] == ["line", "reason", "Tên đơn vị", "Email"]
    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","Xem")'
    corrected = cli.cwd / "corrected.csv"
    save_as(corrected, [rows[0], [*rows[2][:3], "sotuphap@tayninh.example"]])

    again = cli("directory", "import", "agencies", corrected)

    assert again.exit_code == 0, again.output
    assert "1 imported (1 new" in again.stdout
    with database(database_url)() as session:
        assert set(session.scalars(select(Agency.name))) == {"Sở Y tế", "Sở Tư pháp"}


def test_rejects_and_report_files_describe_one_input_file(cli: Cli) -> None:
    ready(cli)
    run = cli("directory", "import", "agencies", AREAS, AREAS, "--rejects", cli.cwd / "r.csv")
    assert run.exit_code == 1
    assert "--rejects and --report describe one file" in run.stderr
