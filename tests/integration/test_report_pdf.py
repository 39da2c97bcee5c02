"""The report's PDF in two parts (`report_files.report_pdf`): the text's pages laid out at each export, the
other sections' laid out once per figures and joined after them. Read back with poppler: the same words as
the report laid out whole, every page from the second numbered in turn, the staff's new text in it, and the
figures' part laid out again when the figures (or the text's number of pages) change."""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from broadcaster import letters
from broadcaster.operations import report_files as files
from broadcaster.operations import reporting
from broadcaster.operations.results import (
    Airing,
    AreaResult,
    ChannelResult,
    DayResult,
    ListResult,
    Results,
    StationResult,
    Tally,
)
from tests.conftest import CONTENT

TEMPLATES = CONTENT / "templates"
ISSUER = {
    "body": "UBND TỈNH TÂY NINH",
    "unit": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
    "symbol": "STTTT",
    "place": "Tây Ninh",
    "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Nguyễn Văn Bình"},
}
TEXT = "Sở đã triển khai tuyên truyền trên hai kênh.\n\nĐề nghị các đài xác nhận buổi phát đúng hạn."


def results(stations: int, days: int, aired: int = 20) -> Results:
    """SMS for the last week, radio twice a day on `stations` stations for `days` days (each station
    `aired` slots confirmed): enough rows for the figures to run over several pages."""
    today = date(2026, 12, 7)
    slots = days * 2
    sms = Tally(planned=1000, sent=950, delivered=900, undelivered=20, unknown=10, failed=30, skipped=20)
    airing = Airing(
        slots=slots, aired=aired, not_aired=slots - aired - 1, unconfirmed=1, not_aired_reasons={"power": 3}
    )
    radio = Airing(
        slots=slots * stations,
        aired=aired * stations,
        not_aired=(slots - aired - 1) * stations,
        unconfirmed=stations,
        not_aired_reasons={"power": 3 * stations},
    )
    return Results(
        campaign="bao-cao",
        subject="cảnh báo lừa đảo",
        number=None,
        start=None,
        end=None,
        at=datetime(2026, 12, 7, 3, 0, tzinfo=UTC),
        campaigns=["bao-cao"],
        channels=[
            ChannelResult(channel="sms", kind="sms", fires=7, fires_missed=0, deliveries=sms),
            ChannelResult(
                channel="radio",
                kind="radio",
                fires=slots,
                fires_missed=0,
                deliveries=Tally(planned=slots * stations, sent=slots * stations),
                airing=radio,
            ),
        ],
        areas=[
            AreaResult(province="Tây Ninh", area=f"Xã Phước Vinh {index}", channel="sms", deliveries=sms)
            for index in range(10)
        ],
        stations=[
            StationResult(station=f"dai-{index}", station_name=f"Đài xã Hòa Thành {index}", area=None, airing=airing)
            for index in range(stations)
        ],
        lists=[ListResult(list="toan-tinh", list_name="Thuê bao toàn tỉnh", deliveries=sms)],
        days=[
            DayResult(day=today - timedelta(days=day), channel="radio", deliveries=Tally(planned=2 * stations))
            for day in range(days)
        ],
    )


def report(found: Results, text: str = TEXT) -> files.Report:
    return files.Report(
        issuer=ISSUER,
        subject="kết quả tuyên truyền cảnh báo lừa đảo",
        text=text,
        addressee="Ủy ban nhân dân tỉnh Tây Ninh",
        day=date(2026, 12, 7),
        at=found.at,
        layout=reporting.layout(found, "vi"),
    )


def pages(pdf: bytes, folder: Path) -> list[str]:
    """Each page's text, as poppler reads it."""
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    read = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return read.stdout.split("\f")[:-1]


def words_without_numbers(texts: list[str]) -> list[str]:
    """The words of every page in order, without the page number heading each page from the second."""
    found: list[str] = []
    for index, text in enumerate(texts):
        lines = [line for line in text.splitlines() if line.strip()]
        if index:
            assert lines[0].strip() == str(index + 1), f"page {index + 1} is numbered {lines[0].strip()!r}"
            lines = lines[1:]
        found += " ".join(lines).split()
    return found


def test_a_new_text_lays_out_only_the_text_and_reads_as_the_whole_report(layouts: list[str], tmp_path: Path) -> None:
    found = results(stations=40, days=20)
    first = pages(files.report_pdf(report(found), TEMPLATES), tmp_path)
    assert len(layouts) == 2  # the text's part and the figures'
    assert len(first) >= 4

    again = "Sở đã phối hợp với 40 đài truyền thanh cấp xã.\n\nKết quả cụ thể như sau."
    second = pages(files.report_pdf(report(found, again), TEMPLATES), tmp_path)
    assert len(layouts) == 3, "the second text's export lays out its text only"
    words = " ".join(words_without_numbers(second))
    assert "Sở đã phối hợp với 40 đài truyền thanh cấp xã." in words and "hai kênh" not in words
    assert "Đài xã Hòa Thành 39" in words and "Nguyễn Văn Bình" in words  # the last station, the signature

    whole = files.letter_pdf(files.report_html(report(found, again), TEMPLATES, files.WHOLE))
    assert words_without_numbers(second) == words_without_numbers(pages(whole, tmp_path))
    head = " ".join(second[0].split())
    assert "BÁO CÁO" in head and "Số liệu tính đến 03:00 ngày 07/12/2026." in head
    assert "1. Kết quả theo kênh" in head and "2. Phát thanh theo đài" not in head


