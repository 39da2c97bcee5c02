"""The station portal over HTTP: the secret link, the scripts, aired / not aired with a reason, refusals
in the station's language, a rotated link that stops at once, the calendar feed, and the staff's counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airing
from broadcaster.db import transaction
from broadcaster.settings import Settings
from tests.radio_slots import aired_slots
from tests.web.conftest import person

HTMX = {"HX-Request": "true"}


@pytest.fixture
def slots(sessions: sessionmaker[Session], web_settings: Settings) -> dict[str, list[int]]:
    from broadcaster.examples import import_examples

    with transaction(sessions) as session:
        import_examples(session)
    return aired_slots(sessions, web_settings)


def new_link(sessions: sessionmaker[Session], station: str = "dtt-go-dau") -> str:
    with transaction(sessions) as session:
        return airing.rotate_link(session, airing.find_station(session, station), "operator")


def signed_in(client: TestClient, token: str) -> str:
    """Open the station's link; the form token the portal's forms carry (sent with every POST below)."""
    answer = client.get(f"/portal/link/{token}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"
    assert "httponly" in answer.headers["set-cookie"].lower()
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/portal").text)
    FORM_TOKENS[id(client)] = found.group(1) if found else ""
    return FORM_TOKENS[id(client)]


FORM_TOKENS: dict[int, str] = {}  # the form token each test client's station was given


def form(client: TestClient, **fields: str) -> dict[str, str]:
    """A portal form's fields with the form token of the signed-in station."""
    return {**fields, "csrf_token": FORM_TOKENS.get(id(client), "")}


