"""Stations say whether each slot aired: refused where it must be, audited, correctable with history,
and counted for staff (aired / not aired / unconfirmed / overdue) in `status` and a CSV export."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airing
from broadcaster.clock import StartedClock
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, Campaign
from broadcaster.settings import Settings
from tests.conftest import Cli
from tests.moment import WEDNESDAY, coming
from tests.radio_slots import aired_slots


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A Wednesday at 10:00: the slots have just aired, and times of airing said later today are today's."""
    return settings.with_clock(StartedClock(coming(WEDNESDAY, time(10), settings.zone)))


@pytest.fixture
def slots(shipped: sessionmaker[Session], settings: Settings) -> dict[str, list[int]]:
    return aired_slots(shipped, settings)


def report(
    sessions: sessionmaker[Session], settings: Settings, station: str, delivery_id: int, **kwargs: object
) -> None:
    with transaction(sessions) as session:
        airing.report_airing(
            session,
            airing.find_station(session, station),
            delivery_id,
            by=f"link:{station}",
            zone=settings.zone,
            **{"now": settings.clock.now(), **kwargs},  # type: ignore[arg-type]
        )


def test_a_station_sees_its_own_slots_with_their_scripts(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    with shipped() as session:
        station = airing.find_station(session, "dtt-go-dau")
        start, end = airing.days_around(settings.today(), settings.zone, 1, 7)
        found = airing.station_slots(session, station, start, end)
    assert [slot.delivery_id for slot in found] == slots["dtt-go-dau"]
    assert all(slot.sent and slot.file and slot.file.endswith(".txt") and slot.state == "unconfirmed" for slot in found)


def test_aired_and_not_aired_are_recorded_audited_and_counted(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    first, second = slots["dtt-go-dau"]
    report(shipped, settings, "dtt-go-dau", first, aired=True)
    report(shipped, settings, "dtt-go-dau", second, aired=False, reason="power")

    with shipped() as session:
        counts = airing.airing_counts(session, timedelta(hours=12), settings.clock.now())
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "link:dtt-go-dau")))
    by_station = {count.station: count for count in counts}
    assert (by_station["dtt-go-dau"].aired, by_station["dtt-go-dau"].not_aired) == (1, 1)
    assert (by_station["dtt-tan-bien"].unconfirmed, by_station["dtt-tan-bien"].overdue) == (2, 0)
    assert actions == ["aired", "not-aired"]


def test_a_correction_keeps_the_history_and_the_latest_counts(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    first = slots["dtt-go-dau"][0]
    report(shipped, settings, "dtt-go-dau", first, aired=False, reason="equipment")
    report(shipped, settings, "dtt-go-dau", first, aired=True, aired_at=None)
    with shipped() as session:
        slot = airing.station_slot(session, airing.find_station(session, "dtt-go-dau"), first)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "aired")).one()
    assert [entry.aired for entry in slot.history] == [False, True]
    assert slot.state == "aired"
    assert audit.details["correction"] is True


def test_unconfirmed_slots_become_overdue_after_the_configured_time(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    with shipped() as session:
        counts = airing.airing_counts(session, timedelta(minutes=15), settings.clock.now())
    assert {count.station: count.overdue for count in counts} == {"dtt-go-dau": 1, "dtt-tan-bien": 1}


@pytest.mark.parametrize(
    ("station", "which", "kwargs", "sentence"),
    [
        ("dtt-go-dau", ("dtt-tan-bien", 0), {"aired": True}, "is not one of the slots of station 'dtt-go-dau'"),
        ("dtt-go-dau", ("dtt-go-dau", 0), {"aired": False}, "say why the script did not air"),
        ("dtt-go-dau", ("dtt-go-dau", 0), {"aired": False, "reason": "lazy"}, "'lazy' is not a reason"),
        ("dtt-go-dau", ("dtt-go-dau", 0), {"aired": False, "reason": "other"}, "write what happened"),
        ("dtt-go-dau", ("dtt-go-dau", 0), {"aired": True, "now_offset": -30}, "has not come yet"),
    ],
)
def test_a_report_the_station_may_not_make_is_refused_with_a_sentence(
    shipped: sessionmaker[Session],
    settings: Settings,
    slots: dict[str, list[int]],
    station: str,
    which: tuple[str, int],
    kwargs: dict[str, object],
    sentence: str,
) -> None:
    offset = kwargs.pop("now_offset", None)
    if offset is not None:
        kwargs["now"] = settings.clock.now() + timedelta(minutes=int(offset))  # type: ignore[call-overload]
    with pytest.raises(airing.Refused, match=sentence):
        report(shipped, settings, station, slots[which[0]][which[1]], **kwargs)


def test_a_slot_outside_the_campaigns_validity_is_refused(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    with transaction(shipped) as session:
        edited = session.scalars(select(Campaign)).one()
        edited.valid_from = edited.valid_until = settings.today() + timedelta(days=3)
    with pytest.raises(airing.Refused, match="is outside the validity of campaign 'phat-thanh'"):
        report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][0], aired=True)


def test_a_time_of_airing_still_to_come_is_refused(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    later = (settings.local_now() + timedelta(minutes=50)).time().replace(second=0, microsecond=0)
    with pytest.raises(airing.Refused, match="is still to come"):
        report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][0], aired=True, aired_at=later)


def test_a_rotated_link_stops_working_at_once(shipped: sessionmaker[Session]) -> None:
    with transaction(shipped) as session:
        station = airing.find_station(session, "dtt-go-dau")
        old = airing.rotate_link(session, station, "operator")
    with transaction(shipped) as session:
        assert airing.station_for_link(session, old).slug == "dtt-go-dau"
        new = airing.rotate_link(session, airing.find_station(session, "dtt-go-dau"), "operator")
    with shipped() as session:
        assert airing.station_for_link(session, new).slug == "dtt-go-dau"
        with pytest.raises(airing.LinkRefused, match="may have been replaced"):
            airing.station_for_link(session, old)


