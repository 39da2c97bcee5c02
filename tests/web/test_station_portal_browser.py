"""A commune station on a small phone (360×640), in a real browser (Debian's Chromium through Playwright):
it opens its link, sees today's slots — sent and still to come —, opens a script and plays its draft
reading with one tap, confirms one slot aired and another not aired with a reason, finds the calendar to
add to its phone, and signs out. Screenshots go to var/artefacts/portal/ to be looked at."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airing
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from tests.helpers import wait_for
from tests.radio_slots import aired_slots
from tests.web.conftest import person

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "portal"
PHONE = {"width": 360, "height": 640}


def no_sideways_scrolling(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"


@pytest.mark.usefixtures("espeak_ng")
def test_a_station_on_a_small_phone_reads_plays_confirms_and_finds_its_calendar(
    server: str, sessions: sessionmaker[Session], web_settings: Settings, browser: Any
) -> None:
    from playwright.sync_api import expect

    with transaction(sessions) as session:
        import_examples(session)
    slots = aired_slots(sessions, web_settings, still_to_come=(timedelta(hours=2), timedelta(hours=8)))
    first, second = slots["dtt-go-dau"]
    with transaction(sessions) as session:
        token = airing.rotate_link(session, airing.find_station(session, "dtt-go-dau"), "operator")
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    soon = (web_settings.local_now() + timedelta(hours=2)).strftime("%H:%M")

    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{server}/portal/link/{token}")
    assert page.url == f"{server}/portal"  # the secret leaves the address bar
    expect(page.locator("h1")).to_have_text("Đài Truyền thanh huyện Gò Dầu")
    today = page.locator("#today")
    expect(today.locator(f"#slot-{first}")).to_contain_text("Chưa xác nhận")
    expect(today).to_contain_text(f"Chưa đến giờ: kịch bản có lúc {soon}.")  # still to come today
    no_sideways_scrolling(page)
    page.screenshot(path=str(ARTEFACTS / "1-today.png"))
    page.screenshot(path=str(ARTEFACTS / "1-today-whole.png"), full_page=True)

    # The script, large, with what is not read set apart; one tap plays its draft reading.
    page.locator(f"#slot-{first} a", has_text="Mở kịch bản").tap()
    expect(page).to_have_url(f"{server}/portal/slots/{first}")
    expect(page.locator(".not-read")).to_contain_text("Thời lượng đọc ước tính")
    expect(page.locator(".to-read")).to_contain_text("Kính thưa quý vị và bà con!")
    font_size = page.locator(".to-read").evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
    assert font_size >= 20, f"the text to read is large ({font_size}px)"
    no_sideways_scrolling(page)
    page.screenshot(path=str(ARTEFACTS / "2-script.png"))
    page.locator("#play").tap()
    # Polled from here: the page's Content-Security-Policy forbids the eval a page-side wait would need.
    audio = page.locator(f"#audio-{first}")
    wait_for(lambda: audio.evaluate("element => element.currentTime") > 0.3, 20, "the draft audio to play")
    expect(page.locator("#play")).to_have_text("❚❚ Tạm dừng")
    page.locator("#play").tap()
    expect(page.locator("#play")).to_contain_text("▶ Nghe thử")
    page.screenshot(path=str(ARTEFACTS / "3-script-played.png"), full_page=True)
    page.locator("#back").tap()

    # Aired: the card folds its forms away.
    card = page.locator(f"#slot-{first}")
    card.locator("button.yes").tap()
    expect(page.locator(f"#slot-{first}")).to_contain_text("Đã phát lúc")
    expect(page.locator(f"#slot-{first} button.yes")).to_be_hidden()
    expect(page.locator(f"#slot-{first} details.change > summary")).to_have_text("Sửa xác nhận")

    # Not aired: a reason is asked for, then said in words.
    card = page.locator(f"#slot-{second}")
    card.locator("details.not-aired > summary").tap()
    card.locator("details.not-aired button[type=submit]").tap()
    expect(page.locator(f"#slot-{second} [role=alert]")).to_contain_text("Hãy chọn lý do không phát")
    page.locator(f"#slot-{second}").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTEFACTS / "4-reason-missing.png"))
    page.locator(f"#slot-{second} label.choice", has_text="Mất điện").tap()
    page.locator(f"#slot-{second} details.not-aired button[type=submit]").tap()
    expect(page.locator(f"#slot-{second}")).to_contain_text("Không phát: Mất điện")
    no_sideways_scrolling(page)
    page.screenshot(path=str(ARTEFACTS / "5-confirmed.png"), full_page=True)

    # The calendar to add to the phone, and what a phone calendar finds in it.
    calendar = page.locator("#calendar")
    calendar.scroll_into_view_if_needed()
    expect(calendar.locator("#add-iphone")).to_have_attribute("href", re.compile(r"^webcal://"))
    calendar.locator("summary", has_text="Cách thêm trên Android").tap()
    expect(calendar).to_contain_text("ICSx⁵")
    page.screenshot(path=str(ARTEFACTS / "6-calendar.png"))
    address = calendar.locator("#feed-link").input_value()
    feed = Calendar.from_ical(httpx.get(address.replace(web_settings.public_url, server)).content)
    statuses = sorted(str(event["status"]) for event in feed.walk("VEVENT"))
    assert statuses == ["CANCELLED", "CONFIRMED", "CONFIRMED", "CONFIRMED"]

    page.locator("#sign-out").tap()
    expect(page.locator("main")).to_contain_text("Đã đăng xuất")
    page.screenshot(path=str(ARTEFACTS / "7-signed-out.png"))
    context.close()

    operator = person(sessions, "hoa", "operator")
    counts = httpx.get(f"{server}/api/v1/radio/airings?campaign=phat-thanh", headers=operator.headers).json()
    by_station = {count["station"]: count for count in counts}
    assert (by_station["dtt-go-dau"]["aired"], by_station["dtt-go-dau"]["not_aired"]) == (1, 1)
    assert by_station["dtt-tan-bien"]["unconfirmed"] == 2