def test_the_link_opens_the_stations_own_scripts_in_vietnamese(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    page = client.get("/portal")
    assert page.status_code == 200
    assert "Đài Truyền thanh huyện Gò Dầu" in page.text and 'lang="vi"' in page.text
    for delivery_id in slots["dtt-go-dau"]:
        assert f'id="slot-{delivery_id}"' in page.text
        assert f"/portal/slots/{delivery_id}/txt" in page.text
    for delivery_id in slots["dtt-tan-bien"]:
        assert f'id="slot-{delivery_id}"' not in page.text
    assert "Chưa xác nhận" in page.text and '<script src="/static/htmx.min.js"' in page.text
    assert client.get("/static/htmx.min.js").status_code == 200


def test_the_script_and_its_print_and_audio_are_downloaded_from_the_stations_folder(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first = slots["dtt-go-dau"][0]
    text = client.get(f"/portal/slots/{first}/txt")
    assert text.status_code == 200 and text.text.startswith("ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU")
    docx = client.get(f"/portal/slots/{first}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert "attachment" in docx.headers["content-disposition"]
    page = client.get("/portal").text
    if "<audio" in page:  # espeak-ng installed: the draft reading is offered beside the script
        assert client.get(f"/portal/slots/{first}/wav").content[:4] == b"RIFF"
    else:
        assert "Chưa có bản đọc thử" in page
    other = slots["dtt-tan-bien"][0]
    assert client.get(f"/portal/slots/{other}/txt").status_code == 404


def test_a_slot_is_confirmed_aired_and_another_not_aired_with_a_reason(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first, second = slots["dtt-go-dau"]
    aired = client.post(f"/portal/slots/{first}", data=form(client, aired="1"), headers=HTMX)
    assert aired.status_code == 200 and "Đã phát lúc" in aired.text and f'id="slot-{first}"' in aired.text
    missing_reason = client.post(f"/portal/slots/{second}", data=form(client, aired="0"), headers=HTMX)
    assert missing_reason.status_code == 422
    assert "Hãy chọn lý do chưa phát" in missing_reason.text
    not_aired = client.post(f"/portal/slots/{second}", data=form(client, aired="0", reason="power"), headers=HTMX)
    assert not_aired.status_code == 200 and "Chưa phát: Mất điện" in not_aired.text
    with sessions() as session:
        counts = {
            count.station: count
            for count in airing.airing_counts(session, timedelta(hours=12), web_settings.clock.now())
        }
    assert (counts["dtt-go-dau"].aired, counts["dtt-go-dau"].not_aired) == (1, 1)


def test_without_javascript_a_confirmation_posts_and_comes_back_to_the_page(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first = slots["dtt-go-dau"][0]
    answer = client.post(
        f"/portal/slots/{first}", data=form(client, aired="1", aired_at="99:99"), follow_redirects=False
    )
    assert answer.status_code == 422 and "&#39;99:99&#39; không phải là giờ" in answer.text
    answer = client.post(f"/portal/slots/{first}", data=form(client, aired="1"), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/portal#slot-{first}"


def test_another_stations_slot_is_refused_in_the_stations_language(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    other = slots["dtt-tan-bien"][0]
    answer = client.post(f"/portal/slots/{other}?lang=en", data=form(client, aired="1"), follow_redirects=False)
    assert answer.status_code == 422 and "This slot is not one of your station&#39;s." in answer.text
    with sessions() as session:
        assert airing.airing_counts(session, timedelta(hours=12), web_settings.clock.now())[1].aired == 0


def test_a_rotated_link_stops_working_at_once_and_ends_its_sessions(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    old = new_link(sessions)
    signed_in(client, old)
    assert client.get("/portal").status_code == 200
    new = new_link(sessions)
    assert client.get("/portal").status_code == 401  # the cookie came from the old link
    refused = client.get(f"/portal/link/{old}", follow_redirects=False)
    assert refused.status_code == 403 and "không còn hiệu lực" in refused.text
    signed_in(client, new)
    assert client.get("/portal").status_code == 200


def test_a_forged_cookie_is_not_a_station(client: TestClient, slots: dict[str, list[int]]) -> None:
    client.cookies.set("bc_station", "1.0123456789abcdef.00000000000000000000000000000000")
    assert client.get("/portal").status_code == 401


def test_the_calendar_feed_has_each_script_at_its_slot_time(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    token = new_link(sessions)
    answer = client.get(f"/portal/link/{token}/calendar.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(answer.content)
    events = list(calendar.walk("VEVENT"))
    with sessions() as session:
        station = airing.find_station(session, "dtt-go-dau")
        start, end = airing.days_around(web_settings.today(), web_settings.zone, 1, 1)
        expected = airing.station_slots(session, station, start, end)
    assert [str(event["uid"]) for event in events] == [f"{slot.key}@dtt-go-dau" for slot in expected]
    assert [event.decoded("dtstart") for event in events] == [slot.fire_at for slot in expected]
    assert all(str(event["url"]).startswith(f"{web_settings.public_url}/portal/link/{token}#slot-") for event in events)
    assert all("cảnh báo các cuộc gọi giả danh" in str(event["summary"]) for event in events)
    assert client.get("/portal/link/dai_not-a-link/calendar.ics").status_code == 403


def test_staff_see_the_counts_in_the_api_and_as_csv(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    with transaction(sessions) as session:
        station = airing.find_station(session, "dtt-go-dau")
        airing.report_airing(
            session,
            station,
            slots["dtt-go-dau"][0],
            aired=True,
            by="link:dtt-go-dau",
            zone=station_zone(),
            now=web_settings.clock.now(),
        )
    operator = person(sessions, "hoa", "operator")
    counts = client.get("/api/v1/radio/airings", headers=operator.headers)
    assert counts.status_code == 200
    assert {
        "campaign": "phat-thanh",
        "station": "dtt-go-dau",
        "slots": 2,
        "aired": 1,
        "not_aired": 0,
        "unconfirmed": 1,
        "overdue": 0,
    } in counts.json()
    exported = client.get("/api/v1/radio/airings.csv?campaign=phat-thanh", headers=operator.headers)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["station"] for row in rows] == ["dtt-go-dau", "dtt-tan-bien"]
    station_account = person(sessions, "dai go dau", "station", stations=["dtt-go-dau"])
    assert client.get("/api/v1/radio/airings", headers=station_account.headers).status_code == 403


def station_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_confirmation_from_another_site_is_refused_and_not_recorded(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    """Another site can make a station's browser send its cookie, but cannot read the page's form token;
    and a browser says where a form came from."""
    token = signed_in(client, new_link(sessions))
    first = slots["dtt-go-dau"][0]
    no_token = client.post(f"/portal/slots/{first}", data={"aired": "1"}, follow_redirects=False)
    assert no_token.status_code == 403 and "không gửi từ trang của đài" in no_token.text
    elsewhere = {"Origin": "https://evil.example"}
    foreign = client.post(f"/portal/slots/{first}", data=form(client, aired="1"), headers=elsewhere)
    assert foreign.status_code == 403
    with sessions() as session:
        assert airing.airing_counts(session, timedelta(hours=12), web_settings.clock.now())[0].aired == 0
    ours = {"Origin": "http://testserver"}
    sent = client.post(f"/portal/slots/{first}", data=form(client, aired="1"), headers=ours, follow_redirects=False)
    assert sent.status_code == 303 and token
