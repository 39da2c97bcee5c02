"""Signing in to the console: server-side sessions (hashed at rest, revocable, idle timeout), CSRF on every
form, cookie flags, the station account sent to its portal, and error pages that are sentences."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import ConsoleSession, Delivery, KeptCredential
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.web.console_helpers import PASSWORD, form_token, sign_in, staff


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login_page(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    page = client.get("/")
    assert "Đăng nhập" in page.text and 'id="login"' in page.text


def test_a_page_asked_for_before_signing_in_is_shown_after_it(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    answer = client.get("/?lang=en", follow_redirects=False)
    assert answer.headers["location"] == "/login?next=%2F%3Flang%3Den"
    token = form_token(client.get("/login?next=/%3Flang%3Den").text)
    signed = client.post(
        "/login",
        data={"login": "lan", "password": PASSWORD, "next": "/?lang=en", "csrf_token": token},
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/?lang=en"


def test_an_address_elsewhere_given_as_next_is_not_followed(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        client.cookies.clear()
        token = form_token(client.get("/login").text)
        signed = client.post(
            "/login",
            data={"login": "lan", "password": PASSWORD, "next": elsewhere, "csrf_token": token},
            follow_redirects=False,
        )
        assert signed.headers["location"] == "/"


def test_the_session_id_is_kept_only_as_a_digest_and_the_cookie_is_httponly_and_samesite(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    token = form_token(client.get("/login").text)
    answer = client.post(
        "/login", data={"login": "lan", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("bc_console="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    plain = cookie.split(";")[0].split("=", 1)[1]
    with transaction(sessions) as session:
        stored = session.scalars(select(ConsoleSession.digest)).all()
    assert stored == [hashlib.sha256(plain.encode()).hexdigest()]
    assert plain not in stored


def test_cookies_are_secure_when_the_console_is_served_over_https(
    web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    app = create_app(web_settings.model_copy(update={"public_url": "https://canhbao.example.gov.vn"}), sessions)
    with TestClient(app, base_url="https://testserver") as client:
        token = form_token(client.get("/login").text)
        answer = client.post(
            "/login", data={"login": "lan", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
        )
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("bc_console="))
    assert "Secure" in cookie


def test_a_form_without_its_token_is_refused_with_a_sentence(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    client.get("/login")
    refused = client.post("/login", data={"login": "lan", "password": PASSWORD})
    assert refused.status_code == 403
    assert "Biểu mẫu này đã hết hạn hoặc không được gửi từ trang của hệ thống" in refused.text
    forged = client.post("/login", data={"login": "lan", "password": PASSWORD, "csrf_token": "0" * 64})
    assert forged.status_code == 403
    sign_in(client, "lan")
    signed_out = client.post("/logout", data={})
    assert signed_out.status_code == 403 and "Traceback" not in signed_out.text
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_a_wrong_password_is_a_sentence_next_to_the_password_field(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"login": "lan", "password": "not it at all", "csrf_token": token})
    assert answer.status_code == 422
    assert 'id="password-error">Sai tên tài khoản hoặc mật khẩu.</p>' in answer.text
    empty = client.post("/login", data={"login": " ", "password": "", "csrf_token": token})
    assert 'id="login-error">Hãy nhập tên tài khoản.</p>' in empty.text
    assert 'id="password-error">Hãy nhập mật khẩu.</p>' in empty.text


def test_repeated_failures_are_slowed_and_say_how_long_to_wait(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    token = form_token(client.get("/login").text)
    for _ in range(accounts.FREE_FAILURES):
        client.post("/login", data={"login": "lan", "password": "wrong password", "csrf_token": token})
    blocked = client.post("/login", data={"login": "lan", "password": PASSWORD, "csrf_token": token})
    assert blocked.status_code == 429 and "Đăng nhập sai quá nhiều lần: hãy thử lại sau" in blocked.text


def test_signing_out_revokes_the_session_on_the_server(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    token = sign_in(client, "lan")
    stolen = client.cookies.get("bc_console")
    client.post("/logout", data={"csrf_token": token})
    with transaction(sessions) as session:
        assert session.scalar(select(ConsoleSession.revoked_at)) is not None
    client.cookies.set("bc_console", stolen)  # a copy of the cookie kept elsewhere opens nothing
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_an_idle_session_ends(client: TestClient, sessions: sessionmaker[Session], web_settings: Settings) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    idle = timedelta(minutes=web_settings.console_idle_minutes + 1)
    with transaction(sessions) as session:
        session.execute(update(ConsoleSession).values(last_seen_at=web_settings.clock.now() - idle))
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_disabling_an_account_ends_its_sessions(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    with transaction(sessions) as session:
        accounts.set_disabled(session, "lan", True)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_a_station_account_lands_on_its_portal_and_sees_no_staff_page(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "dai-go-dau", "station", stations=["dtt-go-dau"])
    token = form_token(client.get("/login").text)
    answer = client.post(
        "/login", data={"login": "dai-go-dau", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert answer.headers["location"] == "/portal"
    portal = client.get("/portal")
    assert portal.status_code == 200 and "Đài Truyền thanh huyện Gò Dầu" in portal.text
    staff_page = client.get("/")
    assert staff_page.status_code == 403
    assert "Tài khoản của đài truyền thanh chỉ dùng trang kịch bản của đài." in staff_page.text
    assert 'href="/portal"' in staff_page.text


def test_a_missing_page_is_a_page_for_a_browser_and_a_problem_for_the_api(client: TestClient) -> None:
    page = client.get("/khong-co", headers={"accept": "text/html"})
    assert page.status_code == 404 and "Không có trang nào ở địa chỉ /khong-co." in page.text
    api = client.get("/api/v1/khong-co", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"


def test_the_language_switch_is_remembered(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    assert "Dashboard" in client.get("/?lang=en").text
    assert "Dashboard" in client.get("/").text
    assert "Tổng quan" in client.get("/?lang=vi").text


def test_both_languages_have_every_word() -> None:
    from broadcaster.web.console.words import WORDS

    assert WORDS["vi"].keys() == WORDS["en"].keys()


def test_no_page_writes_a_word_that_a_dictionary_method_would_answer_instead() -> None:
    """`w.copy` in a template is the dictionary's own method, not the word: the monitor once showed
    "<built-in method copy of dict object …>". Such words are read as w["copy"]."""
    import re
    from pathlib import Path

    import broadcaster.web.console as console

    methods = {name for name in dir(dict) if not name.startswith("_")}
    folder = Path(console.__file__).parent / "templates"
    used = {name for path in folder.glob("*.html") for name in re.findall(r"\bw\.(\w+)\b(?!\s*\()", path.read_text())}
    assert used & methods == set()


def test_dates_are_day_month_year_with_weekday_names_in_the_issuers_zone() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from broadcaster.web.console.words import Dates

    moment = datetime(2024, 5, 13, 18, 30, tzinfo=UTC)  # 01:30 on Tuesday 14 May in Việt Nam
    assert Dates(ZoneInfo("Asia/Ho_Chi_Minh"), "vi").when(moment) == "Thứ Ba 14/05/2024 01:30"
    assert Dates(ZoneInfo("Asia/Ho_Chi_Minh"), "en").day(moment) == "Tuesday 14/05/2024"


def test_the_dashboard_shows_what_waits_and_this_weeks_sends(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from broadcaster.workers import Worker
    from tests.integration.test_delivery_cli import current
    from tests.web.console_helpers import approved_campaign, marked_test_list

    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, ["0912345678", "0987654321"])
    token = sign_in(client, "lan")
    client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})  # never counted
    client.post(f"/campaigns/{slug}/channels/sms/send-now", data={"csrf_token": token, "everyone": "yes"})
    Worker(sessions, web_settings, ["sms"], "w").drain()
    with transaction(sessions) as session:
        failed = session.scalars(select(Delivery.id).where(Delivery.rank >= 0).limit(1)).one()
        session.execute(update(Delivery).where(Delivery.id == failed).values(state="failed"))
        sent = session.scalar(select(func.count()).where(Delivery.state == "sent", Delivery.rank >= 0))
    board = client.get("/")
    assert board.status_code == 200
    week = board.text.split('id="week-sms"')[1].split("</tr>")[0]
    assert f'<td class="number">{sent}</td>' in week and sent > 2
    failures = board.text.split('id="failures"')[1].split("</section>")[0]
    assert '<strong class="bad">1</strong>' in failures


def test_the_dashboard_shows_a_provider_account_held_back_with_why_and_until_when(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    """A Zalo OA whose daily ZNS quota is used up holds every campaign's Zalo messages until Vietnam's midnight:
    the staff see that it is held, why, and that it goes on by itself."""
    from broadcaster.credentials import DatabaseCredentials
    from broadcaster.signing import signing_secret
    from channels.base import Credential

    store = DatabaseCredentials(sessions, signing_secret(web_settings), web_settings.clock)
    store.current("zalo-oa:4318827446119270000", Credential("access", "refresh"))
    until = web_settings.clock.now() + timedelta(hours=3)
    store.hold(
        "zalo-oa:4318827446119270000",
        until,
        "the OA has used up today's ZNS quota; sending resumes tomorrow (Zalo -144)",
    )
    sign_in(client, staff(sessions, "hai", "operator"))
    paused = client.get("/").text.split('id="paused"')[1].split("</section>")[0]
    assert "zalo-oa:4318827446119270000" in paused and "tự gửi tiếp lúc" in paused
    assert "OA đã dùng hết hạn mức tin ZNS trong ngày; từ 0 giờ ngày mai tự gửi tiếp (Zalo -144)." in paused
    assert "access" not in paused and "refresh" not in paused
    store.hold("zalo-oa:4318827446119270000", until - timedelta(hours=1), "an earlier hold changes nothing")
    with sessions() as session:
        held = session.scalars(select(KeptCredential.held_because)).one()
    assert held is not None and held.startswith("the OA has used up")
