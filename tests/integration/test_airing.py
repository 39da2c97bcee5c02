"""Stations say whether each slot aired: refused where it must be, audited, correctable with history,
and counted for staff (aired / not aired / unconfirmed / overdue) in `status` and a CSV export."""

from __future__ import annotations

import csv
from datetime import time, timedelta

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


def test_status_and_the_csv_export_show_the_counts(
    cli: Cli, shipped: sessionmaker[Session], settings: Settings, slots: dict[str, list[int]], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][0], aired=True)
    report(shipped, settings, "dtt-go-dau", slots["dtt-go-dau"][1], aired=False, reason="emergency")
    status = cli("status")
    assert status.exit_code == 0, status.output
    assert "radio: did it air?" in status.stdout
    assert any(
        line.split()[:7] == ["│", "phat-thanh", "│", "dtt-go-dau", "│", "2", "│"] for line in status.stdout.splitlines()
    )
    export = cli("station", "airings", "--csv", tmp_path / "airings.csv")
    assert export.exit_code == 0, export.output
    with (tmp_path / "airings.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0] == {
        "campaign": "phat-thanh",
        "station": "dtt-go-dau",
        "slots": "2",
        "aired": "1",
        "not_aired": "1",
        "unconfirmed": "0",
        "overdue": "0",
    }
