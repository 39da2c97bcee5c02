"""The official letter (công văn) as the A4 PDF an agency prints and files (DOMAIN §7).

The PDF is the letter's HTML part laid out by WeasyPrint: that HTML carries its own `@page` rules
(A4, the Decree 30 margins, page numbers from page 2), so the e-mail, the preview and the PDF are one
rendering. Fonts come from fontconfig: Times New Roman where it is installed, else Liberation Serif 2
(same metrics, every Vietnamese letter), which the project's Debian packages install.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from typing import Any

from broadcaster.text import strip_diacritics

__all__ = [
    "Layouts",
    "LetterFile",
    "is_numbered",
    "lay_out_in_a_process",
    "letter_file",
    "letter_filename",
    "letter_pdf",
    "stop_laying_out",
    "warm_up_in_background",
]


@dataclass(frozen=True)
class LetterFile:
    """A letter ready to attach or download: its file name and the PDF bytes."""

    name: str
    pdf: bytes
    media_type: str = "application/pdf"


def is_numbered(number: str) -> bool:
    """Whether a letter number has its number: "881/STTTT-TTr" has, the draft's "     /STTTT-TTra" has not.

    A letter goes out numbered and dated on the day it is signed; until then both stay blank on paper.
    """
    return bool(number.partition("/")[0].strip())


def letter_filename(number: str, day: date) -> str:
    """`881-STTTT-TTr-2024-05-14.pdf`: ASCII letters, digits and hyphens, safe in any file system and mail client.

    A letter without its number has no day either, so its name carries the month only.
    """
    stem = re.sub(r"[^A-Za-z0-9]+", "-", strip_diacritics(number)).strip("-") or "cong-van"
    when = day.isoformat() if is_numbered(number) else f"{day:%Y-%m}"
    return f"{stem}-{when}.pdf"


# Laying a letter out takes a few hundred milliseconds; a campaign's letters mostly share one text,
# so the PDF is made once per distinct HTML and kept for the next recipients. WeasyPrint is not
# documented as thread-safe and the e-mail adapter sends from several threads: one layout at a time.
_LAYOUT = threading.Lock()


class Layouts:
    """PDFs laid out from HTML, the `keep` most recently asked for kept: the same HTML gives the same bytes.

    A PDF already made is answered without waiting for a layout under way; two threads asking for the same
    new HTML lay it out once (the second waits for the first's)."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._made: OrderedDict[str, bytes] = OrderedDict()
        self._under_way: dict[str, Future[bytes]] = {}
        self._lock = threading.Lock()

    def pdf(self, html: str) -> bytes:
        with self._lock:
            made = self._made.get(html)
            if made is not None:
                self._made.move_to_end(html)
                return made
            under_way = self._under_way.get(html)
            if under_way is None:
                mine: Future[bytes] = Future()
                self._under_way[html] = mine
        if under_way is not None:
            return under_way.result()
        try:
            made = _lay_out(html)
        except BaseException as error:
            with self._lock:
                del self._under_way[html]
            mine.set_exception(error)
            raise
        with self._lock:
            del self._under_way[html]
            self._made[html] = made
            while len(self._made) > self._keep:
                self._made.popitem(last=False)
        mine.set_result(made)
        return made

    def __contains__(self, html: str) -> bool:
        with self._lock:
            return html in self._made


_LETTERS = Layouts(keep=16)


def letter_pdf(html: str) -> bytes:
    """The letter's HTML part as an A4 PDF (fonts embedded, subset to the glyphs it uses)."""
    return _LETTERS.pdf(html)


# What a first layout loads once per process (WeasyPrint and Pango, fontconfig's list, the serif faces in
# regular, bold and italic, a table, an SVG image): about a second that the first letter or report would pay.
_WARM_HTML = (
    "<html><body style=\"font-family:'Times New Roman','Liberation Serif',Tinos,Times,serif;font-size:14pt\">"
    "<p>Ủy ban nhân dân <b>tỉnh</b> <i>Tây Ninh</i></p>"
    '<table style="table-layout:fixed;width:100%;border-collapse:collapse;font-size:9pt">'
    '<tr><th style="border:1px solid #000">Đài</th><td style="border:1px solid #000">1</td></tr></table>'
    '<img style="width:20mm" src="data:image/svg+xml;charset=utf-8,'
    "%3Csvg xmlns='http://www.w3.org/2000/svg' width='40' height='20'%3E%3Crect width='20' height='10'/%3E"
    "%3Ctext x='1' y='18' font-size='8'%3ETh%E1%BB%AD%3C/text%3E%3C/svg%3E\"></body></html>"
)
_WARMING = threading.Event()


def warm_up_in_background() -> None:
    """Lay out a small letter in the background, once per process, so that the first real letter or report
    does not pay for loading WeasyPrint and the fonts (a serving process calls this as it starts)."""
    if _WARMING.is_set():
        return
    _WARMING.set()

    def warm() -> None:
        with _PROCESS_LOCK:
            process = _PROCESS
        if process is None:
            _lay_out(_WARM_HTML)
            return
        for laid_out in [process.submit(_layout, _WARM_HTML) for _child in range(CHILDREN)]:
            laid_out.result()

    threading.Thread(target=warm, name="warm-letter-layout", daemon=True).start()


# A serving process lays out in processes of its own: WeasyPrint is Python through and through, and a
# layout in a thread holds the interpreter from the requests served meanwhile (a report's figures take a
# second or more), where a process of its own runs beside them on another core. Two of them, so that two
# exports at once, or an export while the report is laid out ahead, do not wait for each other.
_PROCESS: ProcessPoolExecutor | None = None
_PROCESS_LOCK = threading.Lock()
CHILDREN = 2


def _children() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=CHILDREN,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_leave_with_parent,
        initargs=(os.getpid(),),
    )


