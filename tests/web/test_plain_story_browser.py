"""The whole story of a warning written in plain Vietnamese, in a real browser: a blank campaign, the radio
text written as in a letter (digits, a date, a percentage, the hotline, an abbreviation) with a field picked
from the list, the announcer's version beside it, "đọc là" for what it cannot read, the Facebook post that
would repeat dated in one click; saved, submitted, and approved by another person after reading the
announcer's version. Screenshots in var/artefacts/console/plain/."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import AuditEntry
from broadcaster.settings import Settings
from tests.web.console_helpers import screenshot, staff
from tests.web.test_console_browser import ARTEFACTS, _signed_in

PLAIN = ARTEFACTS / "plain"
SLUG = "canh-bao-gia-danh-dien-luc-2026"
RADIO_START = "Ngày 5/12/2026, "
RADIO_REST = (
    " cảnh báo: kẻ gian giả danh nhân viên EVN gọi điện đòi tiền điện, dọa cắt điện trong 2 giờ. "
    "90% cuộc gọi loại này là lừa đảo. Bà con gọi ngay 0276 3631 168 để báo tin."
)
POST = "CẢNH BÁO: kẻ gian giả danh nhân viên điện lực gọi điện đòi tiền. Báo tin: "

pytestmark = [pytest.mark.usefixtures("chromium_available"), pytest.mark.own_content]


shot = partial(screenshot, PLAIN)


def write_the_radio_text(page: Any) -> None:
    """Typed as in a letter, with the unit's name picked from the fields; the announcer's version beside it."""
    from playwright.sync_api import expect

    radio = page.locator("#plain-radio-vi")
    radio.fill(RADIO_START)
    radio.press("End")
    page.locator("#field-radio-vi-unit_name").click()
    radio.press("End")
    radio.press_sequentially(RADIO_REST[:20])
    radio.fill(radio.input_value() + RADIO_REST[20:])  # the rest at once: the box is checked as one types
    expect(radio).to_have_value(RADIO_START + "[Tên đơn vị]" + RADIO_REST)
    announcer = page.locator("#announcer-vi")
    expect(announcer).to_contain_text("không hai bảy sáu, ba sáu ba một, một sáu tám")
    expect(announcer).to_contain_text("chín mươi phần trăm")
    expect(announcer).to_contain_text("Sở Thông tin và Truyền thông cảnh báo")
    expect(page.locator("#to-decode-vi")).to_contain_text("EVN")
    expect(page.locator("#problems-radio-vi")).to_have_count(0)  # nothing else: digits are not a problem
    shot(page, "1-radio-as-a-letter")

    page.locator("#reading-vi-0").fill("e vê en")
    page.locator("#add-reading-vi-0").click()
    expect(page.locator("#reading-notice-vi")).to_contain_text("EVN đọc là “e vê en”")
    expect(announcer).to_contain_text("nhân viên e vê en gọi điện")
    expect(page.locator("#to-decode-vi")).to_have_count(0)
    expect(page.locator("#problems-radio-vi")).to_contain_text("Không có vấn đề")
    shot(page, "2-read-as")


def date_the_facebook_posts(page: Any) -> None:
    from playwright.sync_api import expect

    post = page.locator("#plain-facebook-vi")
    post.fill(POST)
    post.press("End")
    page.locator("#field-facebook-vi-hotline").click()
    page.locator("#facebook-audience").get_by_label("page:sotttt-tay-ninh").check()
    rule = page.locator("#facebook-rule-0")
    rule.locator("select.rule-kind").select_option("weekly")
    rule.get_by_label("Thứ Hai").check()
    rule.get_by_label("Thứ Năm").check()
    rule.locator(".when.weekly input[type=time]").fill("19:00")
    expect(page.locator("#facebook-repeat-0")).to_contain_text("Facebook từ chối bài đăng trùng lặp")
    shot(page, "3-facebook-repeats")
    page.locator("#facebook-add-date").click()
    expect(page.locator("#plain-facebook-vi")).to_have_value(POST + "[Đường dây nóng]\n\nCập nhật ngày [Ngày phát]")
    expect(page.locator("#facebook-repeat-0")).to_have_count(0)
    expect(page.locator("#plain-radio-vi")).to_have_value(RADIO_START + "[Tên đơn vị]" + RADIO_REST)


def test_a_warning_written_in_plain_vietnamese_goes_to_approval(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    from playwright.sync_api import expect

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    staff(sessions, "minh", "approver")
    today = web_settings.today()

    page = _signed_in(browser, server, "lan")
    page.locator("#nav-compose").click()
    expect(page.locator("#template")).to_have_value("")  # a blank campaign
    page.locator("#campaign").fill(SLUG)
    page.locator("#issuer").select_option("tay-ninh-stttt")
    page.locator("#number").fill("1021/STTTT-TTr")
    page.locator("#subject").fill("cảnh báo cuộc gọi giả danh nhân viên điện lực")
    page.locator("#valid_from").fill(f"{today:%Y-%m-%d}")
    page.locator("#valid_until").fill(f"{today + timedelta(days=30):%Y-%m-%d}")
    page.locator("#email-on").uncheck()
    page.locator("#sms-on").uncheck()
    page.locator("#radio-audience").get_by_label("tất cả stations:all").check()
    page.locator("input[name='radio.areas']").fill("tay-ninh")
    slots = page.locator("#radio-rule-0")
    slots.locator("select.rule-kind").select_option("slots")
    slots.get_by_label("sáng").check()
    write_the_radio_text(page)
    date_the_facebook_posts(page)

    page.locator("#save").click()
    expect(page.locator("#notice")).to_have_text("Đã lưu bản nháp.")
    expect(page.locator("#plain-radio-vi")).to_have_value(RADIO_START + "[Tên đơn vị]" + RADIO_REST)
    shot(page, "4-saved")
    page.locator("#submit").click()
    expect(page.locator("#notice")).to_contain_text("Đã trình duyệt")
    with sessions() as session:
        texts = find_campaign(session, SLUG).texts
        assert "{{ issuer.unit_name }}" in texts[f"{SLUG}/vi/radio.txt.j2"]
        assert "0276 3631 168" in texts[f"{SLUG}/vi/radio.txt.j2"]  # kept as written; read aloud when sent
        assert [
            entry.details["written"] for entry in session.scalars(select(AuditEntry)) if entry.action == "add-reading"
        ] == ["EVN"]

    approver = _signed_in(browser, server, "minh")
    approver.goto(f"{server}/campaigns/{SLUG}/preview")
    preview = approver.locator("#preview-radio")
    expect(preview).to_contain_text("không hai bảy sáu, ba sáu ba một, một sáu tám")
    expect(preview).to_contain_text("nhân viên e vê en gọi điện")
    expect(preview).to_contain_text("Thời lượng đọc")
    expect(approver.locator("#preview-facebook")).to_contain_text("Cập nhật ngày")
    shot(approver, "5-approver-reads-the-announcers-version")
    approver.locator("#action-approve").click()
    expect(approver.locator("#campaign-status")).to_have_text("đã phê duyệt")
    shot(approver, "6-approved")


def test_a_late_answer_never_overwrites_a_newer_check(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    """A slow network makes the answer to "add this reading" arrive after the drafter has typed on: the box
    then shows the text as it is now, with the reading, never an older text coming back late."""
    from playwright.sync_api import Route, expect

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    page = _signed_in(browser, server, "lan")
    page.locator("#nav-compose").click()
    page.locator("#issuer").select_option("tay-ninh-stttt")
    page.locator("#email-on").uncheck()
    page.locator("#sms-on").uncheck()
    page.locator("#radio-audience").get_by_label("tất cả stations:all").check()
    radio = page.locator("#plain-radio-vi")
    radio.fill("Nhân viên EVN gọi điện đòi tiền.")
    expect(page.locator("#to-decode-vi")).to_contain_text("EVN")

    held: list[Route] = []  # the reading's request, held on its way until the drafter has typed on
    page.route("**/compose/reading/**", lambda route: held.append(route))
    page.locator("#reading-vi-0").fill("e vê en")
    with page.expect_request("**/compose/reading/**"):
        page.locator("#add-reading-vi-0").click()
    page.evaluate(
        "document.getElementById('plain-radio-vi')"
        ".addEventListener('htmx:trigger', () => { document.body.dataset.typedCheck = 'asked' })"
    )
    radio.press("End")
    radio.press_sequentially(" Bà con cảnh giác.")  # typed while the reading's answer is on its way
    expect(page.locator("body")).to_have_attribute("data-typed-check", "asked")  # the box has asked for its check
    assert len(held) == 1
    held[0].continue_()
    announcer = page.locator("#announcer-vi")
    expect(announcer).to_contain_text("nhân viên e vê en gọi điện đòi tiền. Bà con cảnh giác.", ignore_case=True)
    expect(announcer).to_contain_text("Bà con cảnh giác.")
    # the check that followed re-drew the panel, and the sentence about the reading is still there
    expect(page.locator("#reading-notice-vi")).to_contain_text("EVN đọc là “e vê en”")
    shot(page, "5-late-answer")
