"""python -m bench.report_pdf: what the report's A4 PDF costs to make, in CPU time, without a server or a
database: figures shaped like `bench.console`'s (SMS fired ten times this week to 100,000 numbers in 40
areas; radio twice a day for `--days` days on `--stations` stations), laid out `--n` times each way:

- **whole**: the report as one document, as it was laid out before it was split in two parts;
- **first export**: the two parts laid out and joined, the figures' part not laid out before (what the
  first export of new figures costs when the results page did not lay them out ahead);
- **a new text**: the figures' part laid out before, the text new each time (the usual export).

CPU seconds of this process (`time.process_time`), median and slowest; the machine's load average is
printed with them, since the machine these run on is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from rich.console import Console
from rich.table import Table

from broadcaster import letters
from broadcaster.operations import report_files, reporting
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
from broadcaster.settings import shipped_dir

AREAS = 40
SMS_DAYS = 7
NUMBERS = 100_000
ISSUER = {
    "body": "UBND TỈNH TÂY NINH",
    "unit": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
    "symbol": "STTTT",
    "place": "Tây Ninh",
    "signer": {"authority": "KT. GIÁM ĐỐC", "title": "PHÓ GIÁM ĐỐC", "name": "Nguyễn Văn An"},
}


def _sms(scale: int) -> Tally:
    """Ten fires' outcomes in bench.console's shares: 90 % sent, 5 % delivered, 3 % failed, 2 % skipped."""
    return Tally(
        planned=scale,
        sent=scale * 95 // 100,
        delivered=scale * 5 // 100,
        awaiting_report=scale * 90 // 100,
        failed=scale * 3 // 100,
        skipped=scale * 2 // 100,
    )


def results(stations: int, days: int) -> Results:
    today = date.today()
    slots = 2 * days
    station = Airing(
        slots=slots,
        aired=slots * 7 // 10,
        not_aired=slots // 10,
        unconfirmed=slots - slots * 7 // 10 - slots // 10,
        overdue=slots // 10,
        not_aired_reasons={"equipment": slots // 40, "power": slots // 20, "other": slots // 40},
    )
    radio = Airing(
        slots=slots * stations,
        aired=station.aired * stations,
        not_aired=station.not_aired * stations,
        unconfirmed=station.unconfirmed * stations,
        overdue=station.overdue * stations,
        not_aired_reasons={key: value * stations for key, value in station.not_aired_reasons.items()},
    )
    everything = _sms(10 * NUMBERS)
    days_rows = [
        DayResult(day=today - timedelta(days=back), channel="radio", deliveries=Tally(planned=2 * stations))
        for back in range(days)
    ]
    days_rows += [
        DayResult(day=today - timedelta(days=back), channel="sms", deliveries=_sms(NUMBERS + back))
        for back in range(SMS_DAYS)
    ]
    return Results(
        campaign="bench",
        subject="cảnh báo lừa đảo giả danh điện lực",
        number=None,
        start=None,
        end=None,
        at=datetime.now(UTC),
        campaigns=["bench"],
        channels=[
            ChannelResult(channel="sms", kind="sms", fires=10, fires_missed=0, deliveries=everything),
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
            AreaResult(province="Tỉnh Tây Ninh", area=f"Xã Phước Vinh {n}", channel="sms", deliveries=_sms(25_000 + n))
            for n in range(AREAS)
        ],
        stations=[
            StationResult(
                station=f"dai-{n}", station_name=f"Đài Truyền thanh xã Hòa Thành {n}", area=None, airing=station
            )
            for n in range(stations)
        ],
        lists=[ListResult(list="toan-tinh", list_name="Thuê bao toàn tỉnh", deliveries=everything)],
        days=sorted(days_rows, key=lambda row: (row.day, row.channel)),
    )


def report(found: Results, text: str) -> report_files.Report:
    return report_files.Report(
        issuer=ISSUER,
        subject="kết quả tuyên truyền cảnh báo lừa đảo giả danh điện lực",
        text=text,
        addressee="Ủy ban nhân dân tỉnh Tây Ninh",
        day=date.today(),
        at=found.at,
        layout=reporting.layout(found, "vi"),
    )


def _forget() -> None:
    """Every layout kept so far forgotten: the next is laid out afresh."""
    letters._LETTERS = letters.Layouts(keep=16)
    report_files._FIGURES = letters.Layouts(keep=8)


def _timed(make: Callable[[], object], n: int, before: Callable[[], None]) -> list[float]:
    spent = []
    for _ in range(n):
        before()
        started = time.process_time()
        make()
        spent.append(time.process_time() - started)
    return spent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=50, help="radio stations")
    parser.add_argument("--days", type=int, default=60, help="days the radio aired")
    parser.add_argument("--n", type=int, default=5, help="layouts of each kind")
    args = parser.parse_args(argv)
    templates = shipped_dir("content") / "templates"
    found = results(args.stations, args.days)

    def fresh() -> report_files.Report:
        return report(found, f"Báo cáo kết quả tuyên truyền ({uuid.uuid4().hex[:8]}).")

    letters._layout("<p>WeasyPrint, Pango and the fonts loaded</p>")
    pdf = report_files.report_pdf(fresh(), templates)
    cells = sum(len(row) for table in report(found, "").layout.tables for row in table.rows)
    kinds: dict[str, list[float]] = {
        "whole": _timed(
            lambda: letters._layout(report_files.report_html(fresh(), templates, report_files.WHOLE)), args.n, _forget
        ),
        "first export (figures not laid out before)": _timed(
            lambda: report_files.report_pdf(fresh(), templates), args.n, _forget
        ),
        "a new text (figures laid out before)": _timed(
            lambda: report_files.report_pdf(fresh(), templates), args.n, lambda: None
        ),
    }
    table = Table(
        title=f"the report's PDF: {args.stations} stations × {args.days} days, {cells:,} table cells, "
        f"{len(pdf):,} bytes; load average {' '.join(f'{load:.1f}' for load in os.getloadavg())}"
    )
    for column in ("layout", "median CPU-s", "slowest CPU-s"):
        table.add_column(column, justify="left" if column == "layout" else "right")
    for name, spent in kinds.items():
        table.add_row(name, f"{statistics.median(spent):.3f}", f"{max(spent):.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
