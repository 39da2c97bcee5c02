"""The directory pages: a CSV import previewed by a dry run of the import itself, then confirmed; downloads
of rejected and converted rows; test lists marked; issuer profiles edited in a form."""

from __future__ import annotations

import html
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.accounts import ROLES, Actor
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import AuditEntry, Issuer, Subscriber, SubscriberList
from broadcaster.operations import staged_imports
from broadcaster.settings import Settings
from tests.web.conftest import person
from tests.web.console_helpers import form_token, sign_in, staff

# DOMAIN §4: an old 11-digit mobile number (016x) is converted to its 10-digit form (03x).
CSV = (
    "STT,Số điện thoại,Khu vực,Ngôn ngữ,Từ chối,Ghi chú\n"
    "1,0979141777,chau-thanh-tn,vi,,a\n"
    "2,01683170669,tp-tay-ninh,vi,,b\n"
    "3,12345,tp-tay-ninh,vi,,c\n"
    "4,0912000111,tp-tay-ninh,en,x,d\n"
).encode()
OPERATOR = Actor("tam", ROLES["operator"])


@pytest.fixture
def operator(client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "tam", "operator")
    sign_in(client, "tam")
    return form_token(client.get("/directory").text)


def subscribers_in(sessions: sessionmaker[Session], slug: str) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(Subscriber).join(SubscriberList).where(SubscriberList.slug == slug)
        return session.scalar(query) or 0


def upload(client: TestClient, token: str, content: bytes = CSV) -> httpx.Response:
    return client.post(
        "/directory/import",
        data={"csrf_token": token, "kind": "subscribers", "list_slug": "thu-nghiem", "list_name": "Danh sách thử"},
        files={"file": ("thu-nghiem.csv", content, "text/csv")},
        follow_redirects=False,
    )


def test_the_preview_writes_nothing_and_says_what_the_import_will_do(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    staged = upload(client, operator)
    assert staged.status_code == 303
    page = client.get(staged.headers["location"])
    assert page.status_code == 200
    assert subscribers_in(sessions, "thu-nghiem") == 0
    with sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "directory-import"))
            == 0
        )
    text = page.text
    assert 'id="count-imported">3<' in text and 'id="count-converted">1<' in text and 'id="count-rejected">1<' in text
    assert "“Số điện thoại” đọc là <strong>phone</strong>" in text
    not_read = text.split('id="columns-not-read">', 1)[1].split("</ul>", 1)[0]
    assert "“STT”" in not_read and "“Ghi chú”" in not_read
    assert "<td>01683170669</td>" in text  # a sample row, as the file has it
    assert "&#39;12345&#39; không phải số điện thoại Việt Nam hợp lệ" in text


