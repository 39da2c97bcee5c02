"""The 2025 reorganisation as data (DOMAIN §13): areas end, name the areas that replaced them, and an
audience written for a former district still finds the stations of the communes that took its place."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.db import transaction
from broadcaster.directory.audience import parse_selector, stations_for
from broadcaster.models import Area, Station
from tests.conftest import CONFIG, CONTENT, Cli, import_shipped_with_cli

BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)
GO_DAU_COMMUNES = ["phuong-gia-loc", "phuong-go-dau", "xa-phuoc-thanh", "xa-thanh-duc", "xa-truong-mit"]


def codes(session: Session, ids: set[int]) -> set[str]:
    return set(session.scalars(select(Area.code).where(Area.id.in_(ids))))


def test_the_shipped_areas_carry_the_end_of_the_districts_and_their_successors(
    shipped: sessionmaker[Session],
) -> None:
    with shipped() as session:
        go_dau = session.scalar(select(Area).where(Area.code == "go-dau"))
        assert go_dau is not None and go_dau.valid_until == BEFORE
        assert [area.code for area in go_dau.successors] == GO_DAU_COMMUNES
        commune = session.scalar(select(Area).where(Area.code == "xa-thanh-duc"))
        assert commune is not None and commune.valid_from == AFTER and commune.kind == "commune"


def test_importing_the_areas_again_changes_nothing(shipped: sessionmaker[Session]) -> None:
    with transaction(shipped) as session:
        report = directory.import_areas(session, CONFIG / "directory" / "areas.csv")
    assert (report.new, report.updated, report.rejects) == (0, 0, [])


def test_a_district_reaches_its_communes_only_once_it_has_ended(shipped: sessionmaker[Session]) -> None:
    with shipped() as session:
        assert codes(session, directory.areas_within(session, ["go-dau"], on=BEFORE)) == {"go-dau"}
        after = codes(session, directory.areas_within(session, ["go-dau"], on=AFTER))
        assert after == {"go-dau", *GO_DAU_COMMUNES}


def test_a_campaign_for_a_former_district_reaches_the_commune_stations_that_replaced_it(
    shipped: sessionmaker[Session],
) -> None:
    with shipped() as session:
        stations = stations_for(session, [parse_selector("stations:all")], ["go-dau"], AFTER)
        assert [station.slug for station in stations] == ["dtt-go-dau", "dtt-phuong-go-dau", "dtt-xa-thanh-duc"]
        commune_station = session.scalar(select(Station).where(Station.slug == "dtt-xa-thanh-duc"))
        assert commune_station is not None and commune_station.area is not None
        assert commune_station.area.kind == "commune"


def test_validation_shows_which_communes_a_former_district_now_reaches(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    run = cli("campaign", "validate", CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml")
    assert run.exit_code == 0, run.output
    assert (
        "channels.radio.areas: go-dau (Huyện Gò Dầu) ended on 30/06/2025; it reaches phuong-gia-loc (Phường Gia "
        "Lộc), phuong-go-dau (Phường Gò Dầu), xa-phuoc-thanh (Xã Phước Thạnh), xa-thanh-duc (Xã Thạnh Đức), "
        "xa-truong-mit (Xã Truông Mít)"
    ) in " ".join(run.stdout.split())


AREAS_WITH_MISTAKES = (
    "Mã,Tên,Cấp,Thuộc,Hiệu lực từ,Hiệu lực đến,Thay thế bởi\n"
    "tinh,Tỉnh A,province,,,,\n"  # line 2
    "huyen-a,Huyện A,district,tinh,,30/06/2025,xa-moi\n"  # line 3: its successor comes later in the file
    "huyen-b,Huyện B,district,tinh,,,xa-moi\n"  # line 4: successors but no end
    "huyen-c,Huyện C,district,tinh,,2025-06-30,atlantis\n"  # line 5: unknown successor
    "huyen-d,Huyện D,district,tinh,2025-07-01,2025-06-30,\n"  # line 6: ends before it starts
    "huyen-e,Huyện E,district,tinh,,31/02/2025,\n"  # line 7: no such day
    "xa-moi,Xã Mới,commune,tinh,01/07/2025,,\n"  # line 8
)


def test_an_areas_file_with_vietnamese_headers_is_imported_or_rejected_by_line(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(AREAS_WITH_MISTAKES, encoding="utf-8")
    with transaction(sessions) as session:
        report = directory.import_areas(session, path)
    rejected = {line: reason for line, reason, _ in report.rejects}
    assert rejected == {
        4: "area 'huyen-b' names successors but no valid_until (the last day it existed)",
        5: "successor area 'atlantis' is neither in this file nor in the area list",
        6: "area 'huyen-d' ends (30/06/2025) before it starts (01/07/2025)",
        7: "'31/02/2025' is not a date (write 2025-06-30 or 30/06/2025)",
    }
    with sessions() as session:
        huyen_a = session.scalar(select(Area).where(Area.code == "huyen-a"))
        assert huyen_a is not None and huyen_a.valid_until == BEFORE
        assert [area.code for area in huyen_a.successors] == ["xa-moi"]


@pytest.mark.parametrize("on", [BEFORE, AFTER])
def test_areas_without_dates_are_always_valid(shipped: sessionmaker[Session], on: date) -> None:
    with transaction(shipped) as session:
        session.add(Area(code="xa-khong-ngay", name="Xã Không Ngày", kind="commune"))
    with shipped() as session:
        assert codes(session, directory.areas_within(session, ["xa-khong-ngay"], on=on)) == {"xa-khong-ngay"}
