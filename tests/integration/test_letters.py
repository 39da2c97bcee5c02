"""The official letter as the A4 PDF agencies print and file (DOMAIN §7, Decree 30/2020 Appendix I).

Both shipped letters are laid out by the real renderer, read back with pypdf and poppler, and each page is
written as a PNG under var/artefacts/letters/ to be looked at.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from sqlalchemy.orm import Session

from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.campaigns.store import check_campaign, find_campaign
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.directory.audience import parse_selector, recipients
from broadcaster.examples import import_examples
from broadcaster.letters import is_numbered, letter_file, letter_filename, letter_pdf
from broadcaster.rendering import Composer
from broadcaster.settings import Settings
from channels.base import Bulletin
from tests.conftest import CONTENT, IN_CI

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "letters"
TAY_NINH = "canh-bao-goi-gia-danh-lan-2"
BINH_PHUOC = "canh-giac-goi-dien-moi-lam-viec"
A4_POINTS = (595.28, 841.89)  # 210 × 297 mm

# The Tây Ninh seed letter 881/STTTT-TTr, field by field, in the order the PDF gives them (the header
# row by row: left column, then right). The seed writes the motto with en dashes; Decree 30 writes
# hyphens, and so does the letter.
TAY_NINH_FIELDS = [
    "UBND TỈNH TÂY NINH",
    "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Số: 881/STTTT-TTr",
    "V/v tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
    "Tây Ninh, ngày 14 tháng 5 năm 2024",
    "Kính gửi:",
    "- Các cơ quan tham mưu giúp việc Tỉnh ủy;",
    "- Mặt trận Tổ quốc Việt Nam tỉnh Tây Ninh;",
    "- Các Đoàn thể chính trị - Xã hội tỉnh;",
    "- Các Sở, ban, ngành tỉnh;",
    "- Công an tỉnh Tây Ninh;",
    "- Các huyện, thị, thành ủy trực thuộc Tỉnh ủy;",
    "- UBND các huyện, thị xã, thành phố;",
    "- Đài Phát thanh và Truyền hình Tây Ninh;",
    "- Báo Tây Ninh;",
    "- Các doanh nghiệp viễn thông trên địa bàn tỉnh.",
    "Ngày 17/4/2024, Sở Thông tin và Truyền thông đã ban hành Công văn số 720/STTTT-TTr về việc cảnh báo các "
    "cuộc gọi giả danh với mục đích lừa đảo gửi các cơ quan, đơn vị trên địa bàn tỉnh.",
    "Tuy nhiên, hiện nay Sở Thông tin và Truyền thông Tây Ninh tiếp tục nhận được nhiều phản ánh với nội dung "
    "có một số đối tượng giả danh công chức lãnh đạo Sở Thông tin và Truyền thông gọi điện cho cán bộ lãnh đạo "
    "một số Sở, Ngành, địa phương và người dân có dấu hiệu lừa đảo...",
    "Theo đó, đối tượng giả danh đã gọi điện hù dọa,",
    "rồi hướng dẫn truy cập vào các đường link do đối tượng gửi đến để xác nhận thông tin; Hoặc làm việc với cơ "
    "quan chức năng hoặc yêu cầu làm theo hướng dẫn khác... nhằm phục vụ cho việc lừa đảo.",
    "Vì vậy, Sở Thông tin và Truyền thông đề nghị các cơ quan, đơn vị trên địa bàn tỉnh tiếp tục thực hiện "
    "tuyên truyền đến toàn thể cán bộ, công chức, viên chức, người lao động và người dân về nội dung theo tinh "
    "thần Công văn số 720/STTTT-TTr ngày 17/4/2024 của Sở Thông tin và Truyền thông.",
    "Bên cạnh đó, để xử lý dứt điểm các số thuê bao giả danh,",
    "để Sở tổng hợp danh sách thuê bao điện thoại và yêu cầu các doanh nghiệp Viễn thông cung cấp thông tin "
    "thuê bao để tiến hành xử lý theo quy định pháp luật.",
    "Danh sách Số điện thoại tiếp nhận thông tin:",
    "1. Thanh tra Sở: 02763631168;",
    "2. Phòng CNTT-BCVT: 02763813111.",
    "Trân trọng./.",
    "Nơi nhận:",
    "- Như trên;",
    "- UBND tỉnh (đề b/c);",
    "- Ban Giám đốc Sở;",
    "- Các phòng, đơn vị thuộc Sở;",
    "- Lưu: VT, Thanh tra.",
    "GIÁM ĐỐC",
    "Nguyễn Tấn Đức",
]


@dataclass(frozen=True)
class Letter:
    bulletin: Bulletin
    name: str  # as attached to the e-mail
    pdf: Path
    pages: list[Path]


def _needs(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} (Debian package poppler-utils, in config/debian-packages.txt) is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Letter]:
    """Both shipped letters as their first agency receives them, in Vietnamese and in English, as PDF files
    and one PNG per page. Keys: the campaign slug, and the slug followed by "/en"."""
    _needs("pdftoppm")
    folder = tmp_path_factory.mktemp("letters")
    settings = Settings(database_url=f"sqlite:///{folder / 'b.db'}", output_dir=folder / "out", content_dir=CONTENT)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
        for slug in (TAY_NINH, BINH_PHUOC):
            spec = load_campaign_file(CONTENT / "campaigns" / f"{slug}.yaml")
            assert check_campaign(session, spec, settings) == []
            save_campaign(session, spec, "lan", settings)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    made = {}
    with sessions() as session:
        for slug in (TAY_NINH, BINH_PHUOC):
            for locale in ("vi", "en"):
                name = slug if locale == "vi" else f"{slug}-en"
                made[slug if locale == "vi" else f"{slug}/en"] = _letter(session, settings, slug, locale, name)
    engine.dispose()
    return made


def _letter(session: Session, settings: Settings, slug: str, locale: str, name: str) -> Letter:
    campaign = find_campaign(session, slug)
    channel = next(c for c in campaign.channels if c.channel == "email")
    composer = Composer.for_campaign(campaign, channel, settings)
    audience = [parse_selector(text) for text in channel.audience]
    first = next(iter(recipients(session, composer.adapter.recipient_kind, audience, channel.areas, settings.today())))
    recipient = replace(first, locale=locale)
    assert channel.rules[0].at is not None
    bulletin = composer.compose("k", recipient, channel.rules[0].at.astimezone(settings.zone))
    assert bulletin.locale == locale
    attachment = letter_file(bulletin.parts.get("html"), bulletin.letter.number, bulletin.letter.dated)
    assert attachment is not None
    pdf = ARTEFACTS / f"{name}.pdf"
    pdf.write_bytes(attachment.pdf)
    for old in ARTEFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "100", str(pdf), str(ARTEFACTS / name)], check=True)
    return Letter(bulletin, attachment.name, pdf, sorted(ARTEFACTS.glob(f"{name}-[0-9]*.png")))


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler reads it, in content order, whitespace collapsed (a line may end after '/')."""
    _needs("pdftotext")
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"/ ", "/", re.sub(r"\s+", " ", raw))


