"""CSV files written the way spreadsheet programs save them, for import tests.

Spreadsheets quote a cell only when it needs it and double the quotes inside it (Báo "Tây Ninh" is
saved as three quotes at its end): that is Python's `excel` dialect. What differs between them is the
encoding, the separator and the line end.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from pathlib import Path

# style → (separator, line end, how the text becomes bytes)
STYLES = {
    # Excel, "CSV UTF-8 (Comma delimited)"
    "excel-utf8": (",", "\r\n", lambda text: codecs.BOM_UTF8 + text.encode("utf-8")),
    # Excel on Windows with Vietnamese regional settings (the decimal comma makes ';' the separator)
    "excel-semicolon": (";", "\r\n", lambda text: codecs.BOM_UTF8 + text.encode("utf-8")),
    # Excel, "Unicode Text": UTF-16 with a BOM, tab separated
    "unicode-text": ("\t", "\r\n", lambda text: text.encode("utf-16")),
    # LibreOffice Calc, default CSV export: UTF-8 without BOM, LF
    "libreoffice": (",", "\n", lambda text: text.encode("utf-8")),
    # Numbers on macOS: decomposed (NFD) Vietnamese
    "numbers-nfd": (",", "\n", lambda text: unicodedata.normalize("NFD", text).encode("utf-8")),
}


def save_as(path: Path, rows: list[list[str]], style: str = "excel-utf8") -> Path:
    separator, line_end, encode = STYLES[style]
    buffer = io.StringIO()
    csv.writer(buffer, csv.excel, delimiter=separator, lineterminator=line_end).writerows(rows)
    path.write_bytes(encode(buffer.getvalue()))
    return path
