"""The console in a real browser (Debian's chromium through Playwright): each page driven as people use it,
screenshots kept in var/artefacts/console/ to be looked at."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import (
    PASSWORD,
    approved_campaign,
    draft_campaign,
    foreign_draft,
    marked_test_list,
    screenshot,
    staff,
)

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "console"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.usefixtures("chromium_available")


def _signed_in(browser: Any, server: str, login: str, viewport: dict[str, int] = DESKTOP) -> Any:
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{server}/")
    assert page.url.endswith("/login")
    page.get_by_label("Tên tài khoản").fill(login)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("#sign-in").click()
    return page


shot = partial(screenshot, ARTEFACTS)


def test_signing_in_with_a_wrong_password_then_the_right_one(
    server: str, browser: Any, sessions: sessionmaker[Session]
) -> None:
    from playwright.sync_api import expect

    staff(sessions, "lan", "drafter")
    page = _signed_in(browser, server, "lan")
    expect(page.locator("h1")).to_have_text("Tổng quan")
    page.locator("#sign-out").click()
    page.get_by_label("Tên tài khoản").fill("lan")
    page.get_by_label("Mật khẩu").fill("sai mật khẩu rồi")
    page.locator("#sign-in").click()
    expect(page.locator("#password-error")).to_have_text("Sai tên tài khoản hoặc mật khẩu.")
    shot(page, "login-error")


def test_a_drafter_submits_and_an_approver_reads_the_previews_and_approves(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    staff(sessions, "lan", "drafter")
    staff(sessions, "minh", "approver")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    page = _signed_in(browser, server, "lan")
    shot(page, "dashboard-drafter")
    page.locator("#nav-campaigns").click()
    shot(page, "campaigns")
    page.locator(f"#campaign-{slug} a").click()
    page.locator("#action-submit").click()
    expect(page.locator("#campaign-status")).to_have_text("chờ phê duyệt")
    shot(page, "campaign-submitted")
    page.locator("#open-preview").click()
    expect(page.locator("#approval-refusal")).to_contain_text("không thể tự phê duyệt")
    expect(page.locator("#action-approve")).to_have_count(0)  # a drafter has no approve button at all

    approver = _signed_in(browser, server, "minh")
    expect(approver.locator("#to-approve")).to_contain_text("881/STTTT-TTr")
    shot(approver, "dashboard-approver")
    approver.goto(f"{server}/campaigns/{slug}/preview")
    expect(approver.locator("#sms-info-vi")).to_contain_text("1 tin")
    shot(approver, "preview")
    letter = approver.frame_locator("#preview-email-vi iframe.a4")
    expect(letter.locator("body")).to_contain_text("881/STTTT-TTr")
    approver.locator("#preview-email-vi iframe.a4").screenshot(path=str(ARTEFACTS / "preview-letter.png"))
    approver.locator("#action-return").click()
    expect(approver.locator("#reason-error")).to_contain_text("Hãy ghi lý do trả lại")
    approver.locator("#action-approve").click()
    expect(approver.locator("#campaign-status")).to_have_text("đã phê duyệt")
    shot(approver, "preview-approved")


def test_an_operator_sends_to_the_test_list_and_watches_the_monitor_update(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from broadcaster.workers import Worker

    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, ["0912345678", "0987654321"])
    staff(sessions, "hai", "operator")
    page = _signed_in(browser, server, "hai")
    page.goto(f"{server}/campaigns/{slug}/monitor")
    page.locator("#send-now-sms").click()
    expect(page.locator("#sms-send-now-error")).to_contain_text("Hãy đánh dấu ô xác nhận")
    page.locator("#send-test-sms").click()
    expect(page.locator("#done")).to_contain_text("danh sách thử nghiệm")
    Worker(sessions, web_settings, ["sms"], "w").drain()
    # No reload: the live part polls by itself.
    expect(page.locator('#test-counts-sms [data-state="test-sent"]')).to_have_text("đã gửi 2", timeout=15_000)
    page.get_by_label("Địa chỉ người nhận").fill("0912 345 678")
    page.locator("#search").click()
    expect(page.locator("#deliveries")).to_contain_text("+84912345678")
    shot(page, "monitor")


def test_the_calendar_month_and_week_views_lead_to_the_campaign(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    staff(sessions, "lan", "drafter")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    page = _signed_in(browser, server, "lan")
    page.locator("#nav-calendar").click()
    expect(page.locator("#calendar th").first).to_have_text("Thứ Hai")
    shot(page, "calendar-month")
    page.locator("#view-week").click()
    expect(page.locator("#calendar")).to_contain_text("trang Facebook")
    shot(page, "calendar-week")
    page.locator(f'#calendar a.fire[href="/campaigns/{slug}"]').first.click()
    expect(page.locator("#campaign-subject")).to_contain_text("giả danh")


def test_an_administrator_manages_accounts_and_reads_the_audit_log(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    page = _signed_in(browser, server, "lan")  # an administrator
    page.locator("#nav-accounts").click()
    page.get_by_label("Tên tài khoản").fill("hoa")
    page.get_by_label("Mật khẩu", exact=True).fill("ngắn")
    page.locator("#add").click()
    expect(page.locator("#password-error")).to_contain_text("Mật khẩu quá ngắn")
    shot(page, "accounts-error")
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.locator("#add").click()
    expect(page.locator("#account-hoa")).to_contain_text("chuyên viên soạn thảo")
    page.locator("#nav-audit").click()
    page.locator("#account").select_option("minh")
    page.locator("#filter").click()
    expect(page.locator("#audit")).to_contain_text("approve")
    shot(page, "audit")


def test_a_station_account_signs_in_to_its_portal_and_is_refused_staff_pages(
    server: str, browser: Any, sessions: sessionmaker[Session]
) -> None:
    from playwright.sync_api import expect

    from broadcaster.db import transaction
    from broadcaster.examples import import_examples

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "dai-go-dau", "station", stations=["dtt-go-dau"])
    page = _signed_in(browser, server, "dai-go-dau")
    assert page.url == f"{server}/portal"
    expect(page.locator("h1")).to_have_text("Đài Truyền thanh huyện Gò Dầu")
    page.goto(f"{server}/campaigns")
    expect(page.locator("#problem")).to_have_text("Tài khoản của đài truyền thanh chỉ dùng trang kịch bản của đài.")
    shot(page, "station-refused")


def test_the_deliveries_search_shows_each_attempt_of_a_delivery(
    server: str,
    browser: Any,
    shipped: sessionmaker[Session],
    web_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    from tests.web.test_delivery_history import PHONE, quick_settings, twice_failed

    slug = twice_failed(shipped, quick_settings(web_settings), tmp_path, monkeypatch)
    staff(shipped, "hai", "operator")
    page = _signed_in(browser, server, "hai")
    page.goto(f"{server}/campaigns/{slug}/deliveries")
    page.get_by_label("Địa chỉ người nhận").fill(PHONE)
    page.locator("#search").click()
    attempts = page.locator("ol.attempts li")
    expect(attempts).to_have_count(3)
    expect(attempts.nth(0)).to_contain_text("Lần 1")
    expect(attempts.nth(0)).to_contain_text("thất bại, sẽ thử lại")
    expect(attempts.nth(2)).to_contain_text("đã gửi, chờ báo cáo")
    shot(page, "deliveries-history")


def test_the_monitor_shows_the_campaigns_calendar_link_to_copy_and_replace(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    staff(sessions, "hai", "operator")
    page = _signed_in(browser, server, "hai")
    page.goto(f"{server}/campaigns/{slug}/monitor")
    old = page.locator("#feed-link").input_value()
    page.locator("#copy-feed-link").click()
    expect(page.locator("#copy-feed-link")).to_have_text("Đã sao chép")
    shot(page, "monitor-calendar-link")
    page.locator("#rotate-feed-link").click()
    expect(page.locator("#done")).to_contain_text("Đã đổi liên kết lịch")
    assert page.locator("#feed-link").input_value() != old


def test_an_operator_gives_the_issuer_its_english_names_in_the_profile_form(
    server: str, browser: Any, sessions: sessionmaker[Session]
) -> None:
    from playwright.sync_api import expect

    from broadcaster.db import transaction
    from broadcaster.examples import import_examples

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "tam", "operator")
    page = _signed_in(browser, server, "tam")
    page.goto(f"{server}/directory/issuers/binh-phuoc-stttt")
    expect(page.locator("#english-names legend")).to_contain_text("Tên tiếng Anh")
    expect(page.locator("[id='hotlines[0].contact_en']")).to_have_value("Lê Nguyên Tánh")
    page.locator("[id='english.unit_short']").fill("Binh Phuoc DIC")
    shot(page, "issuer-english-names")
    page.locator("#save-issuer").click()
    expect(page.locator("#notice")).to_have_text("Đã lưu hồ sơ.")
    expect(page.locator("[id='english.unit_short']")).to_have_value("Binh Phuoc DIC")


@pytest.mark.parametrize("alert", ["nsw-rfs-yerong-creek-2011.xml", "eccc-snowfall-2013-signed.xml"])
def test_a_foreign_alerts_draft_fits_a_phone_screen(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, alert: str
) -> None:
    """An imported alert brings long unbroken words (its identifier, code systems named by URL, twenty location
    codes an area): on a phone they wrap, and nothing makes the page wider than the screen."""
    staff(sessions, "lan", "drafter")
    slug = foreign_draft(sessions, web_settings, "lan", alert)
    page = _signed_in(browser, server, "lan", PHONE)
    page.goto(f"{server}/campaigns/{slug}")
    page.locator("#cap-areas-outside").wait_for()
    shot(page, f"foreign-alert-phone-{Path(alert).stem}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
