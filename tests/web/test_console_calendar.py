"""The calendar: planned fires across campaigns on the right weekdays (month and week views, colours by
status, links to the campaign), and the campaign's ICS feed read back with the icalendar package."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import draft_campaign, sign_in, staff


def _facebook_days(html: str) -> set[date]:
    """The days whose cells hold a Facebook post (the campaign's `0 19 * * 1,4`: Monday and Thursday)."""
    days = set()
    for cell in html.split('<td id="day-')[1:]:
        if "trang Facebook" in cell.split("</td>")[0]:
            days.add(date.fromisoformat(cell[:10]))
    return days


def test_the_week_and_month_views_put_each_post_on_its_weekday_in_the_drafts_colour(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    staff(sessions, "lan", "drafter")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    sign_in(client, "lan")
    in_a_week = web_settings.today() + timedelta(days=7)
    week = client.get("/calendar", params={"view": "week", "day": in_a_week.isoformat()})
    assert week.status_code == 200
    assert "<th>Thứ Hai</th>" in week.text and "<th>Chủ Nhật</th>" in week.text
    days = _facebook_days(week.text)
    assert {day.weekday() for day in days} == {0, 3}, days  # Thứ Hai and Thứ Năm
    assert f'class="fire status-draft" href="/campaigns/{slug}"' in week.text
    assert "19:00" in week.text
    month = client.get("/calendar", params={"view": "month", "day": in_a_week.isoformat()})
    assert {day.weekday() for day in _facebook_days(month.text)} == {0, 3}
    assert "×5 truyền thanh" in month.text  # a day's five radio slot times in one line


def test_a_bad_day_is_a_sentence(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    page = client.get("/calendar", params={"day": "30/11/2026"})
    assert page.status_code == 400 and "is not a date (YYYY-MM-DD)" in page.text


def test_the_campaigns_ics_feed_has_its_fires(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    staff(sessions, "lan", "drafter")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    sign_in(client, "lan")
    feed = client.get(f"/campaigns/{slug}/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    posts = [event for event in events if str(event["summary"]).startswith("Trang Facebook")]
    assert posts and {event.decoded("dtstart").astimezone(web_settings.zone).weekday() for event in posts} == {0, 3}
    assert all(str(event["url"]).endswith(f"/campaigns/{slug}") for event in events)