_DRAWING = re.compile(rb"(/[^\s/]+) [\d.]+ Tf|<([0-9a-fA-F]*)>")


def fonts_used(reader: PdfReader) -> dict[str, tuple[DictionaryObject, set[int]]]:
    """Each font the pages draw with (by base name), with the glyph ids drawn in it.

    The renderer writes text as two-byte glyph ids in hexadecimal strings after selecting a font (Tf).
    """
    used: dict[str, tuple[DictionaryObject, set[int]]] = {}
    for page in reader.pages:
        resources = page["/Resources"]["/Font"]
        current: DictionaryObject | None = None
        for match in _DRAWING.finditer(page.get_contents().get_data()):
            if match[1]:
                current = resources[match[1].decode()].get_object()
                continue
            assert current is not None, "text drawn before any font was chosen"
            codes = bytes.fromhex(match[2].decode())
            glyphs = {int.from_bytes(codes[i : i + 2], "big") for i in range(0, len(codes), 2)}
            used.setdefault(str(current["/BaseFont"]), (current, set()))[1].update(glyphs)
    return used


def embedded_font(font: DictionaryObject) -> TTFont:
    descendant = font["/DescendantFonts"][0].get_object()
    assert descendant["/CIDToGIDMap"] == "/Identity", "glyph ids are the codes drawn"
    descriptor = descendant["/FontDescriptor"].get_object()
    program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
    assert program is not None, f"font {font['/BaseFont']} is not embedded"
    return TTFont(io.BytesIO(program.get_object().get_data()))


