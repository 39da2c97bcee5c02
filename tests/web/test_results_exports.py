"""The report as .docx and PDF and the figures as .xlsx and CSV, each read back: the same numbers in all
four (and on the page). The PDF's pages are kept as pictures in var/artefacts/results/ to be looked at."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from docx import Document
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock
from broadcaster.operations import report_files
from broadcaster.settings import Settings
from tests.results_scenario import SLUG, moment, results_campaign
from tests.web.console_helpers import form_token, sign_in, staff

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "results"
# The SMS line of the table by channel: fires, missed, planned, sent, delivered, undelivered, unknown,
# awaiting report, failed, skipped.
SMS_ROW = ["Tin nhắn SMS", 3, 1, 14, 13, 9, 2, 1, 1, 1, 0]
GO_DAU_ROW = ["Đài Truyền thanh huyện Gò Dầu", 2, 1, 1, 0, 0, "Mất điện: 1"]
TEXT = "Sở đã triển khai tuyên truyền trên bốn kênh.\n\nĐề nghị các đài xác nhận buổi phát đúng hạn."


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    return web_settings.with_clock(FixedClock(moment(web_settings)))


@pytest.fixture
def reported(shipped: sessionmaker[Session], web_settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    results_campaign(shipped, web_settings, tmp_path)
    staff(shipped, "lan", "drafter")
    return shipped


def export(client: TestClient, kind: str, **fields: str) -> bytes:
    token = form_token(client.get(f"/campaigns/{SLUG}/results").text)
    data = {"csrf_token": token, "format": kind, "text": TEXT, "to": "Ủy ban nhân dân tỉnh Tây Ninh", **fields}
    answer = client.post(f"/campaigns/{SLUG}/results/report", data=data)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"].startswith('attachment; filename="bao-cao-ket-qua-tuyen-truyen-')
    return answer.content


def as_text(row: list[object]) -> list[str]:
    return [str(cell) for cell in row]


def test_the_same_numbers_in_all_four_files(client: TestClient, reported: sessionmaker[Session]) -> None:
    sign_in(client, "lan")

    document = Document(io.BytesIO(export(client, "docx")))
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert as_text(SMS_ROW) in rows and as_text(GO_DAU_ROW) in rows
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    assert "BÁO CÁO" in paragraphs and "Sở đã triển khai tuyên truyền trên bốn kênh." in paragraphs
    assert len(document.inline_shapes) == 3  # the three charts

    book = load_workbook(io.BytesIO(export(client, "xlsx")))
    channel_rows = [list(row) for row in book["Kết quả theo kênh"].iter_rows(values_only=True)]
    assert SMS_ROW in channel_rows
    assert GO_DAU_ROW in [list(row) for row in book["Phát thanh theo đài"].iter_rows(values_only=True)]

    lines = list(csv.reader(io.StringIO(export(client, "csv").decode("utf-8-sig"))))
    assert as_text(SMS_ROW) in lines and as_text(GO_DAU_ROW) in lines

    pdf = export(client, "pdf")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / "bao-cao.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    words = " ".join(text.split())
    assert "BÁO CÁO" in words and "Số: /BC-STTTT" in words and "Tây Ninh, ngày tháng 3 năm 2026" in words
    assert "Ủy ban nhân dân tỉnh Tây Ninh" in words and "Đề nghị các đài xác nhận buổi phát đúng hạn." in words
    assert " ".join(as_text(SMS_ROW)) in words and " ".join(as_text(GO_DAU_ROW)) in words
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(ARTEFACTS / "bao-cao")], check=True)


def test_a_wrong_export_is_refused_in_one_sentence(client: TestClient, reported: sessionmaker[Session]) -> None:
    sign_in(client, "lan")
    token = form_token(client.get(f"/campaigns/{SLUG}/results").text)
    answer = client.post(f"/campaigns/{SLUG}/results/report", data={"csrf_token": token, "format": "exe"})
    assert answer.status_code == 422 and "Hãy chọn một trong các dạng tệp" in answer.text
    backwards = {"csrf_token": token, "format": "pdf", "start": "2026-03-04", "end": "2026-03-01"}
    answer = client.post(f"/campaigns/{SLUG}/results/report", data=backwards)
    assert answer.status_code == 422 and "Ngày kết thúc ở trước ngày bắt đầu." in answer.text


def test_the_results_page_lays_the_pdf_out_ahead(
    client: TestClient, reported: sessionmaker[Session], layouts: list[str]
) -> None:
    """While the staff read the results and write their text, the report's figures are laid out: their
    export lays out its text only."""
    made = layouts
    sign_in(client, "lan")
    client.get(f"/campaigns/{SLUG}/results")
    with report_files._AHEAD:  # held until the layout begun by the page is done
        pass
    assert len(made) == 2, "the text the page offers and the figures"
    pdf = export(client, "pdf")
    assert len(made) == 3, "the export's own text only"
    path = ARTEFACTS / "bao-cao-truoc.pdf"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    words = " ".join(
        subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    assert "Đề nghị các đài xác nhận buổi phát đúng hạn." in words and " ".join(as_text(GO_DAU_ROW)) in words
