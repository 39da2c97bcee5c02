"""The charts are SVG that reads without colour: each series a different pattern or grey, every bar its
number, the title for screen readers, and text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

from broadcaster import charts
from broadcaster.operations.reporting import CHARTED_STATIONS, layout
from broadcaster.operations.results import Airing, Results, StationResult

SVG = "{http://www.w3.org/2000/svg}"


def test_stacked_shares_carry_their_numbers_and_patterns() -> None:
    series = [charts.Series("Đã đến nơi", [8, 9]), charts.Series("Không đến được", [2, 1])]
    drawn = charts.stacked_bars("c", "Tỉ lệ <kết quả>", ["SMS & Zalo", "Facebook"], series, shares=True)
    tree = ElementTree.fromstring(drawn)
    texts = [element.text for element in tree.iter(f"{SVG}text")]
    assert "80%" in texts and "20%" in texts and "90%" in texts
    assert tree.find(f"{SVG}title").text == "Tỉ lệ <kết quả>"  # type: ignore[union-attr]
    fills = {element.get("fill") for element in tree.iter(f"{SVG}rect")}
    assert "#333" in fills and "url(#c-hatch)" in fills  # dark solid, then hatched: apart in black and white
    assert "SMS &amp; Zalo" in drawn


def test_columns_over_time_total_each_day() -> None:
    series = [charts.Series("SMS", [3, 0, 5]), charts.Series("E-mail", [1, 2, 0])]
    tree = ElementTree.fromstring(charts.columns("d", "Theo ngày", ["01/03", "02/03", "03/03"], series))
    texts = [element.text for element in tree.iter(f"{SVG}text")]
    assert [text for text in texts if text in {"4", "2", "5"}] == ["4", "2", "5"]
    assert {"01/03", "02/03", "03/03"} <= set(texts)


def test_a_province_of_stations_charts_those_to_look_at_and_tables_them_all() -> None:
    stations = [
        StationResult(
            station=f"s{index:03d}",
            station_name=f"Đài xã {index:03d}",
            area=None,
            airing=Airing(slots=10, aired=10 - index % 7, unconfirmed=index % 7),
        )
        for index in range(100)
    ]
    found = Results(
        campaign=None, subject=None, number=None, start=None, end=None, at=datetime(2026, 3, 4, tzinfo=UTC),
        campaigns=[], channels=[], areas=[], stations=stations, lists=[], days=[],
    )  # fmt: skip
    laid_out = layout(found, "vi")
    tree = ElementTree.fromstring(laid_out.charts["by_station"])
    title = tree.find(f"{SVG}title").text  # type: ignore[union-attr]
    assert title == f"Buổi phát của {CHARTED_STATIONS} đài nhiều buổi không phát, chưa xác nhận nhất (trong 100 đài)"
    labels = {element.text for element in tree.iter(f"{SVG}text")}
    assert "Đài xã 006" in labels and "Đài xã 000" not in labels  # six unconfirmed slots, against none
    assert len(next(table for table in laid_out.tables if table.key == "by_station").rows) == 100