def test_status_and_the_csv_export_show_each_station_by_name_and_each_slots_report(
    cli: Cli, shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    first, second = slots["dtt-go-dau"]
    aired_at = (settings.local_now() - timedelta(minutes=15)).time().replace(second=0, microsecond=0)
    report(shipped, settings, "dtt-go-dau", first, aired=True, aired_at=aired_at)
    report(shipped, settings, "dtt-go-dau", second, aired=False, reason="emergency", note="bão số 3")
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert "radio: did it air?" in status.stdout
    lines = status.stdout.splitlines()
    counts = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if "│" in line]
    assert ["phat-thanh", "Đài Truyền thanh huyện Gò Dầu", "2", "1", "1", "0", "0"] in counts
    assert not any("dtt-go-dau" in line for line in lines), "stations by name, not by slug"
    slot_lines = [line for line in lines if "Đài Truyền thanh huyện Gò Dầu" in line and "/" in line]
    assert any("Aired" in line and f"{aired_at:%H:%M}" in line for line in slot_lines)
    not_aired = ("Not aired", "Replaced by an emergency bulletin", "bão số 3")
    assert any(all(words in line for words in not_aired) for line in slot_lines)

    export = cli("station", "airings", "--csv", tmp_path / "airings.csv")
    assert export.exit_code == 0, export.output
    with (tmp_path / "airings.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    go_dau = [row for row in rows if row["station"] == "dtt-go-dau"]
    fire_times = [f"{moment:%Y-%m-%d %H:%M}" for moment in slot_times(shipped, settings, "dtt-go-dau")]
    assert go_dau == [
        {
            "campaign": "phat-thanh",
            "station": "dtt-go-dau",
            "station name": "Đài Truyền thanh huyện Gò Dầu",
            "slot": "",
            "slot time": fire_times[0],
            "report": "Đã phát",
            "time aired": f"{fire_times[0][:10]} {aired_at:%H:%M}",
            "reason": "",
            "note": "",
            "reported by": "link:dtt-go-dau",
            "reported at": f"{settings.local_now():%Y-%m-%d %H:%M}",
            "overdue": "",
        },
        {
            "campaign": "phat-thanh",
            "station": "dtt-go-dau",
            "station name": "Đài Truyền thanh huyện Gò Dầu",
            "slot": "",
            "slot time": fire_times[1],
            "report": "Không phát",
            "time aired": "",
            "reason": "Thay bằng bản tin khẩn cấp",
            "note": "bão số 3",
            "reported by": "link:dtt-go-dau",
            "reported at": f"{settings.local_now():%Y-%m-%d %H:%M}",
            "overdue": "",
        },
    ]
    assert [row["report"] for row in rows if row["station"] == "dtt-tan-bien"] == ["Chưa xác nhận"] * 2


def slot_times(sessions: sessionmaker[Session], settings: Settings, station: str) -> list:  # type: ignore[type-arg]
    with sessions() as session:
        start, end = airing.days_around(settings.today(), settings.zone, 1, 1)
        found = airing.station_slots(session, airing.find_station(session, station), start, end)
    return [slot.fire_at.astimezone(settings.zone) for slot in found]


def test_a_time_of_airing_before_the_slot_is_refused_as_before_the_slot(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    slot = slot_times(shipped, settings, "dtt-go-dau")[0]
    earlier = (slot - timedelta(minutes=90)).time()
    with pytest.raises(airing.Refused, match=rf"is before the slot \({slot:%H:%M}\)"):
        report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][0], aired=True, aired_at=earlier)
    with pytest.raises(airing.Refused, match="is before the slot"):
        report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][0], aired=True, aired_at=time(0, 5))


def test_a_late_slot_aired_after_midnight_is_taken_on_the_next_day(shipped: sessionmaker[Session]) -> None:
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    slot = datetime(2026, 12, 9, 23, 50, tzinfo=zone)
    now = datetime(2026, 12, 10, 0, 30, tzinfo=zone)
    assert airing._aired_moment(slot, time(0, 10), now, zone) == datetime(2026, 12, 10, 0, 10, tzinfo=zone)
    with pytest.raises(airing.Refused, match="is still to come"):
        airing._aired_moment(slot, time(0, 40), now, zone)


def test_pressing_aired_again_keeps_the_time_stated_before(
    shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]]
) -> None:
    first = slots["dtt-go-dau"][0]
    stated = (settings.local_now() - timedelta(minutes=12)).time().replace(second=0, microsecond=0)
    report(shipped, settings, "dtt-go-dau", first, aired=True, aired_at=stated)
    report(shipped, settings, "dtt-go-dau", first, aired=True)  # the button pressed a second time
    with shipped() as session:
        slot = airing.station_slot(session, airing.find_station(session, "dtt-go-dau"), first)
        reports = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "aired")))
    assert slot.report is not None and slot.report.aired_at is not None
    assert f"{slot.report.aired_at.astimezone(settings.zone):%H:%M}" == f"{stated:%H:%M}"
    assert len(slot.history) == 1 and len(reports) == 1, "nothing new was said"
    report(shipped, settings, "dtt-go-dau", first, aired=True, note="đọc hai lần")
    with shipped() as session:
        slot = airing.station_slot(session, airing.find_station(session, "dtt-go-dau"), first)
    assert slot.report is not None and slot.report.note == "đọc hai lần"
    assert f"{slot.report.aired_at.astimezone(settings.zone):%H:%M}" == f"{stated:%H:%M}"  # type: ignore[union-attr]
