"""A station's calendar feed as a phone calendar sees it (RFC 5545, read with the `icalendar` package): one
event per campaign, station and slot time from planning to airing, so the phone keeps it (and its reminder)
when the slot fires and when the station reports on it; local times with their VTIMEZONE; the same feed
twice says the same thing; a slot not aired is cancelled; a reminder when the station asks for one."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar, Event
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts, airing
from broadcaster.clock import FixedClock
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.web.app import create_app
from broadcaster.workers import Worker
from tests.moment import WEDNESDAY, coming
from tests.scenario import campaign, local
from tests.web.test_portal import form

ZONE = "Asia/Ho_Chi_Minh"


@pytest.fixture
def clock(web_settings: Settings) -> FixedClock:
    """A clock that stands still until a test moves it: Wednesday 10:00 in the issuer's zone."""
    return FixedClock(coming(WEDNESDAY, time(10), web_settings.zone))


@pytest.fixture
def settings(web_settings: Settings, clock: FixedClock) -> Settings:
    return web_settings.with_clock(clock)


@pytest.fixture
def phone(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """The station's portal and feeds, on the clock the test moves."""
    with TestClient(create_app(settings, sessions), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def radio_campaign(sessions: sessionmaker[Session], settings: Settings, clock: FixedClock) -> list[datetime]:
    """A campaign whose radio slots for Gò Dầu are 30 minutes and 2 hours away, not fired yet."""
    with transaction(sessions) as session:
        import_examples(session)
    now = clock.now()
    times = [now + timedelta(minutes=30), now + timedelta(hours=2)]
    radio = {"to": ["station:dtt-go-dau"], "schedule": [{"at": local(moment, settings)} for moment in times]}
    campaign(sessions, settings, {"radio": radio}, slug="phat-thanh", sendable_since=now - timedelta(hours=1))
    return times


def link_into_portal(phone: TestClient, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        token = airing.rotate_link(session, airing.find_station(session, "dtt-go-dau"), "operator")
    assert phone.get(f"/portal/link/{token}", follow_redirects=False).status_code == 303


def feed_path(phone: TestClient, settings: Settings, remind: int | None = None) -> str:
    """The feed's address as the portal shows it to the station (the address part a phone fetches)."""
    page = phone.get("/portal" + (f"?remind={remind}" if remind is not None else "")).text
    address = html.unescape(page.split('id="feed-link" value="')[1].split('"')[0])
    assert address.startswith(f"{settings.public_url}/portal/calendar/dtt-go-dau/")
    return address.removeprefix(settings.public_url)


def events(phone: TestClient, path: str) -> dict[str, Event]:
    """What a phone calendar keeps after a refresh: the feed parsed, its events by UID."""
    answer = phone.get(path)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    found = {str(event["uid"]): event for event in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT")), "one event per UID"
    return found


def fire_due_slots(sessions: sessionmaker[Session], settings: Settings) -> None:
    with transaction(sessions) as session:
        catch_up(session, settings, settings.clock.now())
    Worker(sessions, settings, ["radio"], "radio-worker").drain(timeout=60)


def test_the_feed_is_valid_icalendar_in_local_time_with_its_timezone(
    phone: TestClient, sessions: sessionmaker[Session], settings: Settings, radio_campaign: list[datetime]
) -> None:
    link_into_portal(phone, sessions)
    path = feed_path(phone, settings)
    body = phone.get(path).content
    calendar = Calendar.from_ical(body)  # the RFC 5545 grammar, as icalendar reads it
    zones = calendar.walk("VTIMEZONE")
    assert [str(zone["tzid"]) for zone in zones] == [ZONE]
    found = calendar.walk("VEVENT")
    assert len(found) == 2
    for event, slot in zip(found, radio_campaign, strict=True):
        assert event["dtstart"].params["TZID"] == ZONE  # local time, named: no event in UTC, none floating
        assert event.decoded("dtstart") == slot
        assert f"{event.decoded('dtstart'):%H:%M}" == f"{slot.astimezone(settings.zone):%H:%M}"
        assert event["status"] == "CONFIRMED" and "dtstamp" in event
        assert "cảnh báo các cuộc gọi giả danh" in str(event["summary"])
    assert b"\r\nBEGIN:VTIMEZONE" in body and b"TZID=Asia/Ho_Chi_Minh:" in body
    again = phone.get(path)
    assert again.content == body, "the same feed fetched twice says the same thing (DTSTAMP included)"
    assert phone.get(path, headers={"If-None-Match": again.headers["etag"]}).status_code == 304


def test_a_phone_keeps_each_event_from_planning_through_airing_and_a_not_aired_slot_is_cancelled(
    phone: TestClient,
    sessions: sessionmaker[Session],
    settings: Settings,
    clock: FixedClock,
    radio_campaign: list[datetime],
) -> None:
    link_into_portal(phone, sessions)
    path = feed_path(phone, settings, remind=15)
    planned = events(phone, path)
    first_uid, second_uid = sorted(planned, key=lambda uid: planned[uid].decoded("dtstart"))
    assert all(len(event.walk("VALARM")) == 1 for event in planned.values())
    assert planned[first_uid].walk("VALARM")[0].decoded("trigger") == timedelta(minutes=-15)

    clock.advance(timedelta(minutes=31))  # the first slot fires: its script is written for the station
    fire_due_slots(sessions, settings)
    fired = events(phone, path)
    assert set(fired) == set(planned), "the phone finds the same events: nothing dropped and made again"
    assert fired[first_uid].decoded("dtstart") == planned[first_uid].decoded("dtstart")
    with sessions() as session:
        start, end = airing.days_around(settings.today(), settings.zone, 1, 1)
        (slot,) = airing.station_slots(session, airing.find_station(session, "dtt-go-dau"), start, end)
    assert str(fired[first_uid]["url"]) == f"{settings.public_url}/portal/slots/{slot.delivery_id}"
    assert fired[first_uid].decoded("dtstamp") != planned[first_uid].decoded("dtstamp")  # it changed
    assert fired[second_uid].to_ical() == planned[second_uid].to_ical()  # the other did not

    report = phone.post(f"/portal/slots/{slot.delivery_id}", data=form(phone, aired="0", reason="power"))
    assert report.status_code in (200, 303)
    reported = events(phone, path)
    assert set(reported) == set(planned)
    assert reported[first_uid]["status"] == "CANCELLED" and reported[first_uid]["sequence"] == 1
    assert "Không phát: Mất điện" in str(reported[first_uid]["description"])
    assert not reported[first_uid].walk("VALARM"), "no reminder for a slot that will not air"
    assert reported[second_uid]["status"] == "CONFIRMED"


def test_without_a_reminder_chosen_the_feed_has_no_alarm(
    phone: TestClient, sessions: sessionmaker[Session], settings: Settings, radio_campaign: list[datetime]
) -> None:
    link_into_portal(phone, sessions)
    page = phone.get("/portal").text
    assert 'value="15" selected' in page  # a reminder a quarter of an hour ahead unless the station says not
    assert not any(event.walk("VALARM") for event in events(phone, feed_path(phone, settings, remind=0)).values())


def test_a_station_signed_in_with_its_account_gets_its_feed_and_a_new_link_ends_it(
    phone: TestClient, sessions: sessionmaker[Session], settings: Settings, radio_campaign: list[datetime]
) -> None:
    with transaction(sessions) as session:
        accounts.create_account(session, "dai-go-dau", "station", password="mật khẩu của đài", stations=["dtt-go-dau"])
    token = phone.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"login": "dai-go-dau", "password": "mật khẩu của đài", "csrf_token": token}
    assert phone.post("/login", data=form, follow_redirects=False).headers["location"] == "/portal"
    page = phone.get("/portal").text
    for shown in ("Lịch phát trên điện thoại", "Thêm vào Lịch iPhone", "Thêm vào Google Lịch (Android)", "ICSx⁵"):
        assert shown in page
    assert 'href="webcal://' in page and "https://calendar.google.com/calendar/render?cid=webcal%3A%2F%2F" in page
    path = feed_path(phone, settings)
    assert len(events(phone, path)) == 2
    phone.cookies.clear()
    assert phone.get(path).status_code == 200, "the phone's calendar fetches with no sign-in of its own"
    link_into_portal(phone, sessions)  # the operator gives the station a new link: old feeds end with it
    assert phone.get(path).status_code == 403


def test_a_calendar_subscribed_to_the_old_link_address_keeps_working(
    phone: TestClient, sessions: sessionmaker[Session], settings: Settings, radio_campaign: list[datetime]
) -> None:
    with transaction(sessions) as session:
        token = airing.rotate_link(session, airing.find_station(session, "dtt-go-dau"), "operator")
    assert len(events(phone, f"/portal/link/{token}/calendar.ics")) == 2
    assert phone.get("/portal/link/dai_not-a-link/calendar.ics").status_code == 403
    assert phone.get("/portal/calendar/dtt-go-dau/not-the-token.ics").status_code == 403
