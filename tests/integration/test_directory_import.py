"""Directory import from the files staff keep (DOMAIN §4): every row imported or reported by line."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.db import transaction
from broadcaster.errors import UserError
from broadcaster.models import Agency, Area, Station, Subscriber
from broadcaster.problems import InvalidInput
from tests.conftest import CONFIG

MESSY_SUBSCRIBERS = (
    "Số điện thoại;Khu vực;Ngôn ngữ;Từ chối\n"
    "0912345678;go-dau;vi;\n"  # line 2: fine
    "01652345678;Huyện Gò Dầu;vi;\n"  # line 3: old Viettel number, area by name
    "0276 3822 123;go-dau;vi;\n"  # line 4: a landline
    "xin chào;go-dau;vi;\n"  # line 5: garbage
    "+84 912 345 678;go-dau;vi;\n"  # line 6: the number of line 2 again
    "0987654321;atlantis;vi;\n"  # line 7: unknown area
    ";;;\n"  # an empty row, skipped
    "0983000111;;en;x\n"  # line 9: opted out
)


def write_bom_csv(path: Path, text: str) -> Path:
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    return path


@pytest.fixture
def with_areas(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        directory.import_areas(session, CONFIG / "directory" / "areas.csv")
    return sessions


def import_subscribers(sessions: sessionmaker[Session], path: Path) -> directory.ImportReport:
    with transaction(sessions) as session:
        return directory.import_subscribers(session, path, "thue-bao", "Thuê bao")


def test_a_messy_excel_export_imports_exactly_the_valid_rows(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    report = import_subscribers(with_areas, write_bom_csv(tmp_path / "tb.csv", MESSY_SUBSCRIBERS))

    assert (report.new, report.merged) == (3, 1)
    assert report.converted == [(3, "01652345678", "+84352345678")]
    rejected = {line: reason for line, reason, _ in report.rejects}
    assert set(rejected) == {4, 5, 7}
    assert "landline" in rejected[4]
    assert "not a phone number" in rejected[5]
    assert "area 'atlantis'" in rejected[7]
    with with_areas() as session:
        phones = set(session.scalars(select(Subscriber.phone)))
        opted_out = session.scalar(select(Subscriber).where(Subscriber.phone == "+84983000111"))
    assert phones == {"+84912345678", "+84352345678", "+84983000111"}
    assert opted_out is not None and opted_out.opted_out and opted_out.opted_out_on is not None


def test_reimporting_the_same_file_changes_nothing(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_bom_csv(tmp_path / "tb.csv", MESSY_SUBSCRIBERS)
    import_subscribers(with_areas, path)
    with with_areas() as session:
        before = session.execute(select(Subscriber.phone, Subscriber.area_id, Subscriber.opted_out_on)).all()

    again = import_subscribers(with_areas, path)

    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    with with_areas() as session:
        assert session.execute(select(Subscriber.phone, Subscriber.area_id, Subscriber.opted_out_on)).all() == before


def test_an_opt_out_is_never_undone_by_a_later_import(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    import_subscribers(with_areas, write_bom_csv(tmp_path / "a.csv", "phone,opted_out\n0983000111,x\n"))
    report = import_subscribers(with_areas, write_bom_csv(tmp_path / "b.csv", "phone,opted_out\n0983000111,\n"))
    assert report.kept_opted_out == 1
    with with_areas() as session:
        assert session.scalar(select(Subscriber.opted_out)) is True


def test_utf16_unicode_text_exports_are_read(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("Số điện thoại\tKhu vực\n0912345678\tTân Biên\n".encode("utf-16"))
    assert import_subscribers(with_areas, path).new == 1


def test_a_file_that_is_not_utf8_is_refused_whole(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "cp1258.csv"
    path.write_bytes(
        b"phone,area\n0912345678,go-dau\n"
        + b"0912345679,G\xf2 D\xe2\xecu\n"  # "Gò Dầu" as a Windows-1258 export holds it
    )
    with pytest.raises(UserError, match="not UTF-8 text; in Excel save it as 'CSV UTF-8"):
        import_subscribers(with_areas, path)
    with with_areas() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_a_file_without_a_phone_column_says_which_columns_it_found(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_bom_csv(tmp_path / "x.csv", "Nghề nghiệp,Địa chỉ\nA,B\n")
    with pytest.raises(InvalidInput) as caught:
        import_subscribers(with_areas, path)
    problems = [str(problem) for problem in caught.value.problems]
    assert problems[0] == (
        "line 1: no column for 'phone' (or Số điện thoại, SĐT, Điện thoại); the columns found are Nghề nghiệp, Địa chỉ"
    )
    assert problems[1].startswith("line 1: columns 'Nghề nghiệp', 'Địa chỉ' are not ones a subscribers file has;")


def test_agencies_listed_once_per_group_are_merged(with_areas: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_bom_csv(
        tmp_path / "agencies.csv",
        "Tên đơn vị,Email,Nhóm\n"
        "Sở Y tế,soyte@tayninh.example,so-ban-nganh\n"
        "Sở Y tế,soyte@tayninh.example; yte2@tayninh.example,ubnd-huyen\n"
        "Không có thư,,so-ban-nganh\n"
        "Sai thư,not-an-address,so-ban-nganh\n",
    )
    with transaction(with_areas) as session:
        report = directory.import_agencies(session, path)
    assert (report.new, report.merged, len(report.rejects)) == (1, 1, 2)
    with with_areas() as session:
        agency = session.scalar(select(Agency))
        assert agency is not None
        assert agency.emails == ["soyte@tayninh.example", "yte2@tayninh.example"]
        assert agency.groups == ["so-ban-nganh", "ubnd-huyen"]


def test_a_station_folder_that_leaves_the_output_root_is_refused(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write_bom_csv(
        tmp_path / "stations.csv",
        "slug,name,folder,slots\n"
        "dtt-a,Đài A,../../etc,morning 05:30\n"
        "dtt-b,Đài B,/srv/x,morning 05:30\n"
        "dtt-c,Đài C,tay-ninh/c,morning 5h30; evening 17:00\n"
        "dtt-d,Đài D,d,sáng sớm\n"
        "dtt-e,Đài E,e,morning 05:30; morning 17:00\n",
    )
    with transaction(with_areas) as session:
        report = directory.import_stations(session, path)
    reasons = {line: reason for line, reason, _ in report.rejects}
    assert set(reasons) == {2, 3, 5, 6}
    assert "inside the radio output folder" in reasons[2]
    assert "the slot name 'morning' is given twice (05:30 and morning 17:00)" in reasons[6]
    with with_areas() as session:
        station = session.scalar(select(Station))
        assert station is not None and station.slots == {"morning": "05:30", "evening": "17:00"}


def test_areas_form_a_hierarchy(with_areas: sessionmaker[Session]) -> None:
    with with_areas() as session:
        go_dau = session.scalar(select(Area).where(Area.code == "go-dau"))
        assert go_dau is not None and go_dau.parent is not None and go_dau.parent.code == "tay-ninh"
        # The province and its nine districts, as they were before the 2025 reorganisation (DOMAIN §13).
        assert len(directory.areas_within(session, ["tay-ninh"], on=date(2025, 6, 30))) == 10


def test_the_cli_prints_a_summary_and_writes_rejects(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("db", "upgrade").exit_code == 0
    assert cli("directory", "import", "areas", CONFIG / "directory" / "areas.csv").exit_code == 0
    source = write_bom_csv(tmp_path / "tb.csv", MESSY_SUBSCRIBERS)
    rejects = tmp_path / "rejects.csv"

    run = cli("directory", "import", "subscribers", source, "--list", "thue-bao", "--rejects", rejects)

    assert run.exit_code == 0, run.output
    assert (
        "3 imported (3 new, 0 updated, 0 unchanged), 1 duplicates merged, 1 old numbers converted, "
        "0 warnings, 3 rejected" in run.stdout
    )
    assert "line 3: converted old number 01652345678 to +84352345678" in run.stdout
    assert "line 4: '0276 3822 123' is a landline" in run.stderr
    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "line,reason,Số điện thoại,Khu vực,Ngôn ngữ,Từ chối"
    assert [line.split(",")[0] for line in lines[1:]] == ["4", "5", "7"]


def test_the_cli_refuses_a_missing_file_in_one_sentence(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("db", "upgrade").exit_code == 0
    run = cli("directory", "import", "agencies", tmp_path / "missing.csv")
    assert run.exit_code == 1
    assert run.stderr.strip() == f"error: {tmp_path / 'missing.csv'}: file not found"


def test_a_line_break_in_a_name_that_becomes_a_letters_header_is_refused(
    with_areas: sessionmaker[Session], tmp_path: Path
) -> None:
    """An issuing unit's name is the letters' From, an agency's name their To: neither may hold a line break."""
    profile = (CONFIG / "issuers" / "tay-ninh-stttt.yaml").read_text(encoding="utf-8")
    unit_name = next(line for line in profile.splitlines() if line.startswith("unit_name:"))
    forged = tmp_path / "issuer.yaml"
    forged.write_text(
        profile.replace(unit_name, 'unit_name: "Sở TT&TT\\r\\nReply-To: attacker@evil.example"'), encoding="utf-8"
    )
    with transaction(with_areas) as session, pytest.raises(InvalidInput) as refused:
        directory.import_issuer(session, forged)
    assert any(p.where == "unit_name" and "holds a line break" in p.message for p in refused.value.problems)
    agencies = write_bom_csv(
        tmp_path / "agencies.csv",
        'name,emails,groups\n"Sở Y tế\nBcc: attacker@evil.example",soyte@tayninh.example,so-ban-nganh\n',
    )
    with transaction(with_areas) as session:
        report = directory.import_agencies(session, agencies)
    [(_line, reason, _raw)] = report.rejects
    assert reason == "the agency's name holds a line break or a control character (U+000A): write it on one line"
