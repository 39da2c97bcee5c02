"""The public verification page and the CAP documents, through the web app (a real ASGI round trip)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import CampaignSpec, load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.campaigns.store import find_campaign
from broadcaster.cap.mapping import NAMESPACE
from broadcaster.cap.schema import check_alert
from broadcaster.cli.demo import compressed
from broadcaster.db import transaction
from broadcaster.examples import example_campaigns
from broadcaster.settings import Settings
from tests.integration.test_cap_export import BINH_PHUOC, TAY_NINH, load_all

DRAFT_NUMBER = "512/STTTT-TTra"


def numbered_draft() -> CampaignSpec:
    """The Bình Phước campaign as if its letter had been numbered and dated, still a draft."""
    spec = load_campaign_file(example_campaigns()[1])
    return spec.model_copy(update={"number": DRAFT_NUMBER, "dated": date(2024, 9, 16)})


def in_force_today(settings: Settings) -> CampaignSpec:
    """The Tây Ninh campaign (letter 881/STTTT-TTr of 14/05/2024) with its validity starting today."""
    now = settings.local_now()
    return compressed(load_campaign_file(example_campaigns()[0]), now, 60, now + timedelta(days=1))


def publish(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Both shipped campaigns loaded; the Tây Ninh one approved and in force, the Bình Phước one a numbered draft."""
    load_all(sessions, settings, approve=False)
    with transaction(sessions) as session:
        campaign, _ = save_campaign(session, in_force_today(settings), "lan", settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
        save_campaign(session, numbered_draft(), "lan", settings)


@pytest.fixture
def published(shipped: sessionmaker[Session], web_settings: Settings) -> sessionmaker[Session]:
    publish(shipped, web_settings)
    return shipped


def visible_text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_the_page_needs_no_login_speaks_vietnamese_first_and_loads_nothing_from_elsewhere(
    client: TestClient, published: sessionmaker[Session]
) -> None:
    answer = client.get("/tra-cuu")
    assert answer.status_code == 200
    assert '<html lang="vi">' in answer.text
    assert "Số điện thoại này có phải của Sở không?" in answer.text
    assert re.findall(r'(?:src|href)="(https?:)?//', answer.text) == []  # no third-party resources
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "set-cookie" not in answer.headers
    english = client.get("/tra-cuu?lang=en")
    assert '<html lang="en">' in english.text
    assert "Is this phone number the Department's?" in visible_text(english.text)
    assert client.get("/tra-cuu/tra-cuu.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("written", ["02763631168", "0276 3631 168", "+84 276 3631 168"])
def test_an_official_hotline_written_any_usual_way_is_confirmed(
    client: TestClient, published: sessionmaker[Session], written: str
) -> None:
    text = visible_text(client.get("/tra-cuu", params={"so": written}).text)
    assert "✔ Đúng. Số 0276 3631 168 là số điện thoại chính thức của Sở Thông tin và Truyền thông Tây Ninh" in text
    assert "Thanh tra Sở (đường dây nóng)" in text


def test_an_unknown_number_is_denied_with_what_the_department_never_does_and_where_to_report(
    client: TestClient, published: sessionmaker[Session]
) -> None:
    text = visible_text(client.get("/tra-cuu", params={"so": "0912 345 678"}).text)
    assert "✘ Số 0912 345 678 KHÔNG phải là số điện thoại chính thức của Sở." in text
    assert "Sở không bao giờ gọi điện mời người dân đến làm việc" in text
    assert "0276 3631 168 — Thanh tra Sở, Sở Thông tin và Truyền thông Tây Ninh" in text
    garbage = client.get("/tra-cuu", params={"so": "<script>"}).text
    assert "<script>" not in garbage  # what a visitor types is escaped, never markup
    assert "“&lt;script&gt;” không phải là một số điện thoại" in garbage


def test_current_warnings_show_only_approved_campaigns_with_number_date_and_permanent_link(
    client: TestClient, published: sessionmaker[Session], web_settings: Settings
) -> None:
    text = visible_text(client.get("/tra-cuu").text)
    today = web_settings.today()
    assert "Công văn số 881/STTTT-TTr ngày 14/05/2024" in text
    assert f"Hiệu lực: {today:%d/%m/%Y} – {today + timedelta(days=30):%d/%m/%Y}" in text
    assert "cảnh giác lừa đảo bằng hình thức gọi điện" not in text  # a draft, never shown
    page = client.get(f"/tra-cuu/canh-bao/{TAY_NINH}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "Cảnh báo cuộc gọi giả danh lãnh đạo Sở TT&TT Tây Ninh để lừa đảo" in text
    assert "Công văn số 881/STTTT-TTr ngày 14/05/2024" in text
    assert client.get(f"/tra-cuu/canh-bao/{BINH_PHUOC}").status_code == 404  # the draft has no page


def test_a_real_letter_is_genuine_an_invented_one_and_a_drafts_are_not_found(
    client: TestClient, published: sessionmaker[Session], settings: Settings
) -> None:
    real = visible_text(client.get("/tra-cuu", params={"van-ban": "881/STTTT-TTr", "ngay": "14/05/2024"}).text)
    assert "✔ Có thật. Đây là công văn đã được phê duyệt của Sở Thông tin và Truyền thông Tây Ninh" in real
    invented = visible_text(client.get("/tra-cuu", params={"van-ban": "882/STTTT-TTr", "ngay": "14/05/2024"}).text)
    assert "✘ Không có công văn số 882/STTTT-TTr ngày 14/05/2024 của Sở." in invented
    bad_day = visible_text(client.get("/tra-cuu", params={"van-ban": "881/STTTT-TTr", "ngay": "31/02/2024"}).text)
    assert "“31/02/2024” không phải là một ngày." in bad_day
    letter = client.get(f"/tra-cuu/cong-van/{TAY_NINH}")
    assert letter.status_code == 200 and "Số: 881/STTTT-TTr" in letter.text
    pdf = client.get(f"/tra-cuu/cong-van/{TAY_NINH}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == 'inline; filename="881-STTTT-TTr-2024-05-14.pdf"'
    assert client.get(f"/tra-cuu/cong-van/{BINH_PHUOC}.pdf").status_code == 404  # a draft's letter
    draft = {"van-ban": DRAFT_NUMBER, "ngay": "16/09/2024"}
    assert f"✘ Không có công văn số {DRAFT_NUMBER}" in visible_text(client.get("/tra-cuu", params=draft).text)
    assert client.get(f"/tra-cuu/cong-van/{BINH_PHUOC}").status_code == 404
    with transaction(published) as session:  # once approved, the same question finds it
        campaign = find_campaign(session, BINH_PHUOC)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
    assert "✔ Có thật." in visible_text(client.get("/tra-cuu", params=draft).text)


def test_the_cap_alert_and_the_atom_feed_are_served_and_valid(
    client: TestClient, published: sessionmaker[Session]
) -> None:
    identifier = "127.0.0.1.canh-bao-goi-gia-danh-lan-2.1"
    alert = client.get(f"/cap/{identifier}.xml")
    assert alert.status_code == 200 and alert.headers["content-type"].startswith("application/cap+xml")
    assert check_alert(alert.content) == []
    assert etree.fromstring(alert.content).findtext(f"{{{NAMESPACE}}}identifier") == identifier
    assert client.get("/cap/127.0.0.1.canh-giac-goi-dien-moi-lam-viec.1.xml").status_code == 404  # a draft
    feed = etree.fromstring(client.get("/cap/alerts.atom").content)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"


def test_a_client_asking_too_often_is_told_to_wait(shipped: sessionmaker[Session], web_settings: Settings) -> None:
    from broadcaster.web.app import create_app

    app = create_app(web_settings.model_copy(update={"public_requests_per_minute": 3}), shipped)
    with TestClient(app) as client:
        assert [client.get("/tra-cuu").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/tra-cuu", params={"so": "0912345678"})
    assert refused.status_code == 429
    assert "Bạn đã tra cứu quá nhiều lần trong một phút" in refused.text
    assert refused.headers["retry-after"] == "60"
