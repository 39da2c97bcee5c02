"""The charts are SVG that reads without colour: each series a different pattern or grey, every bar its
number, the title for screen readers, and text escaped."""

from __future__ import annotations

from xml.etree import ElementTree

from broadcaster import charts

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
