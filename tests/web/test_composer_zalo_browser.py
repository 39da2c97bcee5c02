"""A Zalo campaign composed in a real browser: the ZNS template chosen from the directory, its parameter given,
the Zalo text shown as the recipient will see it, and the SMS for whom Zalo could not reach (the SMS section
then asks only for its text); saved, and stored as a campaign file would have it. Screenshots at desktop and
phone width in var/artefacts/console/zalo/."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.campaigns.store import find_campaign
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from tests.web.console_helpers import screenshot, staff
from tests.web.test_console_browser import ARTEFACTS, _signed_in

ZALO_SHOTS = ARTEFACTS / "zalo"
PHONE = {"width": 390, "height": 844}
SLUG = "canh-bao-gia-danh-zalo-2026"
TEMPLATES = (
    "Mã mẫu,Tên mẫu,Tham số,Nội dung\n"
    "2056446,Cảnh báo lừa đảo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>\n"
    "2056450,Thông báo ngắn,don_vi:40; ngay:10; tin:200,<don_vi> (<ngay>): <tin>\n"
)
ZALO_TEXT = "Kẻ gian giả danh lãnh đạo Sở gọi điện mời làm việc là LỪA ĐẢO. Báo tin: "
SMS_TEXT = "So TT&TT Tay Ninh: ke gian gia danh lanh dao So goi dien la LUA DAO. Bao tin: "

pytestmark = [pytest.mark.usefixtures("chromium_available"), pytest.mark.own_content]


shot = partial(screenshot, ZALO_SHOTS)


def choose_the_template(page: Any) -> None:
    """The template from the directory's list; its parameters appear, each with its maximum length."""
    from playwright.sync_api import expect

    page.locator("#zalo-template").select_option("2056450")
    expect(page.locator("#zalo-param-don_vi")).to_be_visible()
    # The section was drawn again: htmx binds the new select as it settles, and a choice made before that
    # would send nothing.
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    page.locator("#zalo-template").select_option("2056446")
    expect(page.locator("#zalo-param-don_vi")).to_have_count(0)
    expect(page.locator("#zalo-param-ten")).to_be_visible()
    expect(page.locator("#zalo-values")).to_contain_text("tối đa 30 ký tự")
    expect(page.locator("#zalo-param-noi_dung")).to_contain_text("lấy nội dung Zalo viết ở ô nội dung")
    expect(page.locator("#zalo-text-param")).to_have_value("noi_dung")
    page.locator("#zalo-param-ten").fill("Sở TT&TT Tây Ninh")


def write_the_zalo_text(page: Any) -> None:
    from playwright.sync_api import expect

    text = page.locator("#plain-zalo-vi")
    text.fill(ZALO_TEXT)
    text.press("End")
    page.locator("#field-zalo-vi-hotline").click()
    look = page.locator("#zalo-look-vi")
    expect(look).to_contain_text("Sở TT&TT Tây Ninh cảnh báo: Kẻ gian giả danh lãnh đạo Sở")
    expect(look).not_to_contain_text("[Đường dây nóng]")  # the hotline's number, as sent
    expect(page.locator("#zalo-vi-length")).to_contain_text("/ 400 ký tự")
    expect(page.locator("#problems-zalo-vi")).to_contain_text("Không có vấn đề")


def hand_on_to_the_sms(page: Any) -> None:
    """The fallback on: the SMS section asks only for its text, and says why."""
    from playwright.sync_api import expect

    expect(page.locator("#sms-own-sending")).to_be_visible()
    expect(page.locator("#sms-fallback-note")).to_be_hidden()
    expect(page.locator("#zalo-fallback-wait")).to_be_hidden()
    page.get_by_label("Gửi SMS cho người không nhận được tin Zalo").check()
    expect(page.locator("#sms-fallback-note")).to_contain_text("SMS chỉ gửi cho người Zalo không tới được")
    expect(page.locator("#sms-own-sending")).to_be_hidden()
    expect(page.locator("#sms-on")).to_be_checked()
    page.locator("#zalo-fallback-wait").fill("45")
    page.get_by_label("Cũng gửi SMS khi không rõ tin Zalo đã đến chưa (có thể nhận cả hai)").uncheck()
    page.locator("#sms-opt-unaccented").check()
    text = page.locator("#plain-sms-vi")
    text.fill(SMS_TEXT)
    text.press("End")
    page.locator("#field-sms-vi-hotline").click()
    expect(page.locator("#problems-sms-vi")).to_contain_text("Không có vấn đề")


