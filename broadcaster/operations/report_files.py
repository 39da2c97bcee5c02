"""The results as files: "Báo cáo kết quả tuyên truyền" as an editable .docx and an A4 PDF (the letter's
letterhead and WeasyPrint path, `broadcaster.letters`), and the figures as .xlsx and CSV.

All four are written from one `broadcaster.operations.reporting.Layout`: the same tables, so the same numbers.
The report's number and day stay blank for the clerk, as on a letter not yet signed.
"""

from __future__ import annotations

import base64
import functools
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from broadcaster.csvfiles import spreadsheet_safe
from broadcaster.letters import Layouts, letter_pdf
from broadcaster.operations.reporting import Layout
from broadcaster.rendering import build_environment
from broadcaster.text import admin_date, strip_diacritics

REPORT_TEMPLATE = "_layouts/vi/report.html.j2"
FORMATS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
BLANK_NUMBER = " " * 6  # where the clerk writes the number by hand


@dataclass(frozen=True)
class Report:
    """What the document says: who reports (the issuer, as `rendering.issuer_context` gives it), to whom,
    about what, the staff's text, and the laid-out figures."""

    issuer: Mapping[str, Any]
    subject: str  # "kết quả tuyên truyền …"
    text: str
    addressee: str
    day: date  # the month and year written on it; the day stays blank
    at: datetime  # when the figures were read
    layout: Layout

    @property
    def number(self) -> str:
        return f"{BLANK_NUMBER}/BC-{self.issuer.get('symbol') or 'BC'}"

    @property
    def as_of(self) -> str:
        return f"Số liệu tính đến {self.at:%H:%M} ngày {self.at:%d/%m/%Y}."

    def filename(self, extension: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9]+", "-", strip_diacritics(self.subject)).strip("-").lower()[:60]
        return f"bao-cao-{stem or 'ket-qua'}-{self.day:%Y-%m-%d}.{extension}"


def default_addressee(issuer: Mapping[str, Any]) -> str:
    """Whom the department reports to: its body, "UBND TỈNH TÂY NINH" → "Ủy ban nhân dân tỉnh Tây Ninh"."""
    words = str(issuer.get("body") or "").split()
    if not words:
        return ""
    readings: Mapping[str, str] = issuer.get("readings") or {}
    first = readings.get(words[0], words[0].title())
    rest = " ".join(words[1:]).title()
    return f"{first} {rest[:1].lower()}{rest[1:]}".strip()


def chart_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# The PDF's two parts (`report_pdf`): the text's pages with the first sections (the overview by channel,
# a line a channel), then the other sections' from a page of their own.
TEXT, FIGURES, WHOLE = "text", "figures", "whole"
WITH_TEXT = 1


def report_html(report: Report, templates: Path, part: str = WHOLE, first_page: int = 1) -> str:
    """The report's HTML for WeasyPrint: the whole of it, or one of its two parts (`TEXT`: the letterhead,
    the title, the staff's text, when the figures were read and the first `WITH_TEXT` sections; `FIGURES`:
    the other sections and the signature, its pages numbered from `first_page`)."""
    sections = [
        {
            "title": table.title,
            "header": table.header,
            "rows": table.rows,
            "chart": chart_uri(report.layout.charts[table.key]) if table.key in report.layout.charts else None,
            "widths": column_widths(table.rows, len(table.header)),
        }
        for table in report.layout.tables
        if table.rows
    ]
    context = {
        "issuer": report.issuer,
        "campaign": {"number": report.number, "numbered": False, "date": report.day, "subject": report.subject},
        "addressees": [report.addressee] if report.addressee.strip() else [],
        "recipient": {"name": ""},
        "copy_to": [],
        "archive": "VT",
        "report": {
            "part": part,
            "with_text": WITH_TEXT,
            "first_page": first_page,
            "subject": report.subject[:1].upper() + report.subject[1:],
            "text": report.text,
            "sections": sections,
            "as_of": report.as_of,
            "closing": "",
        },
    }
    return build_environment(templates).get_template(REPORT_TEMPLATE).render(context)


CHARACTERS_PER_SHARE = 8  # a column of numbers is one share wide; a column of names one share per 8 letters
WIDEST_SHARES = 5


def column_widths(rows: list[list[str | int]], columns: int) -> list[float]:
    """Each column's share of the table's width (per cent): the PDF's tables have fixed widths, so that the
    layout does not measure every cell's text first; a column of names or reasons is as wide as its longest
    text needs (up to five numbers' width), a column of numbers gets one share."""
    weights = []
    for column in range(columns):
        texts = [str(row[column]) for row in rows if column < len(row) and not isinstance(row[column], int)]
        longest = max((len(text) for text in texts), default=0)
        weights.append(max(1.0, min(longest / CHARACTERS_PER_SHARE, WIDEST_SHARES)))
    return [round(100 * weight / sum(weights), 2) for weight in weights]