class TestThePdf:
    @pytest.mark.parametrize("slug", [TAY_NINH, BINH_PHUOC, f"{TAY_NINH}/en", f"{BINH_PHUOC}/en"])
    def test_every_page_is_a4(self, letters: dict[str, Letter], slug: str) -> None:
        reader = PdfReader(letters[slug].pdf)
        assert len(reader.pages) >= 1 and len(letters[slug].pages) == len(reader.pages)
        for page in reader.pages:
            assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_POINTS, abs=0.5)

    @pytest.mark.parametrize("slug", [TAY_NINH, BINH_PHUOC, f"{TAY_NINH}/en", f"{BINH_PHUOC}/en"])
    def test_every_letter_is_drawn_from_an_embedded_serif_that_has_its_glyph(
        self, letters: dict[str, Letter], slug: str
    ) -> None:
        """No fallback face: each glyph drawn exists, with an outline, in an embedded Times-metric serif,
        and every character of the letter's text is mapped by one of those fonts to such a glyph."""
        used = fonts_used(PdfReader(letters[slug].pdf))
        assert used, "the letter draws text"
        covered: set[str] = set()
        for name, (font, glyphs) in used.items():
            assert re.search(r"\+(Liberation-?Serif|Times-?New-?Roman|Tinos)", name), f"fallback font {name}"
            program = embedded_font(font)
            order = program.getGlyphOrder()
            outlines = program["glyf"]
            for glyph in glyphs:
                assert 0 < glyph < len(order), f"{name} draws glyph {glyph}, which it does not have"
                assert outlines[order[glyph]].numberOfContours != 0 or order[glyph] in ("space", "uni00A0")
            cmap = program.getBestCmap()
            covered |= {chr(code) for code, glyph in cmap.items() if order.index(glyph) in glyphs}
        letter_characters = set(re.sub(r"\s", "", letters[slug].bulletin.parts["txt"]))
        assert letter_characters - covered == set()

    def test_the_tay_ninh_pdf_holds_every_field_of_the_seed_letter_in_order(self, letters: dict[str, Letter]) -> None:
        text = pdf_text(letters[TAY_NINH].pdf)
        position = 0
        for field in TAY_NINH_FIELDS:
            found = text.find(field, position)
            assert found >= 0, f"{field!r} is missing after {text[max(0, position - 80) : position]!r}"
            position = found + len(field)

    def test_pages_are_numbered_from_the_second(self, letters: dict[str, Letter]) -> None:
        def top_line(page: int) -> str:
            command = ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(letters[TAY_NINH].pdf), "-"]
            text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            return next(line.strip() for line in text.splitlines() if line.strip())

        assert len(PdfReader(letters[TAY_NINH].pdf).pages) == 2
        assert top_line(1).startswith("UBND TỈNH TÂY NINH")
        assert top_line(2) == "2"

    def test_the_unnumbered_binh_phuoc_draft_keeps_its_number_and_day_blank(self, letters: dict[str, Letter]) -> None:
        text = subprocess.run(
            ["pdftotext", "-layout", str(letters[BINH_PHUOC].pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        assert re.search(r"Số: {3,}/STTTT-TTra", text)
        assert re.search(r"Bình Phước, ngày {3,}tháng 9 năm 2024", text)
        assert letters[BINH_PHUOC].name == "STTTT-TTra-2024-09.pdf"
        assert letters[TAY_NINH].name == "881-STTTT-TTr-2024-05-14.pdf"

    def test_the_header_keeps_each_title_on_one_line(self, letters: dict[str, Letter]) -> None:
        command = ["pdftotext", "-raw", "-l", "1", str(letters[TAY_NINH].pdf), "-"]
        lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
        titles = ("SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
        for title in titles:
            assert title in lines

    def test_the_english_letter_keeps_the_layout_and_the_draft_its_blank_day(self, letters: dict[str, Letter]) -> None:
        tay_ninh = pdf_text(letters[f"{TAY_NINH}/en"].pdf)
        fields = ("SOCIALIST REPUBLIC OF VIET NAM", "No.: 881/STTTT-TTr", "Tây Ninh, 14 May 2024", "To:")
        # The English letterhead wraps in its column: no title is pushed off the page.
        fields += ("TAY NINH PROVINCIAL PEOPLE'S COMMITTEE", "DEPARTMENT OF INFORMATION AND COMMUNICATIONS")
        for field in fields:
            assert field in tay_ninh
        command = ["pdftotext", "-layout", str(letters[f"{BINH_PHUOC}/en"].pdf), "-"]
        binh_phuoc = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        assert re.search(r"Bình Phước, {3,}September 2024", binh_phuoc)
        assert "Do not click on unfamiliar links the callers send;" in re.sub(r"\s+", " ", binh_phuoc)


class TestNames:
    def test_the_file_is_named_by_number_and_date_in_ascii(self) -> None:
        assert letter_filename("881/STTTT-TTr", date(2024, 5, 14)) == "881-STTTT-TTr-2024-05-14.pdf"
        assert letter_filename("12/QĐ-UBND", date(2025, 1, 5)) == "12-QD-UBND-2025-01-05.pdf"

    def test_a_letter_is_numbered_when_something_stands_before_the_slash(self) -> None:
        assert is_numbered("881/STTTT-TTr") and is_numbered("05/STTTT")
        assert not is_numbered("     /STTTT-TTra") and not is_numbered("")

    def test_a_bulletin_without_an_html_letter_has_no_pdf(self) -> None:
        assert letter_file(None, "1/X", date(2024, 1, 1)) is None

    def test_the_same_letter_is_laid_out_once(self) -> None:
        html = "<p>Kính gửi: Sở Y tế</p>"
        first = letter_pdf(html)
        assert first.startswith(b"%PDF-")
        assert letter_pdf(html) is first, "the second recipient gets the very same bytes"


# ---- the HTML part in a real browser ----------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# The lines of the header that must each stay on one line (DOMAIN §7).
HEADER_LINES = [
    "UBND TỈNH TÂY NINH",
    "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Tây Ninh, ngày 14 tháng 5 năm 2024",
]
# How many boxes the browser lays each header line out in: one box is one line.
LINE_BOXES = """(texts) => texts.map((text) => {
  const node = [...document.querySelectorAll('div, span')].find((e) => e.textContent.trim() === text);
  if (!node) return [text, 0];
  const range = document.createRange();
  range.selectNodeContents(node);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return [text, tops.size];
})"""
STYLE_OF = """(text) => {
  const node = [...document.querySelectorAll('div, span')].filter((e) => e.textContent.trim() === text).pop();
  const style = getComputedStyle(node);
  return {weight: style.fontWeight, italic: style.fontStyle, rule: style.borderBottomStyle, family: style.fontFamily};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = "Debian's chromium (config/debian-packages.txt) is not installed"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


def _open(browser: Any, html: str, width: int, *, drop_style: bool = False) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 1100})
    page.set_content(html)
    if drop_style:  # as a mail client that strips <style> shows it
        page.evaluate("() => document.querySelectorAll('style').forEach((s) => s.remove())")
    return page


class TestTheHtmlPart:
    def test_at_a4_width_each_header_line_stays_on_one_line(self, browser: Any, letters: dict[str, Letter]) -> None:
        page = _open(browser, letters[TAY_NINH].bulletin.parts["html"], 794)  # 210 mm at 96 px per inch
        assert page.evaluate(LINE_BOXES, HEADER_LINES) == [[text, 1] for text in HEADER_LINES]
        page.screenshot(path=str(ARTEFACTS / "html-a4.png"), full_page=True)

    def test_in_a_600_px_reading_pane_nothing_scrolls_sideways(self, browser: Any, letters: dict[str, Letter]) -> None:
        page = _open(browser, letters[TAY_NINH].bulletin.parts["html"], 600)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 600
        assert page.evaluate(LINE_BOXES, HEADER_LINES) == [[text, 1] for text in HEADER_LINES]
        page.screenshot(path=str(ARTEFACTS / "html-600px.png"), full_page=True)

    def test_without_its_style_block_the_letter_keeps_its_capitals_bold_italics_and_rules(
        self, browser: Any, letters: dict[str, Letter]
    ) -> None:
        page = _open(browser, letters[TAY_NINH].bulletin.parts["html"], 794, drop_style=True)
        assert page.evaluate("() => document.querySelectorAll('style').length") == 0
        unit, nation = page.evaluate(STYLE_OF, "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"), page.evaluate(STYLE_OF, HEADER_LINES[2])
        assert unit["weight"] == "700" and nation["weight"] == "700" and "Times New Roman" in unit["family"]
        assert page.evaluate(STYLE_OF, "Độc lập - Tự do - Hạnh phúc")["rule"] == "solid"
        assert page.evaluate(STYLE_OF, "Tây Ninh, ngày 14 tháng 5 năm 2024")["italic"] == "italic"
        copies = page.evaluate(STYLE_OF, "Nơi nhận:")
        assert copies["weight"] == "700" and copies["italic"] == "italic"
        assert page.evaluate(LINE_BOXES, HEADER_LINES) == [[text, 1] for text in HEADER_LINES]
        page.screenshot(path=str(ARTEFACTS / "html-without-style.png"), full_page=True)

    def test_printed_from_the_browser_it_comes_out_on_a4(self, browser: Any, letters: dict[str, Letter]) -> None:
        page = _open(browser, letters[TAY_NINH].bulletin.parts["html"], 794)
        printed = page.pdf(prefer_css_page_size=True)
        pages = PdfReader(io.BytesIO(printed)).pages
        assert len(pages) >= 1
        for each in pages:
            assert (float(each.mediabox.width), float(each.mediabox.height)) == pytest.approx(A4_POINTS, abs=0.5)
