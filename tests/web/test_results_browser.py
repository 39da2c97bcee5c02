"""The results page in a real browser (Debian's Chromium through Playwright): a campaign with sends on all
four channels, some SMS undelivered and some radio slots not aired, shows its numbers beside its charts;
the report is edited and downloaded as .docx, PDF and .xlsx, and each file read back has the same numbers.
Screenshots and the PDF's pages as pictures are kept in var/artefacts/results/ to be looked at."""

from __future__ import annotations

import io
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock
from broadcaster.settings import Settings
from tests.results_scenario import SLUG, moment, results_campaign
from tests.web.console_helpers import PASSWORD, screenshot, staff

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "results"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SMS = ["Tin nhắn SMS", "3", "1", "14", "13", "9", "2", "1", "1", "1", "0"]
GO_DAU = ["Đài Truyền thanh huyện Gò Dầu", "2", "1", "1", "0", "0", "Mất điện: 1"]
TAN_BIEN = ["Đài Truyền thanh huyện Tân Biên", "2", "0", "0", "2", "1", ""]
ADDED = "Đề nghị Ủy ban nhân dân tỉnh chỉ đạo các đài xác nhận buổi phát đúng hạn."

pytestmark = pytest.mark.usefixtures("chromium_available")


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    return web_settings.with_clock(FixedClock(moment(web_settings)))


shot = partial(screenshot, ARTEFACTS)


def row_cells(page: Any, table: str, first: str) -> list[str]:
    row = page.locator(f"#table-{table} tbody tr").filter(has=page.get_by_role("cell", name=first, exact=True))
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def download(page: Any, button: str) -> bytes:
    with page.expect_download() as started:
        page.locator(button).click()
    return Path(started.value.path()).read_bytes()


def test_the_results_page_and_its_files_agree(
    server: str, browser: Any, shipped: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    results_campaign(shipped, web_settings, tmp_path)
    staff(shipped, "lan", "drafter")
    page = browser.new_context(viewport=DESKTOP, accept_downloads=True).new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Tên tài khoản").fill("lan")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.goto(f"{server}/campaigns/{SLUG}")
    page.locator("#open-results").click()
    expect(page.locator("h1")).to_contain_text("Kết quả tuyên truyền")
    assert row_cells(page, "by_channel", "Tin nhắn SMS") == SMS
    assert row_cells(page, "by_station", GO_DAU[0]) == GO_DAU
    assert row_cells(page, "by_station", TAN_BIEN[0]) == TAN_BIEN
    for chart in ("#chart-shares", "#chart-stations", "#chart-days"):
        expect(page.locator(chart)).to_be_visible()
    shot(page, "1-results-page")

    text = page.locator("#report-text")
    text.fill(text.input_value() + "\n\n" + ADDED)
    document = Document(io.BytesIO(download(page, "#export-docx")))
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert SMS in rows and GO_DAU in rows
    assert ADDED in [paragraph.text for paragraph in document.paragraphs]

    book = load_workbook(io.BytesIO(download(page, "#export-xlsx")))
    sheet = [
        [str(cell) if cell is not None else "" for cell in row]
        for row in book["Phát thanh theo đài"].iter_rows(values_only=True)
    ]
    assert GO_DAU in sheet and TAN_BIEN in sheet

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTEFACTS / "bao-cao-trinh-duyet.pdf"
    pdf.write_bytes(download(page, "#export-pdf"))
    words = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert " ".join(SMS) in words and " ".join(GO_DAU) in words and ADDED in words
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(ARTEFACTS / "2-pdf-page")], check=True)

    page.goto(f"{server}/")
    page.locator("#open-period-results").click()
    expect(page.locator("#table-by_channel")).to_be_visible()
    assert row_cells(page, "by_channel", "Tin nhắn SMS") == SMS  # this month so far holds the whole campaign
    shot(page, "3-period-results")

    page.set_viewport_size(PHONE)  # an official reads the results on a phone: nothing leaves the screen
    page.goto(f"{server}/campaigns/{SLUG}/results")
    expect(page.locator("#table-by_channel")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "4-results-on-a-phone")