# The figures' parts laid out lately (a report's text is written anew each time, its figures are not).
_FIGURES = Layouts(keep=8)


def report_pdf(report: Report, templates: Path) -> bytes:
    """The report as an A4 PDF: its text's pages laid out now, then its figures' pages, laid out once for
    every text written about the same figures (WeasyPrint takes a second or more over a province's stations
    and two months of days; the text, a tenth of that).

    The figures' part is keyed by its HTML: other figures, another signer or another first page number make
    another layout. A report with no more sections than go with the text is one document."""
    if not _split(report):
        return letter_pdf(report_html(report, templates, WHOLE))
    text, figures = _parts(report, templates)
    with _JOINING:
        joined = _JOINED.get((text, figures))
    if joined is None:
        joined = _join(text, figures)
        with _JOINING:
            _JOINED[(text, figures)] = joined
            while len(_JOINED) > 4:
                _JOINED.popitem(last=False)
    return joined


# The last files made by joining two parts, by those parts: the same form posted again gets the same bytes.
_JOINED: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()
_JOINING = threading.Lock()


def _split(report: Report) -> bool:
    return sum(1 for table in report.layout.tables if table.rows) > WITH_TEXT


def _parts(report: Report, templates: Path) -> tuple[bytes, bytes]:
    """The text's part laid out (or the same text's layout kept), then the figures' part numbered on from it."""
    from pypdf import PdfReader

    text = letter_pdf(report_html(report, templates, TEXT))
    pages = len(PdfReader(io.BytesIO(text)).pages)
    return text, _FIGURES.pdf(report_html(report, templates, FIGURES, first_page=pages + 1))


def _join(*parts: bytes) -> bytes:
    """One PDF of the parts' pages in turn, with the first part's title and other metadata."""
    from pypdf import PdfReader, PdfWriter

    read = [PdfReader(io.BytesIO(part)) for part in parts]
    joined = PdfWriter()
    for part in read:
        joined.append(part)
    if read[0].metadata:
        joined.add_metadata(dict(read[0].metadata))
    buffer = io.BytesIO()
    joined.write(buffer)
    return buffer.getvalue()


_AHEAD = threading.Lock()


def lay_out_ahead(make: Callable[[], Report], templates: Path) -> bool:
    """Lay out the report's figures (the report `make` gives, with the text the page offers) in a background
    thread while the staff read the results and write their text: their export then lays out its text only.
    One at a time: False, and nothing done, while another is under way."""
    if not _AHEAD.acquire(blocking=False):
        return False

    def lay_out() -> None:
        try:
            report = make()
            if _split(report):
                _parts(report, templates)
        finally:
            _AHEAD.release()

    threading.Thread(target=lay_out, name="report-layout-ahead", daemon=True).start()
    return True


