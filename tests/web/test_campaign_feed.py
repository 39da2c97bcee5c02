"""A campaign's calendar at a secret link a phone calendar can subscribe to: no sign-in, read by the
`icalendar` package as a phone would; replacing the link (with the permission, audited) ends the old one."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.models import AuditEntry
from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, form_token, sign_in, staff


def shown_link(client: TestClient, slug: str, settings: Settings) -> str:
    """The link on the campaign's monitor page, as a path of this app."""
    page = client.get(f"/campaigns/{slug}/monitor").text
    found = re.search(r'id="feed-link" value="([^"]+)"', page)
    assert found, "the monitor shows the calendar link"
    link = html.unescape(found.group(1))
    assert link.startswith(settings.public_url)
    return link.removeprefix(settings.public_url)


def subscribe(app: FastAPI, path: str) -> tuple[int, str]:
    """What a phone calendar gets: no cookie, no token, just the link."""
    with TestClient(app, raise_server_exceptions=False) as phone:
        answer = phone.get(path)
    return answer.status_code, answer.text


def test_a_phone_calendar_subscribes_without_signing_in_and_a_replaced_link_stops_at_once(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    staff(sessions, "hai", "operator")
    sign_in(client, "hai")
    old = shown_link(client, slug, web_settings)
    assert old == shown_link(client, slug, web_settings), "the same link every time the page is shown"

    status, body = subscribe(app, old)
    assert status == 200
    calendar = Calendar.from_ical(body)
    assert "881/STTTT-TTr" in str(calendar["X-WR-CALNAME"])
    events = calendar.walk("VEVENT")
    assert events and all(str(event["STATUS"]) == "CONFIRMED" for event in events)
    assert any(str(event["SUMMARY"]).startswith("Tin nhắn SMS") for event in events)

    token = form_token(client.get(f"/campaigns/{slug}/monitor").text)
    rotated = client.post(f"/campaigns/{slug}/feed-link/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200 and "Đã đổi liên kết lịch; liên kết cũ không còn dùng được." in rotated.text
    new = shown_link(client, slug, web_settings)
    assert new != old
    assert subscribe(app, old) == (404, "This calendar link is not valid: it may have been replaced by a newer one.")
    status, body = subscribe(app, new)
    assert status == 200 and len(Calendar.from_ical(body).walk("VEVENT")) == len(events)
    with sessions() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "rotate-feed-link")).all()
    assert [entry.actor for entry in audited] == ["hai"]
    assert old.rsplit("/", 1)[1] not in str(audited[0].details), "the audit log holds no link"


def test_replacing_the_link_needs_the_send_permission_and_a_made_up_link_opens_nothing(
    app: FastAPI, client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    token = sign_in(client, "minh")  # an approver: reads the monitor, cannot send
    page = client.get(f"/campaigns/{slug}/monitor").text
    assert 'id="feed-link"' in page and 'id="rotate-feed-link"' not in page
    refused = client.post(f"/campaigns/{slug}/feed-link/rotate", data={"csrf_token": token})
    assert refused.status_code == 403
    link = shown_link(client, slug, web_settings)
    assert subscribe(app, link)[0] == 200, "the link did not change"
    assert subscribe(app, link.replace(slug, "khac"))[0] == 404
    assert subscribe(app, link[:-8] + "AAAA.ics")[0] == 404