def test_the_figures_are_numbered_on_from_a_text_of_several_pages(layouts: list[str], tmp_path: Path) -> None:
    found = results(stations=40, days=20)
    short = pages(files.report_pdf(report(found), TEMPLATES), tmp_path)
    long_text = "\n\n".join(
        f"Đoạn {index}: " + "đài truyền thanh cơ sở đã phát đúng lịch. " * 12 for index in range(12)
    )
    long = pages(files.report_pdf(report(found, long_text), TEMPLATES), tmp_path)
    assert len(layouts) == 4, "a text one page longer moves the figures' first page: laid out again"
    assert len(long) > len(short)
    words_without_numbers(long)  # every page from the second carries its own number
    assert "Đoạn 11:" in " ".join(" ".join(page.split()) for page in long)


def test_other_figures_are_laid_out_again(layouts: list[str], tmp_path: Path) -> None:
    files.report_pdf(report(results(stations=40, days=20)), TEMPLATES)
    changed = pages(files.report_pdf(report(results(stations=40, days=20, aired=21)), TEMPLATES), tmp_path)
    # The text's part is the same (its overview by channel counts no slots aired): the figures' alone again.
    assert len(layouts) == 3, "a station's one more slot aired is another figures' part"
    rows = [" ".join(line.split()) for page in changed for line in page.splitlines()]
    assert "Đài xã Hòa Thành 39 40 21 18 1 0 Mất điện: 3" in rows
    assert not any(row.startswith("Đài xã Hòa Thành 39 40 20 ") for row in rows)


def test_the_figures_are_laid_out_ahead(layouts: list[str], tmp_path: Path) -> None:
    found = results(stations=40, days=20)
    assert files.lay_out_ahead(lambda: report(found), TEMPLATES)
    with files._AHEAD:  # held until the background layout is done
        pass
    assert len(layouts) == 2
    written = pages(files.report_pdf(report(found, "Một câu khác hẳn."), TEMPLATES), tmp_path)
    assert len(layouts) == 3 and "Một câu khác hẳn." in written[0]


def test_a_report_with_the_overview_only_is_one_document(layouts: list[str], tmp_path: Path) -> None:
    found = results(stations=0, days=0).model_copy(update={"areas": [], "lists": []})
    written = pages(files.report_pdf(report(found), TEMPLATES), tmp_path)
    assert len(layouts) == 1 and len(written) == 1
    text = " ".join(written[0].split())
    assert "1. Kết quả theo kênh" in text and "Nguyễn Văn Bình" in text


def test_a_serving_process_lays_out_in_a_child_replaced_when_it_dies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(letters, "_PROCESS", None)
    monkeypatch.setattr(letters, "_LETTERS", letters.Layouts(keep=16))
    letters.lay_out_in_a_process()
    first = letters._PROCESS
    assert first is not None
    try:
        page = pages(letters.letter_pdf("<p>Kính gửi: Ủy ban nhân dân tỉnh Tây Ninh.</p>"), tmp_path)
        assert "Kính gửi: Ủy ban nhân dân tỉnh Tây Ninh." in page[0]
        children = list(first._processes.values())
        assert 1 <= len(children) <= letters.CHILDREN and os.getpid() not in [child.pid for child in children]
        for child in children:
            child.kill()
            child.join(timeout=30)
        page = pages(letters.letter_pdf("<p>Đề nghị các đài xác nhận.</p>"), tmp_path)
        assert "Đề nghị các đài xác nhận." in page[0]
        assert letters._PROCESS is not first, "the dead child's pool was replaced"
    finally:
        first.shutdown(wait=False)
        if letters._PROCESS is not None and letters._PROCESS is not first:
            letters._PROCESS.shutdown(wait=True)


def test_two_layouts_at_once_of_one_html_lay_it_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    started, go_on = threading.Event(), threading.Event()

    def slow(html: str) -> bytes:
        made.append(html)
        started.set()
        go_on.wait(timeout=30)
        return b"%PDF " + html.encode()

    monkeypatch.setattr(letters, "_lay_out", slow)
    kept = letters.Layouts(keep=4)
    answers: list[bytes] = []
    first = threading.Thread(target=lambda: answers.append(kept.pdf("<p>một</p>")))
    first.start()
    assert started.wait(timeout=30)
    second = threading.Thread(target=lambda: answers.append(kept.pdf("<p>một</p>")))
    second.start()
    second.join(timeout=0.3)  # time for it to find the first's layout under way, and wait for it
    assert second.is_alive()
    go_on.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert made == ["<p>một</p>"] and answers == [b"%PDF <p>m\xe1\xbb\x99t</p>"] * 2
    assert kept.pdf("<p>hai</p>") == b"%PDF <p>hai</p>" and len(made) == 2
