"""The whole story in a real browser: a campaign composed in the forms on all four channels, submitted,
refused to its drafter, approved by another person after reading the previews, sent to the test list,
watched on the monitor — each page kept as a screenshot in var/artefacts/console/story/ to be looked at."""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from tests.web.console_helpers import screenshot, staff
from tests.web.test_console_browser import ARTEFACTS, _signed_in

STORY = ARTEFACTS / "story"
SLUG = "canh-bao-cuoc-goi-gia-danh-2026"
# The SMS as the officer writes it (plain words, fields picked from a list) and as the campaign keeps it.
SHORT_PLAIN = "[Tên viết tắt của đơn vị]: cảnh giác cuộc gọi giả danh. Báo tin: [Đường dây nóng]"
SHORT_SMS = "{{ issuer.unit_short }}: cảnh giác cuộc gọi giả danh. Báo tin: {{ issuer.hotline.number }}"
# Marks turn the SMS into UCS-2 (DOMAIN §2: 70 characters in one part, 67 per part beyond).
LONG_PLAIN = (
    "[Tên viết tắt của đơn vị]: kẻ gian giả danh lãnh đạo Sở gọi điện mời làm việc, đòi thông tin cá nhân. "
    "Báo tin: [Đường dây nóng]"
)

pytestmark = [pytest.mark.usefixtures("chromium_available"), pytest.mark.own_content]


shot = partial(screenshot, STORY)


def _choose_rule(page: Any, channel: str, kind: str) -> Any:
    rule = page.locator(f"#{channel}-rule-0")
    rule.locator("select.rule-kind").select_option(kind)
    return rule


def compose(page: Any, today: date) -> None:
    """The drafting officer fills the composer in, channel by channel; no file, no YAML."""
    from playwright.sync_api import expect

    page.locator("#nav-compose").click()
    page.locator("#campaign").fill(SLUG)
    page.locator("#issuer").select_option("tay-ninh-stttt")
    page.locator("#number").fill("912/STTTT-TTr")
    page.locator("#subject").fill("cảnh báo cuộc gọi giả danh lãnh đạo Sở (lần 3)")
    page.locator("#priority").select_option("priority")
    page.locator("#valid_from").fill(f"{today:%Y-%m-%d}")
    page.locator("#valid_until").fill(f"{today + timedelta(days=30):%Y-%m-%d}")
    page.locator("#template").select_option("goi-gia-danh")  # a blank campaign is the default
    page.locator("#use-template").click()
    expect(page.locator("#plain-sms-vi")).to_have_value(re.compile(r"^\[Tên viết tắt của đơn vị\]: "))

    page.locator("#email-audience").get_by_label("co-quan-tinh-uy group:co-quan-tinh-uy").check()
    email = _choose_rule(page, "email", "once")
    email.locator("input[type=date]").first.fill(f"{today + timedelta(days=1):%Y-%m-%d}")
    email.locator(".when.once input[type=time]").fill("08:00")

    page.locator("#sms-audience").get_by_label("thue-bao-tay-ninh list:thue-bao-tay-ninh").check()
    expect(page.locator("#sms-count")).to_contain_text("người nhận")
    sms = _choose_rule(page, "sms", "once")
    sms.locator("input[type=date]").first.fill(f"{today + timedelta(days=2):%Y-%m-%d}")
    sms.locator(".when.once input[type=time]").fill("09:00")
    page.locator("#sms-opt-unaccented").check()
    page.locator("#sms-add-rule").click()  # a reminder a week later: a second line of the timetable
    again = page.locator("#sms-rule-1")
    again.locator("select.rule-kind").select_option("once")
    again.locator("input[type=date]").first.fill(f"{today + timedelta(days=9):%Y-%m-%d}")
    again.locator(".when.once input[type=time]").fill("09:00")
    expect(page.locator("#sms-fires li")).to_have_count(2)
    expect(page.locator("#number")).to_have_value("912/STTTT-TTr")  # what was typed stays through the redraw

    page.locator("#facebook-audience").get_by_label("page:sotttt-tay-ninh").check()
    expect(page.locator("#facebook-count")).to_contain_text("1 người nhận")
    weekly = _choose_rule(page, "facebook", "weekly")
    weekly.get_by_label("Thứ Hai").check()
    weekly.get_by_label("Thứ Năm").check()
    weekly.locator(".when.weekly input[type=time]").fill("19:00")
    expect(page.locator("#facebook-echo")).to_contain_text("Thứ Hai và Thứ Năm hằng tuần, lúc 19:00")
    expect(page.locator("#facebook-fires li")).to_have_count(9)  # from a Wednesday: five Thứ Năm, four Thứ Hai

    page.locator("#radio-audience").get_by_label("tất cả stations:all").check()
    page.locator("input[name='radio.areas']").fill("tay-ninh")
    slots = _choose_rule(page, "radio", "slots")
    slots.get_by_label("sáng").check()
    slots.locator(".when.dates input").first.fill(f"{today + timedelta(days=1):%Y-%m-%d}")
    slots.locator(".when.dates input").last.fill(f"{today + timedelta(days=14):%Y-%m-%d}")
    expect(page.locator("#radio-echo")).to_contain_text("Vào khung giờ sáng của từng đài")
    shot(page, "1-composer-filled")


def watch_the_sms_counter(page: Any) -> None:
    """The officer writes a longer SMS (with marks, UCS-2): two parts; cuts it down: one part again."""
    from playwright.sync_api import expect

    text = page.locator("#plain-sms-vi")
    text.fill(LONG_PLAIN)
    expect(page.locator("#sms-vi-accented")).to_contain_text("· 2 phần")
    shot(page, "2-sms-two-parts")
    text.fill(SHORT_PLAIN)
    expect(page.locator("#sms-vi-accented")).to_contain_text("· 1 phần")
    expect(page.locator("#sms-vi-sent")).to_contain_text("1 phần (tối đa 1)")
    expect(page.locator("#problems-sms-vi")).to_contain_text("Không có vấn đề")
    shot(page, "3-sms-one-part")