def _leave_with_parent(parent: int) -> None:
    """In a layout child: exit once the serving process is gone, however it went (a serving process that
    is killed, or leaves without its exit handlers, would otherwise leave its children waiting for work
    forever)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()


def stop_laying_out() -> None:
    """Let the layout children go (a serving process that stops): each ends after the layout it is on, and
    is waited for, so that nothing of the pool is left behind."""
    global _PROCESS
    with _PROCESS_LOCK:
        process, _PROCESS = _PROCESS, None
    if process is not None:
        process.shutdown(wait=True, cancel_futures=True)


def lay_out_in_a_process() -> None:
    """From now on, lay letters and reports out in child processes (`CHILDREN`, each a spawned Python that
    imports only this module and WeasyPrint, one layout at a time each). Children that die are replaced at
    the next layout; if the new ones fail too, that layout is made here."""
    global _PROCESS
    with _PROCESS_LOCK:
        if _PROCESS is None:
            _PROCESS = _children()


def _lay_out(html: str) -> bytes:
    """The layout, in a child process when there are any, else here, one at a time (`_LAYOUT`)."""
    global _PROCESS
    for _attempt in range(2):
        with _PROCESS_LOCK:
            process = _PROCESS
        if process is None:
            break
        try:
            return process.submit(_layout, html).result()
        except BrokenProcessPool:  # a child died (killed, out of memory): new ones
            with _PROCESS_LOCK:
                if _PROCESS is process:
                    _PROCESS = _children()
    with _LAYOUT:
        return _layout(html)


# What one layout leaves for the next in this process (one layout at a time): fontconfig's fonts as Pango
# found them (the letters name no fonts of their own, no @font-face) and the pictures read from their data
# URIs (the report's charts, the same at every export of the same figures). About a fifth of a short
# letter's layout; the pictures are forgotten every `_PICTURES` new ones.
_REUSED: dict[str, Any] = {}
_PICTURES = 32


def _layout(html: str) -> bytes:
    # Imported here: loading WeasyPrint (Pango, fontconfig) costs a second that only letters need.
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    if "fonts" not in _REUSED:
        _REUSED["fonts"] = FontConfiguration()
    pictures: dict[str, Any] = _REUSED.setdefault("pictures", {})
    if len(pictures) > _PICTURES:
        pictures.clear()
    pdf = HTML(string=html, base_url=None).write_pdf(font_config=_REUSED["fonts"], cache=pictures)
    assert pdf is not None  # write_pdf returns the bytes when no target is given
    return bytes(pdf)


def letter_file(html: str | None, number: str, day: date | None) -> LetterFile | None:
    """The PDF of a rendered letter (its HTML part, its number and date), or None for one with no HTML letter.

    This is what the e-mail attaches and what a preview, the API or a verification page offers.
    """
    if not html or day is None:
        return None
    return LetterFile(letter_filename(number, day), letter_pdf(html))