def report_docx(report: Report) -> bytes:
    """The report as Word: the letterhead in a two-column table without borders, the title, the text as
    paragraphs the staff can still edit, when the figures were read, each section's chart (a picture) and
    its table, the signature."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    # A4 with the margins of Decree 30/2020 (DOMAIN §7), as the letter.
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    issuer = report.issuer
    head = document.add_table(rows=2, cols=2)
    _lines(
        head.cell(0, 0),
        [(str(issuer.get("body", "")), 12, False, False), (str(issuer.get("unit", "")), 12, True, False)],
    )
    nation = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, True, False), ("Độc lập - Tự do - Hạnh phúc", 13, True, False)]
    _lines(head.cell(0, 1), nation)
    _lines(head.cell(1, 0), [(f"Số: {report.number}", 13, False, False)])
    place = admin_date(str(issuer.get("place", "")), report.day, day_blank=True)
    _lines(head.cell(1, 1), [(place, 14, False, True)])
    for line in ("BÁO CÁO", report.subject[:1].upper() + report.subject[1:]):
        _centred(document.add_paragraph(), line, 14, bold=True)
    if report.addressee.strip():
        _centred(document.add_paragraph(), f"Kính gửi: {report.addressee}.", 14)
    for paragraph in re.split(r"\n\s*\n", report.text.strip()):
        if paragraph.strip():
            written = document.add_paragraph(paragraph.strip())
            written.paragraph_format.first_line_indent = Mm(10)
            written.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    document.add_paragraph().add_run(report.as_of).italic = True  # as in the PDF: before the figures
    for index, table in enumerate([table for table in report.layout.tables if table.rows], start=1):
        document.add_paragraph().add_run(f"{index}. {table.title}").bold = True
        if table.key in report.layout.charts:
            document.add_picture(io.BytesIO(chart_png(report.layout.charts[table.key])), width=Mm(150))
        _grid(document, table.header, table.rows, width=section.page_width - Mm(45))
    foot = document.add_table(rows=1, cols=2)
    _lines(
        foot.cell(0, 0),
        [("Nơi nhận:", 12, True, True), ("- Như trên;", 11, False, False), ("- Lưu: VT.", 11, False, False)],
    )
    signer: Mapping[str, Any] = issuer.get("signer") or {}
    signature = [(str(signer.get(key) or ""), 14, True, False) for key in ("authority", "title") if signer.get(key)]
    _lines(
        foot.cell(0, 1),
        [*signature, ("", 14, False, False), ("", 14, False, False), (str(signer.get("name") or ""), 14, True, False)],
    )
    properties = document.core_properties
    properties.title = f"Báo cáo {report.subject}"
    properties.author = str(issuer.get("unit_name") or "")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _lines(cell: Any, lines: list[tuple[str, int, bool, bool]]) -> None:
    """Centred lines in a cell of the letterhead: (text, size in points, bold, italic)."""
    first = True
    for text, size, bold, italic in lines:
        paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        _centred(paragraph, text, size, bold=bold, italic=italic)


def _centred(paragraph: Any, text: str, size: int, *, bold: bool = False, italic: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.font.size, run.bold, run.italic = Pt(size), bold, italic


EMU_PER_TWIP = 635


def _grid(document: Any, header: list[str], rows: list[list[str | int]], *, width: int) -> None:
    """A table of figures in "Table Grid" style, 9 pt, its header in bold, numbers to the right, its columns
    as wide as the PDF's: written as one piece of WordprocessingML, since building it cell by cell through
    python-docx costs about a millisecond a cell (seconds for a report over many stations and days)."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    twips = width // EMU_PER_TWIP
    widths = [int(twips * share / 100) for share in column_widths(rows, len(header))]

    def cell(value: str | int, column: int, bold: bool) -> str:
        right = '<w:pPr><w:jc w:val="right"/></w:pPr>' if isinstance(value, int) else ""
        strong = "<w:b/>" if bold else ""
        return (
            f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{widths[column]}"/></w:tcPr><w:p>{right}<w:r>'
            f'<w:rPr>{strong}<w:sz w:val="18"/></w:rPr><w:t xml:space="preserve">{escape(str(value))}</w:t></w:r>'
            "</w:p></w:tc>"
        )

    heading: list[str | int] = list(header)
    marked = [(True, heading)] + [(False, row) for row in rows]
    lines = [
        "<w:tr>" + "".join(cell(value, column, bold) for column, value in enumerate(row)) + "</w:tr>"
        for bold, row in marked
    ]
    grid = parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:type="auto" w:w="0"/>'
        '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
        'w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>'
        + "".join(f'<w:gridCol w:w="{column}"/>' for column in widths)
        + "</w:tblGrid>"
        + "".join(lines)
        + "</w:tbl>"
    )
    body = document.element.body
    if body.sectPr is not None:  # the document's last element: tables go before it
        body.sectPr.addprevious(grid)
    else:
        body.append(grid)


@functools.lru_cache(maxsize=32)
def chart_png(svg: str) -> bytes:
    """A chart as a picture for Word, which shows no SVG of its own everywhere: drawn twice the size, sharp
    when printed. Kept for the next export of the same figures (whatever its text): drawing one takes a
    tenth of a second or more."""
    import cairosvg

    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2)
    return png


def figures_xlsx(layout: Layout) -> bytes:
    """One sheet per table, its header in bold, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in layout.tables:
        sheet = book.create_sheet(table.title[:31])  # Excel's longest sheet name
        sheet.append(table.header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([value if isinstance(value, int) else spreadsheet_safe(value) for value in row])
        for column, title in enumerate(table.header, start=1):
            sheet.column_dimensions[sheet.cell(1, column).column_letter].width = max(10, min(40, len(title) + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def figures_csv(layout: Layout) -> bytes:
    """Every table one after another: its title on a line, its header, its rows, a blank line between two."""
    from broadcaster.csvfiles import titled_tables_csv

    return titled_tables_csv((table.title, table.header, table.rows) for table in layout.tables)