def test_a_campaign_composed_in_the_browser_goes_from_draft_to_the_test_list(
    server: str,
    browser: Any,
    sessions: sessionmaker[Session],
    web_settings: Settings,
) -> None:
    from playwright.sync_api import expect

    from broadcaster.workers import Worker

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    staff(sessions, "minh", "approver")
    staff(sessions, "hai", "operator")
    today = web_settings.today()  # a Wednesday

    drafter = _signed_in(browser, server, "lan")
    compose(drafter, today)
    watch_the_sms_counter(drafter)
    drafter.locator("#save").click()
    expect(drafter.locator("#notice")).to_have_text("Đã lưu bản nháp.")
    shot(drafter, "4-saved")
    # The edited SMS is the campaign's own text, in the database; the shared template is untouched.
    with sessions() as session:
        assert find_campaign(session, SLUG).texts["goi-gia-danh/vi/sms.txt.j2"] == SHORT_SMS + "\n"
    assert SHORT_SMS not in (web_settings.templates_dir / "goi-gia-danh" / "vi" / "sms.txt.j2").read_text()
    drafter.locator("#submit").click()
    expect(drafter.locator("#notice")).to_contain_text("Đã trình duyệt")
    drafter.goto(f"{server}/campaigns/{SLUG}/preview")
    expect(drafter.locator("#approval-refusal")).to_contain_text("không thể tự phê duyệt")
    expect(drafter.locator("#action-approve")).to_have_count(0)
    shot(drafter, "5-drafter-cannot-approve")

    approver = _signed_in(browser, server, "minh")
    expect(approver.locator("#to-approve")).to_contain_text("912/STTTT-TTr")
    approver.goto(f"{server}/campaigns/{SLUG}/preview")
    expect(approver.locator("#sms-vi")).to_contain_text("canh giac cuoc goi gia danh")
    expect(approver.locator("#sms-info-vi")).to_contain_text("GSM-7")
    expect(approver.frame_locator("#preview-email-vi iframe.a4").locator("body")).to_contain_text("912/STTTT-TTr")
    expect(approver.locator("#preview-radio")).to_contain_text("Thời lượng đọc")
    expect(approver.locator("#preview-facebook")).to_contain_text("CẢNH BÁO")
    shot(approver, "6-previews")
    approver.locator("#action-approve").click()
    expect(approver.locator("#campaign-status")).to_have_text("đã phê duyệt")
    shot(approver, "7-approved")
    the_calendar_shows_facebook_on_mondays_and_thursdays(approver, today)

    operator = _signed_in(browser, server, "hai")
    import_test_list(operator, server, web_settings)
    operator.goto(f"{server}/campaigns/{SLUG}/monitor")
    operator.locator("#send-test-sms").click()
    expect(operator.locator("#done")).to_contain_text("danh sách thử nghiệm")
    Worker(sessions, web_settings, ["sms"], "story").drain()
    expect(operator.locator('#test-counts-sms [data-state="test-sent"]')).to_have_text("đã gửi 2", timeout=15_000)
    shot(operator, "11-monitor")
    sent = (web_settings.output_dir / "sms").glob("*.jsonl")
    assert "canh giac cuoc goi gia danh" in "".join(path.read_text(encoding="utf-8") for path in sent)


def import_test_list(page: Any, base: str, settings: Settings) -> None:
    """The operator imports the staff's own phones with a preview, then marks the list as the test list."""
    from playwright.sync_api import expect

    csv = settings.data_dir / "dien-thoai-can-bo.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    csv.write_text("STT,Số điện thoại,Ghi chú\n1,0912345678,Lan\n2,0987654321,Minh\n3,12345,sai số\n", encoding="utf-8")
    page.locator("#nav-directory").click()
    page.locator("#kind").select_option("subscribers")
    page.locator("#list_slug").fill("thu-nghiem")
    page.locator("#list_name").fill("Điện thoại cán bộ")
    page.locator("#file").set_input_files(str(csv))
    page.locator("#preview-button").click()
    expect(page.locator("#count-imported")).to_have_text("2")
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(page.locator("#columns-not-read")).to_contain_text("Ghi chú")
    shot(page, "9-import-preview")
    page.locator("#confirm").click()
    expect(page.locator("#imported")).to_contain_text("2 imported")
    page.goto(f"{base}/directory/lists")
    page.locator("#test-thu-nghiem").click()
    expect(page.locator("#row-thu-nghiem")).to_contain_text("danh sách thử")
    shot(page, "10-test-list")


def the_calendar_shows_facebook_on_mondays_and_thursdays(page: Any, today: date) -> None:
    """Every day of the month view after today: the post at 19:00 on a Thứ Hai or a Thứ Năm, and on no other day."""
    from playwright.sync_api import expect

    page.locator("#nav-calendar").click()
    expect(page.locator("#calendar th").first).to_have_text("Thứ Hai")
    checked = 0
    for offset in range(1, 31):
        day = today + timedelta(days=offset)
        cell = page.locator(f"#day-{day:%Y-%m-%d}")
        if cell.count() == 0:
            continue  # past the month shown
        posted = "19:00 trang Facebook · 912/STTTT-TTr" in " ".join(cell.inner_text().split())
        assert posted == (day.weekday() in (0, 3)), f"{day:%d/%m/%Y} ({day:%A}): a post shown is {posted}"
        checked += 1
    assert checked > 0
    shot(page, "8-calendar-month")
    page.locator("#view-week").click()
    shot(page, "8-calendar-week")