def test_a_zalo_campaign_with_the_sms_fallback_is_composed_and_saved(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    from playwright.sync_api import expect

    with transaction(sessions) as session:
        import_examples(session)
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))
    staff(sessions, "lan", "drafter")
    today = web_settings.today()

    page = _signed_in(browser, server, "lan")
    page.locator("#nav-compose").click()
    expect(page.locator("#zalo-on")).not_to_be_checked()  # a new campaign starts without Zalo
    page.locator("#campaign").fill(SLUG)
    page.locator("#issuer").select_option("tay-ninh-stttt")
    page.locator("#number").fill("1030/STTTT-TTr")
    page.locator("#subject").fill("cảnh báo cuộc gọi giả danh lãnh đạo Sở")
    page.locator("#valid_from").fill(f"{today:%Y-%m-%d}")
    page.locator("#valid_until").fill(f"{today + timedelta(days=30):%Y-%m-%d}")
    for channel in ("email", "facebook", "radio"):
        page.locator(f"#{channel}-on").uncheck()
    page.locator("#zalo-on").check()
    page.locator("#zalo-audience input[value='list:thue-bao-tay-ninh']").check()
    expect(page.locator("#zalo-count")).to_contain_text("người nhận")
    rule = page.locator("#zalo-rule-0")
    rule.locator("select.rule-kind").select_option("once")
    rule.locator("input[type=date]").first.fill(f"{today + timedelta(days=1):%Y-%m-%d}")
    rule.locator(".when.once input[type=time]").fill("09:00")
    choose_the_template(page)
    write_the_zalo_text(page)
    hand_on_to_the_sms(page)
    shot(page, "1-zalo-with-the-sms-fallback")
    page.locator("#channel-zalo").screenshot(path=str(ZALO_SHOTS / "1-zalo-section.png"))
    page.locator("#channel-sms").screenshot(path=str(ZALO_SHOTS / "1-sms-section.png"))

    page.locator("#save").click()
    expect(page.locator("#notice")).to_have_text("Đã lưu bản nháp.")
    expect(page.locator("#zalo-fallback-on")).to_be_checked()
    expect(page.locator("#sms-own-sending")).to_be_hidden()
    expect(page.locator("#zalo-param-ten")).to_have_value("Sở TT&TT Tây Ninh")
    expect(page.locator("#zalo-look-vi")).to_contain_text("Sở TT&TT Tây Ninh cảnh báo:")
    shot(page, "2-saved")
    with sessions() as session:
        stored = find_campaign(session, SLUG)
        channels = stored.spec["channels"]
        texts = dict(stored.texts)
    assert set(channels) == {"zalo", "sms"}
    zalo, sms = channels["zalo"], channels["sms"]
    assert zalo["to"] == ["list:thue-bao-tay-ninh"] and len(zalo["schedule"]) == 1
    assert zalo["template_id"] == "2056446" and zalo["params"] == {"ten": "Sở TT&TT Tây Ninh"}
    assert zalo["text_param"] == "noi_dung"
    assert zalo["fallback"] == {"channel": "sms", "wait_minutes": 45, "when_unknown": False}
    assert sms["to"] == [] and sms["schedule"] == [] and sms["unaccented"] is True
    assert texts[f"{SLUG}/vi/zalo.txt.j2"].startswith(ZALO_TEXT)
    assert "{{ issuer.hotline" in texts[f"{SLUG}/vi/zalo.txt.j2"]
    assert texts[f"{SLUG}/vi/sms.txt.j2"].startswith(SMS_TEXT)

    page.set_viewport_size(PHONE)  # the same page on a phone: nothing leaves the screen
    page.reload()
    expect(page.locator("#zalo-look-vi")).to_contain_text("Sở TT&TT Tây Ninh cảnh báo:")
    page.locator("#channel-zalo").scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "3-saved-on-a-phone")
    page.locator("#channel-zalo").screenshot(path=str(ZALO_SHOTS / "3-zalo-section-on-a-phone.png"))