def test_confirming_imports_exactly_what_was_previewed_and_the_notes_are_downloadable(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    location = upload(client, operator).headers["location"]
    page = client.get(location)
    confirmed = client.post(location, data={"csrf_token": form_token(page.text)})
    assert confirmed.status_code == 200
    assert "3 imported (3 new, 0 updated, 0 unchanged)" in confirmed.text
    assert subscribers_in(sessions, "thu-nghiem") == 3
    rejected = client.get(location + "/rejected.csv")
    assert rejected.headers["content-disposition"] == 'attachment; filename="thu-nghiem-rejected.csv"'
    lines = rejected.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "line,reason,STT,Số điện thoại,Khu vực,Ngôn ngữ,Từ chối,Ghi chú"
    assert lines[1].startswith("4,'12345' is not a valid Vietnamese phone number,3,12345")
    converted = client.get(location + "/converted.csv").content.decode("utf-8-sig").splitlines()
    # A cell starting with + is written with a leading ' (csvfiles: a spreadsheet never runs it as a formula).
    assert converted == ["line,old number,new number", "3,01683170669,'+84383170669"]
    notes = client.get(location + "/notes.csv").content.decode("utf-8-sig")
    assert "old number 01683170669 converted to +84383170669" in notes


def test_a_confirmation_without_the_form_token_is_refused(
    client: TestClient, operator: str, sessions: sessionmaker[Session]
) -> None:
    location = upload(client, operator).headers["location"]
    assert client.post(location, data={}).status_code == 403
    assert subscribers_in(sessions, "thu-nghiem") == 0


def test_another_account_cannot_confirm_or_read_an_upload(
    sessions: sessionmaker[Session], web_settings: Settings, client: TestClient, operator: str
) -> None:
    token = upload(client, operator).headers["location"].rsplit("/", 1)[1]
    other = Actor("an", ROLES["operator"])
    with sessions() as session, pytest.raises(Exception, match="no longer kept"):
        staged_imports.confirm(session, other, web_settings, token)
    with sessions() as session, pytest.raises(Exception, match="no longer kept"):
        staged_imports.preview(session, OPERATOR, web_settings, "../" + token[3:])


def test_a_file_with_an_unknown_column_is_a_sentence_beside_the_file_field(client: TestClient, operator: str) -> None:
    answer = upload(client, operator, "Số điện thoại,Không nhận tin nữa\n0979141777,x\n".encode())
    assert answer.status_code == 422
    assert 'id="file-error"' in answer.text and "Không nhận tin nữa" in answer.text


def test_a_drafter_cannot_import(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    token = form_token(client.get("/compose").text)
    answer = upload(client, token)
    assert answer.status_code == 403


def test_a_list_is_marked_as_a_test_list(client: TestClient, operator: str, sessions: sessionmaker[Session]) -> None:
    answer = client.post("/directory/lists/thue-bao-tay-ninh/test", data={"csrf_token": operator, "is_test": "yes"})
    assert answer.status_code == 200 and "Bỏ đánh dấu danh sách thử" in answer.text
    with sessions() as session:
        assert session.scalar(select(SubscriberList.is_test).where(SubscriberList.slug == "thue-bao-tay-ninh"))


def test_an_issuer_profile_is_edited_in_a_form_and_a_bad_hotline_is_said_beside_it(
    client: TestClient, operator: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    page = client.get("/directory/issuers/tay-ninh-stttt")
    assert 'value="02763822828"' in page.text or "hotlines[0].number" in page.text
    fields = {
        "csrf_token": operator,
        "issuer": "tay-ninh-stttt",
        "body": "UBND TỈNH TÂY NINH",
        "unit": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "unit_name": "Sở Thông tin và Truyền thông",
        "unit_short": "Sở TT&TT Tây Ninh",
        "symbol": "STTTT",
        "place": "Tây Ninh",
        "region": "south",
        "locale": "vi",
        "signer.title": "GIÁM ĐỐC",
        "hotlines[0].number": "123",
        "hotlines[0].label": "Thanh tra Sở",
        "hotlines[1].number": "",
    }
    refused = client.post("/directory/issuers/tay-ninh-stttt", data=fields)
    assert refused.status_code == 422 and "Traceback" not in refused.text
    assert 'id="hotlines[0].number-error"' in refused.text and "&#39;123&#39; không phải số điện thoại" in refused.text
    fields["hotlines[0].number"] = "0276 3 822 828"
    saved = client.post("/directory/issuers/tay-ninh-stttt", data=fields)
    # What citizens are told is genuine changes only once a second person approves it.
    assert saved.status_code == 200 and "đang chờ người khác phê duyệt" in saved.text
    assert 'id="proposed"' in saved.text and "02763822828" in saved.text
    with sessions() as session:
        before = session.scalar(select(Issuer.hotlines).where(Issuer.slug == "tay-ninh-stttt"))
    assert before != [{"number": "02763822828", "label": "Thanh tra Sở", "contact": ""}]
    staff(sessions, "minh", "approver")
    client.cookies.clear()
    token = sign_in(client, "minh")
    approved = client.post("/directory/issuers/tay-ninh-stttt/numbers/approve", data={"csrf_token": token})
    assert approved.status_code == 200 and "Đã phê duyệt" in approved.text, approved.text
    with sessions() as session:
        hotlines = session.scalar(select(Issuer.hotlines).where(Issuer.slug == "tay-ninh-stttt"))
        audit = {entry.action: entry.details for entry in session.scalars(select(AuditEntry))}
    assert hotlines == [{"number": "02763822828", "label": "Thanh tra Sở", "contact": ""}]
    assert audit["approve-issuer-numbers"]["old"]["hotlines"] == before
    assert audit["approve-issuer-numbers"]["proposed_by"] == "tam"
    assert audit["propose-issuer-numbers"]["new"]["hotlines"] == hotlines
    # How the stations read a document's number (DOMAIN §9, §15) is the issuer's choice, made on the same form.
    client.cookies.clear()
    sign_in(client, "tam")
    assert 'name="symbol_reading"' in client.get("/directory/issuers/tay-ninh-stttt").text
    fields |= {
        "csrf_token": form_token(client.get("/directory").text),
        "symbol_reading": "none",
        "readings": "Zalo = Za-lô\nđường link = đường dẫn",
    }
    assert client.post("/directory/issuers/tay-ninh-stttt", data=fields).status_code == 200
    with sessions() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one()
    assert (issuer.symbol_reading, issuer.readings) == ("none", {"Zalo": "Za-lô", "đường link": "đường dẫn"})


def test_a_station_account_sees_neither_the_directory_nor_the_composer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "dai-go-dau", "station", stations=["dtt-go-dau"])
    sign_in(client, "dai-go-dau")
    for path in ("/directory", "/directory/lists", "/directory/issuers/tay-ninh-stttt", "/compose"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Tài khoản của đài truyền thanh chỉ dùng trang kịch bản của đài." in answer.text


def test_the_english_names_are_shown_and_edited_with_the_profile_and_listed_with_agencies(
    client: TestClient, operator: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    page = client.get("/directory/issuers/tay-ninh-stttt").text
    assert 'id="english.unit"' in page and 'value="DEPARTMENT OF INFORMATION AND COMMUNICATIONS"' in page
    assert 'id="hotlines[0].label_en"' in page and 'value="Department Inspectorate"' in page
    assert "Tên tiếng Anh" in page
    fields = {
        "csrf_token": operator,
        "issuer": "tay-ninh-stttt",
        "body": "UBND TỈNH TÂY NINH",
        "unit": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
        "unit_name": "Sở Thông tin và Truyền thông",
        "unit_short": "Sở TT&TT Tây Ninh",
        "symbol": "STTTT",
        "place": "Tây Ninh",
        "region": "south",
        "locale": "vi",
        "signer.title": "GIÁM ĐỐC",
        "english.body": "TAY NINH PROVINCIAL PEOPLE'S COMMITTEE",
        "english.unit": "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
        "english.unit_name": "Department of Information and Communications",
        "english.unit_short": "",
        "hotlines[0].number": "02763631168",
        "hotlines[0].label": "Thanh tra Sở",
        "hotlines[0].label_en": "Department Inspectorate",
        "hotlines[1].number": "02763813111",
        "hotlines[1].label": "Phòng CNTT-BCVT",
        "hotlines[1].label_en": "Office of Information Technology and Posts and Telecommunications",
    }
    saved = client.post("/directory/issuers/tay-ninh-stttt", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")  # numbers unchanged
    with sessions() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one()
    assert issuer.english == {
        "body": "TAY NINH PROVINCIAL PEOPLE'S COMMITTEE",
        "unit": "DEPARTMENT OF INFORMATION AND COMMUNICATIONS",
        "unit_name": "Department of Information and Communications",
    }
    path = tmp_path / "agencies.csv"
    path.write_text(
        "Tên đơn vị,Email,Tên tiếng Anh,Ngôn ngữ\nSở Y tế,soyte@tayninh.example,Department of Health,en\n",
        encoding="utf-8",
    )
    with transaction(sessions) as session:
        assert directory.import_agencies(session, path).rejects == []
    listing = client.get("/directory/agencies").text
    assert "<th>Tên tiếng Anh</th><th>Ngôn ngữ</th>" in listing
    assert "<td>Department of Health</td><td>en</td>" in listing
    api = client.get("/api/v1/directory/agencies", headers=person(sessions, "hai", "operator").headers).json()
    assert api["columns"][:4] == ["key", "name", "english name", "locale"]
    assert ["so-y-te", "Sở Y tế", "Department of Health", "en"] in [row[:4] for row in api["rows"]]


def test_a_refused_import_is_said_in_the_consoles_language(client: TestClient, operator: str) -> None:
    """The CSV reader refuses in English; the page says it in Vietnamese, then in English once chosen."""
    answer = upload(client, operator, "Tên,Ghi chú\nLan,a\n".encode())
    shown = html.unescape(answer.text)
    assert answer.status_code == 422
    assert "không có cột 'phone'" in shown and "no column for" not in shown
    client.get("/directory?lang=en")
    answer = upload(client, operator, "Tên,Ghi chú\nLan,a\n".encode())
    shown = html.unescape(answer.text)
    assert answer.status_code == 422
    assert "no column for 'phone'" in shown and "không có cột" not in shown


def test_an_upload_waits_a_day_by_the_installations_clock_then_is_forgotten(
    sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    """Kept uploads age by the settings' clock, written in each one's description, never by the file system's
    dates: one kept a day and a minute ago is forgotten when the next is kept, one kept a minute ago is not."""
    from datetime import timedelta

    from broadcaster.clock import FixedClock

    clock = FixedClock(web_settings.clock.now())
    on_the_clock = web_settings.with_clock(clock)
    content = "Số điện thoại\n0979141777\n".encode()
    with transaction(sessions) as session:
        import_examples(session)
        old = staged_imports.stage_upload(
            session, OPERATOR, on_the_clock, "subscribers", content, "a.csv", list_slug="a"
        )
    clock.advance(timedelta(hours=23, minutes=59))
    with transaction(sessions) as session:
        recent = staged_imports.stage_upload(
            session, OPERATOR, on_the_clock, "subscribers", content, "b.csv", list_slug="b"
        )
    clock.advance(timedelta(minutes=2))
    kept = staged_imports.keep_upload(OPERATOR, on_the_clock, content, "c.csv")  # keeping the next one forgets
    with sessions() as session:
        with pytest.raises(Exception, match="no longer kept"):
            staged_imports.preview(session, OPERATOR, on_the_clock, old.token)
        assert staged_imports.preview(session, OPERATOR, on_the_clock, recent.token).filename == "b.csv"
    assert staged_imports.kept_upload(OPERATOR, on_the_clock, kept) == ("c.csv", content)
