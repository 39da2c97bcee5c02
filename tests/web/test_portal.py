"""The station portal over HTTP: the secret link, the scripts, aired / not aired with a reason, refusals
in the station's language, a rotated link that stops at once, the calendar feed, and the staff's counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts, airing
from broadcaster.db import transaction
from broadcaster.settings import Settings
from tests.radio_slots import aired_slots
from tests.web.conftest import person
from tests.web.console_helpers import sign_in, staff

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
    """Open the station's link; the form token its page gives the portal's forms."""
    answer = client.get(f"/portal/link/{token}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"
    assert "httponly" in answer.headers["set-cookie"].lower()
    return page_form_token(client)


def page_form_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/portal").text)
    assert found, "the portal's page gives its forms a token"
    return found.group(1)


def form(client: TestClient, **fields: str) -> dict[str, str]:
    """A portal form's fields with the form token of the page, as the station's browser sends them."""
    return {**fields, "csrf_token": page_form_token(client)}


def test_the_link_opens_the_stations_own_scripts_in_vietnamese(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    page = client.get("/portal")
    assert page.status_code == 200
    assert "Đài Truyền thanh huyện Gò Dầu" in page.text and 'lang="vi"' in page.text
    for delivery_id in slots["dtt-go-dau"]:
        assert f'id="slot-{delivery_id}"' in page.text
        assert f'href="/portal/slots/{delivery_id}"' in page.text  # "Mở kịch bản": the phone-readable page
    for delivery_id in slots["dtt-tan-bien"]:
        assert f'id="slot-{delivery_id}"' not in page.text
    assert "Chưa xác nhận" in page.text and '<script src="/static/htmx.min.js?v=' in page.text
    assert client.get("/static/htmx.min.js").status_code == 200
    assert "Đăng xuất" in page.text and 'action="/portal/sign-out"' in page.text


def test_the_script_page_sets_apart_what_is_not_read_and_offers_its_files(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first = slots["dtt-go-dau"][0]
    page = client.get(f"/portal/slots/{first}")
    assert page.status_code == 200
    not_read = page.text[page.text.index('class="not-read"') : page.text.index("</aside>")]
    assert "Mức ưu tiên: ưu tiên" in not_read and "Thời lượng đọc ước tính" in not_read
    to_read = page.text[page.text.index('class="to-read"') : page.text.index("</article>")]
    assert "Kính thưa quý vị và bà con!" in to_read and "Mức ưu tiên" not in to_read
    assert f'href="/portal/slots/{first}/txt?download"' in page.text
    text = client.get(f"/portal/slots/{first}/txt")
    assert text.status_code == 200 and text.text.startswith("ĐÀI TRUYỀN THANH HUYỆN GÒ DẦU")
    assert "attachment" in client.get(f"/portal/slots/{first}/txt?download").headers["content-disposition"]
    docx = client.get(f"/portal/slots/{first}/docx")
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    assert "attachment" in docx.headers["content-disposition"]
    if 'id="play"' in page.text:  # espeak-ng installed: one tap plays the draft reading, and it can be saved
        assert client.get(f"/portal/slots/{first}/wav").content[:4] == b"RIFF"
        saved = client.get(f"/portal/slots/{first}/wav?download")
        assert "attachment" in saved.headers["content-disposition"] and 'id="download-wav"' in page.text
    else:
        assert "Chưa có bản đọc thử" in page.text
    other = slots["dtt-tan-bien"][0]
    assert client.get(f"/portal/slots/{other}/txt").status_code == 404
    assert client.get(f"/portal/slots/{other}").status_code == 404


def test_a_slot_is_confirmed_aired_and_another_not_aired_with_a_reason(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first, second = slots["dtt-go-dau"]
    page = client.get("/portal").text
    assert '<option value=""></option>' not in page and 'type="radio" name="reason" value="equipment"' in page
    aired = client.post(f"/portal/slots/{first}", data=form(client, aired="1"), headers=HTMX)
    assert aired.status_code == 200 and "Đã phát lúc" in aired.text and f'id="slot-{first}"' in aired.text
    # Once confirmed, the card folds its forms away under "Sửa xác nhận".
    assert aired.text.index('<details class="change">') < aired.text.index('class="aired"')
    missing_reason = client.post(f"/portal/slots/{second}", data=form(client, aired="0", note="x"), headers=HTMX)
    assert missing_reason.status_code == 422
    assert "Hãy chọn lý do không phát" in missing_reason.text
    assert '<details class="not-aired" open>' in missing_reason.text and 'value="x"' in missing_reason.text
    not_aired = client.post(f"/portal/slots/{second}", data=form(client, aired="0", reason="power"), headers=HTMX)
    assert not_aired.status_code == 200 and "Không phát: Mất điện" in not_aired.text
    assert "Chưa phát" not in not_aired.text
    with sessions() as session:
        counts = {
            count.station: count
            for count in airing.airing_counts(session, timedelta(hours=12), web_settings.clock.now())
        }
    assert (counts["dtt-go-dau"].aired, counts["dtt-go-dau"].not_aired) == (1, 1)


def test_an_airing_time_before_the_slot_is_refused_as_before_the_slot(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first = slots["dtt-go-dau"][0]
    early = (web_settings.local_now() - timedelta(hours=2)).strftime("%H:%M")
    answer = client.post(f"/portal/slots/{first}", data=form(client, aired="1", aired_at=early), headers=HTMX)
    assert answer.status_code == 422 and f"Giờ phát {early} sớm hơn khung giờ" in answer.text
    assert "chưa đến" not in answer.text


def test_pressing_aired_again_does_not_replace_the_time_stated(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    second = slots["dtt-go-dau"][1]
    stated = (web_settings.local_now() - timedelta(minutes=4)).strftime("%H:%M")
    assert client.post(
        f"/portal/slots/{second}", data=form(client, aired="1", aired_at=stated), headers=HTMX
    ).is_success
    again = client.post(f"/portal/slots/{second}", data=form(client, aired="1"), headers=HTMX)
    assert again.status_code == 200 and f"Đã phát lúc {stated}" in again.text


def test_today_lists_the_slots_still_to_come_today(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    from broadcaster.examples import import_examples

    with transaction(sessions) as session:
        import_examples(session)
    later = (timedelta(hours=2), timedelta(hours=8), timedelta(days=1, hours=2))
    aired_slots(sessions, web_settings, still_to_come=later)
    signed_in(client, new_link(sessions))
    page = client.get("/portal").text
    today = page[page.index('id="today"') : page.index("</section>", page.index('id="today"'))]
    soon = (web_settings.local_now() + timedelta(hours=2)).strftime("%H:%M")
    evening = (web_settings.local_now() + timedelta(hours=8)).strftime("%H:%M")
    assert "Không có kịch bản nào" not in page and "Hôm nay không có khung giờ nào" not in today
    assert f"Chưa đến giờ: kịch bản có lúc {soon}." in today and f"<strong>{evening}</strong>" in today
    coming = page[page.index('id="later"') :]
    assert f"<strong>{soon}</strong>" in coming  # tomorrow's slot at the same time, under the coming days


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


def test_a_missing_sign_in_says_what_to_do_for_an_account_and_for_a_link(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    nobody = client.get("/portal")
    assert nobody.status_code == 401 and "Hãy đăng nhập bằng tài khoản của đài" in nobody.text
    assert 'href="/login?next=/portal"' in nobody.text
    client.cookies.set("bc_console", "an-ended-sign-in")
    ended = client.get("/portal")
    assert ended.status_code == 401 and "Phiên đăng nhập đã hết. Hãy đăng nhập lại" in ended.text
    assert "mở lại đường dẫn" not in ended.text.lower()
    client.cookies.clear()
    signed_in(client, new_link(sessions))
    new_link(sessions)  # the operator replaces the link
    replaced = client.get("/portal")
    assert replaced.status_code == 401 and "Đường dẫn riêng của đài đã được thay" in replaced.text


def test_a_station_signs_out_with_its_link_and_with_its_account(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    token = signed_in(client, new_link(sessions))
    refused = client.post("/portal/sign-out", follow_redirects=False)  # another site cannot sign a station out
    assert refused.status_code == 403 and "Yêu cầu đăng xuất không gửi từ trang của đài" in refused.text
    assert client.get("/portal").status_code == 200
    bye = client.post("/portal/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert bye.status_code == 303 and bye.headers["location"] == "/portal/signed-out"
    assert client.get("/portal").status_code == 401
    assert "Đã đăng xuất" in client.get("/portal/signed-out").text

    with transaction(sessions) as session:
        accounts.create_account(session, "dai-go-dau", "station", password="mật khẩu của đài", stations=["dtt-go-dau"])
    login = client.get("/login")
    token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    login_form = {"login": "dai-go-dau", "password": "mật khẩu của đài", "csrf_token": token}
    assert client.post("/login", data=login_form, follow_redirects=False).headers["location"] == "/portal"
    page = client.get("/portal")
    assert page.status_code == 200 and 'action="/portal/sign-out"' in page.text
    bye = client.post("/portal/sign-out", data=form(client), follow_redirects=False)
    assert bye.headers["location"] == "/login"
    assert client.get("/portal").status_code == 401


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
        "station_name": "Đài Truyền thanh huyện Gò Dầu",
        "slots": 2,
        "aired": 1,
        "not_aired": 0,
        "unconfirmed": 1,
        "overdue": 0,
    } in counts.json()
    exported = client.get("/api/v1/radio/airings.csv?campaign=phat-thanh", headers=operator.headers)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["station name"], row["report"]) for row in rows] == [
        ("Đài Truyền thanh huyện Gò Dầu", "Đã phát"),
        ("Đài Truyền thanh huyện Gò Dầu", "Chưa xác nhận"),
        ("Đài Truyền thanh huyện Tân Biên", "Chưa xác nhận"),
        ("Đài Truyền thanh huyện Tân Biên", "Chưa xác nhận"),
    ]
    each = client.get("/api/v1/radio/slots?campaign=phat-thanh&days=1", headers=operator.headers).json()
    assert [(item["station_name"], item["state"]) for item in each][:2] == [
        ("Đài Truyền thanh huyện Gò Dầu", "aired"),
        ("Đài Truyền thanh huyện Gò Dầu", "unconfirmed"),
    ]
    station_account = person(sessions, "dai go dau", "station", stations=["dtt-go-dau"])
    assert client.get("/api/v1/radio/airings", headers=station_account.headers).status_code == 403


def test_the_monitor_and_the_audit_log_say_each_slots_report_in_words(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, slots: dict[str, list[int]]
) -> None:
    signed_in(client, new_link(sessions))
    first, second = slots["dtt-go-dau"]
    assert client.post(f"/portal/slots/{first}", data=form(client, aired="1"), headers=HTMX).is_success
    sent = form(client, aired="0", reason="power", note="mất điện cả xã")
    assert client.post(f"/portal/slots/{second}", data=sent, follow_redirects=False).status_code == 303
    client.cookies.clear()
    staff(sessions, "hoa", "operator")
    sign_in(client, "hoa")
    monitor = client.get("/campaigns/phat-thanh/monitor").text
    counts = monitor[monitor.index('id="airing"') : monitor.index("</table>", monitor.index('id="airing"'))]
    assert "Đài Truyền thanh huyện Gò Dầu" in counts and "dtt-go-dau" not in counts
    each = monitor[monitor.index('id="airing-slots"') :]
    assert "Không phát" in each and "Mất điện" in each and "mất điện cả xã" in each and "Đã phát" in each
    log = client.get("/audit?action=not-aired").text
    details = log[log.index('<td class="details">') :]
    assert "Lý do:</span> Mất điện" in details and "reason:" not in details and "power" not in details
    assert "Đài:</span> Đài Truyền thanh huyện Gò Dầu" in details
    with sessions() as session:
        slot = airing.station_slot(session, airing.find_station(session, "dtt-go-dau"), second)
    assert f"Giờ theo lịch:</span> Thứ Tư {slot.fire_at.astimezone(web_settings.zone):%d/%m/%Y %H:%M}" in details
    assert "Sửa lần báo trước:</span> không" in details


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
