"""A campaign's results, per channel, area, station, subscriber list and day, from the kept counts and
grouped queries, on SQLite and PostgreSQL, with known numbers (`tests/results_scenario.py`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.accounts import Actor
from broadcaster.clock import FixedClock
from broadcaster.operations.results import BadPeriod, Results, campaign_results
from broadcaster.settings import Settings
from tests.results_scenario import GO_DAU, LIST, NEW_PROVINCE, OLD_PROVINCE, SLUG, THANH_DUC, moment, results_campaign

READER = Actor("doc", frozenset({"campaigns:read"}))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_clock(FixedClock(moment(settings)))


@pytest.fixture
def reported(shipped: sessionmaker[Session], settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    results_campaign(shipped, settings, tmp_path)
    return shipped


def results(sessions: sessionmaker[Session], settings: Settings, **kwargs: object) -> Results:
    with sessions() as session:
        return campaign_results(session, READER, settings, **kwargs)  # type: ignore[arg-type]


def test_each_channel_counts_what_it_reached(reported: sessionmaker[Session], settings: Settings) -> None:
    found = results(reported, settings, slug=SLUG)
    channels = {item.channel: item for item in found.channels}
    assert [item.channel for item in found.channels] == ["email", "sms", "facebook", "radio"]
    email, sms, facebook, radio = (channels[name].deliveries for name in ("email", "sms", "facebook", "radio"))
    assert (email.planned, email.sent, email.failed) == (5, 4, 1)
    assert (sms.planned, sms.sent, sms.delivered, sms.undelivered, sms.unknown) == (14, 13, 9, 2, 1)
    assert (sms.awaiting_report, sms.failed) == (1, 1)
    assert (channels["sms"].fires, channels["sms"].fires_missed) == (3, 1)  # the test send is not a fire
    assert (facebook.planned, facebook.sent, facebook.failed) == (2, 1, 1)
    assert (radio.planned, radio.sent) == (4, 4)
    airing = channels["radio"].airing
    assert airing is not None
    assert (airing.slots, airing.aired, airing.not_aired, airing.unconfirmed, airing.overdue) == (4, 1, 1, 2, 1)
    assert airing.not_aired_reasons == {"power": 1}
    assert found.campaigns == [SLUG]


def test_by_station_list_and_day(reported: sessionmaker[Session], settings: Settings) -> None:
    found = results(reported, settings, slug=SLUG)
    stations = {item.station: item.airing for item in found.stations}
    assert (stations["dtt-go-dau"].aired, stations["dtt-go-dau"].not_aired) == (1, 1)
    assert (stations["dtt-tan-bien"].unconfirmed, stations["dtt-tan-bien"].overdue) == (2, 1)
    assert [(item.list, item.deliveries.planned, item.deliveries.delivered) for item in found.lists] == [(LIST, 14, 9)]
    today, yesterday = settings.today(), settings.today() - timedelta(days=1)
    days = {(item.day, item.channel): item.deliveries for item in found.days}
    assert days[(yesterday, "sms")].planned == 10 and days[(today, "sms")].planned == 4
    assert days[(today, "facebook")].failed == 1 and days[(yesterday, "email")].sent == 4


def test_areas_fold_the_2025_reform_into_todays_map(reported: sessionmaker[Session], settings: Settings) -> None:
    areas = {(item.province, item.area, item.channel): item for item in results(reported, settings, slug=SLUG).areas}
    go_dau = areas[(NEW_PROVINCE, GO_DAU, "sms")]  # five successors: counted under their province, by its own name
    assert (go_dau.deliveries.planned, go_dau.folded_from) == (11, [GO_DAU])
    assert areas[(NEW_PROVINCE, THANH_DUC, "sms")].deliveries.planned == 3
    assert areas[(OLD_PROVINCE, OLD_PROVINCE, "email")].deliveries.failed == 1
    assert areas[(NEW_PROVINCE, GO_DAU, "radio")].deliveries.sent == 2


def test_a_period_counts_only_its_days(reported: sessionmaker[Session], settings: Settings) -> None:
    today = settings.today()
    found = results(reported, settings, start=today, end=today)
    channels = {item.channel: item.deliveries for item in found.channels}
    assert found.campaign is None and found.campaigns == [SLUG]
    assert (channels["sms"].planned, channels["sms"].delivered, channels["sms"].failed) == (4, 3, 1)
    assert "email" not in channels
    assert {item.day for item in found.days} == {today}


def test_a_period_must_make_sense(reported: sessionmaker[Session], settings: Settings) -> None:
    today = settings.today()
    with pytest.raises(BadPeriod, match="before it starts"):
        results(reported, settings, start=today, end=today - timedelta(days=1))
    with pytest.raises(BadPeriod, match="needs a period"):
        results(reported, settings)
