"""A station on a phone-sized screen, in a real browser (Debian's chromium through Playwright): it opens its
link, sees its scripts, plays the draft audio, confirms one slot aired and another not aired with a reason,
and the staff's API shows both. Screenshots go to var/artefacts/portal/ to be looked at."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airing
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from tests.conftest import CHROMIUM
from tests.helpers import wait_for
from tests.radio_slots import aired_slots
from tests.web.conftest import person

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "portal"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.usefixtures("chromium_available")


@pytest.mark.usefixtures("espeak_ng")
def test_a_station_on_a_phone_confirms_one_slot_aired_and_another_not(
    server: str, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with transaction(sessions) as session:
        import_examples(session)
    slots = aired_slots(sessions, web_settings)
    first, second = slots["dtt-go-dau"]
    with transaction(sessions) as session:
        token = airing.rotate_link(session, airing.find_station(session, "dtt-go-dau"), "operator")
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(f"{server}/portal/link/{token}")
        assert page.url == f"{server}/portal"  # the secret leaves the address bar
        expect(page.locator("h1")).to_have_text("Đài Truyền thanh huyện Gò Dầu")
        expect(page.locator(f"#slot-{first}")).to_contain_text("Chưa xác nhận")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
        page.screenshot(path=str(ARTEFACTS / "1-scripts.png"), full_page=True)

        audio = page.locator(f"#slot-{first} audio")
        expect(audio).to_have_count(1)
        audio.evaluate("element => element.play()")
        # Polled from here: the page's Content-Security-Policy forbids the eval a page-side wait would need.
        wait_for(lambda: audio.evaluate("element => element.currentTime") > 0.3, 20, "the draft audio to play")
        audio.evaluate("element => element.pause()")

        page.locator(f"#slot-{first} form.aired button").tap()
        expect(page.locator(f"#slot-{first}")).to_contain_text("Đã phát lúc")

        card = page.locator(f"#slot-{second}")
        card.locator("form.not-aired button").tap()
        expect(card.locator("[role=alert]")).to_contain_text("Hãy chọn lý do chưa phát")
        page.screenshot(path=str(ARTEFACTS / "2-reason-missing.png"), full_page=True)
        card = page.locator(f"#slot-{second}")
        card.locator("select[name=reason]").select_option("power")
        card.locator("form.not-aired button").tap()
        expect(page.locator(f"#slot-{second}")).to_contain_text("Chưa phát: Mất điện")
        page.screenshot(path=str(ARTEFACTS / "3-confirmed.png"), full_page=True)
        browser.close()

    operator = person(sessions, "hoa", "operator")
    counts = httpx.get(f"{server}/api/v1/radio/airings?campaign=phat-thanh", headers=operator.headers).json()
    by_station = {count["station"]: count for count in counts}
    assert (by_station["dtt-go-dau"]["aired"], by_station["dtt-go-dau"]["not_aired"]) == (1, 1)
    assert by_station["dtt-tan-bien"]["unconfirmed"] == 2
