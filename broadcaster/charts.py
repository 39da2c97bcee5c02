"""Charts as SVG, drawn on the server: one source for the console's results page and the printed report.

Readable in black and white: each series has a fill that differs in pattern (solid, hatched, dotted,
blank) as well as in grey, every bar carries its number, and the legend repeats the pattern. No script and
no web font: the console shows them inline, WeasyPrint prints them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 640
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"
# (fill, pattern) per series, in order: told apart without colour.
FILLS = (
    ("#333", None),
    ("#fff", "hatch"),
    ("#bbb", None),
    ("#fff", "dots"),
    ("#fff", "cross"),
    ("#777", None),
)
PATTERNS = {
    "hatch": "<path d='M0,6 L6,0' stroke='#000' stroke-width='1.2'/>",
    "dots": "<circle cx='3' cy='3' r='1.2' fill='#000'/>",
    "cross": "<path d='M0,0 L6,6 M0,6 L6,0' stroke='#000' stroke-width='0.8'/>",
}


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]


def _fill(chart_id: str, index: int) -> str:
    colour, pattern = FILLS[index % len(FILLS)]
    return f"url(#{chart_id}-{pattern})" if pattern else colour


def _defs(chart_id: str) -> str:
    patterns = "".join(
        f"<pattern id='{chart_id}-{name}' width='6' height='6' patternUnits='userSpaceOnUse'>"
        f"<rect width='6' height='6' fill='#fff'/>{drawing}</pattern>"
        for name, drawing in PATTERNS.items()
    )
    return f"<defs>{patterns}</defs>"


def _text(x: float, y: float, words: str, size: int = 12, anchor: str = "start", extra: str = "") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' {FONT} {extra}>{escape(words)}</text>"
    )


def _open(chart_id: str, title: str, height: float) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' id='{chart_id}' class='chart' role='img' "
        f"aria-labelledby='{chart_id}-title' viewBox='0 0 {WIDTH} {height:.0f}' width='{WIDTH}' height='{height:.0f}'>"
        f"<title id='{chart_id}-title'>{escape(title)}</title>{_defs(chart_id)}"
        f"<rect width='{WIDTH}' height='{height:.0f}' fill='#fff'/>"
    )


def _shortened(label: str, longest: int) -> str:
    """A label that fits beside its bar; the table beside the chart has it whole."""
    return label if len(label) <= longest else label[: longest - 1].rstrip() + "…"


def _legend(chart_id: str, series: list[Series], y: float) -> str:
    parts, x = [], 10.0
    for index, item in enumerate(series):
        parts.append(
            f"<rect x='{x:.1f}' y='{y - 10:.1f}' width='14' height='12' fill='{_fill(chart_id, index)}' stroke='#000'/>"
        )
        parts.append(_text(x + 19, y, item.name, 11))
        x += 30 + 6.5 * len(item.name)
        if x > WIDTH - 120:
            x, y = 10.0, y + 18
    return "".join(parts)


def stacked_bars(chart_id: str, title: str, labels: list[str], series: list[Series], *, shares: bool = False) -> str:
    """One horizontal bar per label, its series stacked; with `shares`, each bar is the whole (100%) and
    the parts are its shares. Each part wide enough shows its number."""
    left, right, bar, gap = 215.0, 24.0, 22.0, 10.0
    top = 30.0
    height = top + len(labels) * (bar + gap) + 20 + 18 * (1 + len(series) // 5)
    out = [_open(chart_id, title, height), _text(10, 18, title, 13, extra="font-weight='bold'")]
    totals = [sum(item.values[row] for item in series) for row in range(len(labels))]
    largest = max([*totals, 1])
    span = WIDTH - left - right
    for row, label in enumerate(labels):
        y = top + row * (bar + gap)
        out.append(_text(left - 6, y + bar / 2 + 4, _shortened(label, 34), 11, "end"))
        whole = totals[row] if shares else largest
        x = left
        for index, item in enumerate(series):
            value = item.values[row]
            if not value or not whole:
                continue
            width = span * value / whole
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{width:.1f}' height='{bar:.0f}' "
                f"fill='{_fill(chart_id, index)}' stroke='#000' stroke-width='0.8'/>"
            )
            shown = f"{100 * value / whole:.0f}%" if shares else str(value)
            if width > 7.5 * len(shown) + 6:
                dark = FILLS[index % len(FILLS)][0] in ("#333", "#777")
                box = f"fill='{'#fff' if dark else '#000'}'"
                if not dark and FILLS[index % len(FILLS)][1]:  # a white box under the number on a pattern
                    out.append(
                        f"<rect x='{x + width / 2 - 4 * len(shown) - 2:.1f}' y='{y + 4:.1f}' "
                        f"width='{8 * len(shown) + 4:.1f}' height='{bar - 8:.0f}' fill='#fff'/>"
                    )
                out.append(_text(x + width / 2, y + bar / 2 + 4, shown, 11, "middle", box))
            x += width
        if not shares:
            out.append(_text(x + 4, y + bar / 2 + 4, str(totals[row]), 11))
    out.append(_legend(chart_id, series, top + len(labels) * (bar + gap) + 14))
    out.append("</svg>")
    return "".join(out)


def columns(chart_id: str, title: str, labels: list[str], series: list[Series]) -> str:
    """Vertical columns over time (one per label), the series stacked, each column's total above it."""
    left, bottom, top, plot = 40.0, 40.0, 36.0, 180.0
    height = top + plot + bottom + 18 * (1 + len(series) // 5)
    out = [_open(chart_id, title, height), _text(10, 18, title, 13, extra="font-weight='bold'")]
    totals = [sum(item.values[column] for item in series) for column in range(len(labels))]
    largest = max([*totals, 1])
    step = (WIDTH - left - 10) / max(len(labels), 1)
    width = min(step * 0.7, 48)
    base = top + plot
    out.append(f"<line x1='{left}' y1='{base}' x2='{WIDTH - 10}' y2='{base}' stroke='#000'/>")
    every = max(1, len(labels) // 12)  # no more than a dozen dates written under the axis
    for column, label in enumerate(labels):
        x = left + column * step + (step - width) / 2
        y = base
        for index, item in enumerate(series):
            value = item.values[column]
            if not value:
                continue
            tall = plot * value / largest
            y -= tall
            out.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{width:.1f}' height='{tall:.1f}' "
                f"fill='{_fill(chart_id, index)}' stroke='#000' stroke-width='0.8'/>"
            )
        if len(labels) <= 31:
            out.append(_text(x + width / 2, y - 4, str(totals[column]), 10, "middle"))
        if column % every == 0:
            out.append(_text(x + width / 2, base + 14, label, 10, "middle"))
    out.append(_legend(chart_id, series, base + bottom - 4))
    out.append("</svg>")
    return "".join(out)
