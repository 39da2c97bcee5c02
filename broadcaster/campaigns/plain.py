"""Texts written in plain words with named fields, and the sandboxed template text they are stored as.

A drafting officer writes "Gọi ngay [Đường dây nóng]"; the campaign stores `Gọi ngay {{ issuer.hotline.number }}`,
which the same sandbox renders as every other text. A radio text is stored as a script read through the
`spoken` filter, so the officer writes digits, dates and abbreviations as in a letter and the announcer's
version is produced from it (while the content checks, which render with numbers left as digits, still find
the hotline).

    to_template(plain, channel)   the plain text as template text (fields named in either language)
    to_plain(text, channel, lang) the template text as plain text, or None when it holds template code
                                  other than fields (it is then edited in the advanced view only)
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    vi: str
    en: str
    expression: str  # what the stored template text says, between {{ and }}
    on_paper: str = ""  # the expression on channels read on a screen or paper (a phone number in groups)

    def label(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en

    def expression_for(self, channel: str) -> str:
        return self.on_paper if self.on_paper and channel in PAPER_CHANNELS else self.expression


PAPER_CHANNELS = ("email", "facebook")
FIELDS = (
    Field("hotline", "Đường dây nóng", "Hotline", "issuer.hotline.number", "issuer.hotline.number | phone"),
    Field("send_date", "Ngày phát", "Date of the send", "occurrence.date | short_date"),
    Field("letter_number", "Số công văn", "Letter number", "campaign.number"),
    Field("letter_date", "Ngày công văn", "Date of the letter", "campaign.date | short_date"),
    Field("subject", "Trích yếu", "Subject", "campaign.subject"),
    Field("unit_name", "Tên đơn vị", "Unit name", "issuer.unit_name"),
    Field("unit_short", "Tên viết tắt của đơn vị", "Unit short name", "issuer.unit_short"),
    Field("place", "Tỉnh", "Province", "issuer.place"),
    Field("recipient", "Tên người nhận (đài, cơ quan)", "Recipient name (station, agency)", "recipient.name"),
)
# A radio script: the station's name and the reading time above, then the announcer's version of the words.
_SPOKEN_OPEN = "{% set script %}\n"
_SPOKEN_CLOSE = (
    "\n{% endset %}\n{% set spoken_script = script | spoken %}\n{{ recipient.name | upper }}\n"
    "Thời lượng đọc ước tính: {{ spoken_script | reading_time }}\n\n{{ spoken_script }}"
)
_BRACE = '{{ "{" }}'  # a "{" the officer typed before "{", "%" or "#", kept as text
_LABEL = re.compile(r"\[([^\[\]\n]{1,60})\]")
_CODE_START = re.compile(r"\{(?=[{%#])")
_EXPRESSION = re.compile(r"\{\{\s*(.*?)\s*\}\}")


def _by_label() -> dict[str, Field]:
    return {label.casefold(): field for field in FIELDS for label in (field.vi, field.en)}


def _expression_key(expression: str) -> str:
    return re.sub(r"\s+", " ", expression.strip()).replace(" |", "|").replace("| ", "|")


def to_template(plain: str, channel: str) -> str:
    """The plain text as template text: fields as expressions, any "{{", "{%" or "{#" typed kept as text."""
    if not plain.strip():
        return ""
    labels = _by_label()

    def field(match: re.Match[str]) -> str:
        found = labels.get(match[1].strip().casefold())
        return "{{ " + found.expression_for(channel) + " }}" if found else match[0]

    body = _LABEL.sub(field, _CODE_START.sub(_BRACE, plain.strip("\n")))
    return f"{_SPOKEN_OPEN}{body}{_SPOKEN_CLOSE}" if channel == "radio" else body


def to_plain(text: str, channel: str, lang: str = "vi") -> str | None:
    """The template text as plain text with fields in `lang`, or None when it is more than text and fields."""
    body = text.strip("\n")
    if not body.strip():
        return ""
    if channel == "radio":
        if not (body.startswith(_SPOKEN_OPEN) and body.endswith(_SPOKEN_CLOSE)):
            return None
        body = body[len(_SPOKEN_OPEN) : -len(_SPOKEN_CLOSE)]
    known = {_expression_key(field.expression_for(channel)): field for field in FIELDS}
    shown, position = [], 0
    for match in _EXPRESSION.finditer(body):
        shown.append(body[position : match.start()])
        if match[0] == _BRACE:
            shown.append("{")
        elif (found := known.get(_expression_key(match[1]))) is not None:
            shown.append(f"[{found.label(lang)}]")
        else:
            return None
        position = match.end()
    shown.append(body[position:])
    plain = "".join(shown)
    # Anything else (a tag, a comment, a field written differently) is not given back as plain text.
    return plain if to_template(plain, channel) == text.strip("\n") else None


_POST_DATE = {
    "vi": "Cập nhật ngày {{ occurrence.date | short_date }}",
    "en": "Updated {{ occurrence.date | short_date }}",
}


def with_post_date(text: str, locale: str) -> str:
    """The text with the date of each post as its last line, so that no two posts are the same (a channel
    that refuses a repeated post, DOMAIN §12); a text already dated by its post is kept as it is."""
    if not text.strip() or "occurrence.date" in text:
        return text
    return text.rstrip("\n") + "\n\n" + _POST_DATE.get(locale, _POST_DATE["en"]) + "\n"
