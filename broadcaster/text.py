"""Vietnamese text tools: numbers, dates and phone numbers in words, diacritics, SMS length.

Public API, also registered as Jinja filters under the same names. Facts are from DOMAIN §2,
§7 and §8; `num2words` is deliberately not used, its Vietnamese is wrong (2024 → "… lẻ …").
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

import gsm0338  # noqa: F401  (registers the 'gsm03.38' codec)

__all__ = [
    "SmsInfo",
    "admin_date",
    "count_syllables",
    "number_to_words",
    "one_line",
    "plain_sms_text",
    "read_abbreviations",
    "read_date",
    "read_day_month",
    "read_decimal",
    "read_digits",
    "read_phone",
    "read_time",
    "slugify",
    "sms_info",
    "spoken",
    "strip_diacritics",
    "unreadable_words",
]

REGIONS = ("south", "north")
_DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
_THOUSAND = {"south": "ngàn", "north": "nghìn"}
_ZERO_TENS = {"south": "lẻ", "north": "linh"}


def _check_region(region: str) -> None:
    if region not in REGIONS:
        raise ValueError(f"region must be 'south' or 'north', not '{region}'")


def _tens_and_units(n: int, region: str) -> str:
    """0 < n < 100, as read after nothing or after a hundreds digit of another group."""
    tens, unit = divmod(n, 10)
    if tens == 0:
        return _DIGITS[unit]
    words = ["mười"] if tens == 1 else [_DIGITS[tens], "mươi"]
    if unit == 1 and tens > 1:
        words.append("mốt")
    elif unit == 4 and tens > 1:
        words.append("tư" if region == "north" else "bốn")
    elif unit == 5:
        words.append("lăm")
    elif unit:
        words.append(_DIGITS[unit])
    return " ".join(words)


def _group(n: int, region: str, full: bool) -> str:
    """0 < n < 1000. `full` reads a zero hundreds digit ("không trăm"), as inner groups need."""
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if rest:
        if words and rest < 10:
            words += [_ZERO_TENS[region], _DIGITS[rest]]
        else:
            words.append(_tens_and_units(rest, region))
    return " ".join(words)


def number_to_words(n: int, region: str = "south") -> str:
    """A whole number in Vietnamese words: 21 → "hai mươi mốt", 2024 → "hai ngàn không trăm hai mươi bốn".

    `region` is "south" (ngàn, lẻ, bốn) or "north" (nghìn, linh, tư). Up to billions (tỷ) and beyond.
    """
    _check_region(region)
    if n < 0:
        return "âm " + number_to_words(-n, region)
    if n == 0:
        return _DIGITS[0]
    billions, below = divmod(n, 1_000_000_000)
    words: list[str] = []
    if billions:
        words += [number_to_words(billions, region), "tỷ"]
    scales = [(1_000_000, "triệu"), (1_000, _THOUSAND[region]), (1, "")]
    for size, name in scales:
        group, below = divmod(below, size)
        if group:
            words.append(_group(group, region, full=bool(words)))
            if name:
                words.append(name)
    return " ".join(words)


def _digits_of(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+84"):
        digits = "0" + digits[2:]
    return digits


def read_phone(number: str) -> str:
    """A phone number read digit by digit in groups: "0888596677" → "không tám tám tám, năm chín sáu, sáu bảy bảy"."""
    digits = _digits_of(number)
    if not digits:
        raise ValueError(f"'{number}' has no digits to read")
    head, rest = digits[:4], digits[4:]
    groups = [head]
    while len(rest) > 4:
        groups.append(rest[:3])
        rest = rest[3:]
    if rest:
        groups.append(rest)
    return ", ".join(" ".join(_DIGITS[int(d)] for d in group) for group in groups)


def strip_diacritics(text: str) -> str:
    """Vietnamese without marks ("không dấu"): "Đài Phát thanh" → "Dai Phat thanh". đ/Đ are mapped by hand."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", bare)


_TYPOGRAPHY = str.maketrans({"–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "\u00a0": " "})


@lru_cache(maxsize=1024)  # a fan-out sends the same few texts to many numbers
def plain_sms_text(text: str) -> str:
    """Unaccented text with typographic punctuation made plain, so the whole message stays GSM-7."""
    return strip_diacritics(text).translate(_TYPOGRAPHY)


def one_line(text: str) -> str:
    """`text` when it holds no line break or other control character; ValueError naming the first one otherwise.

    Texts that end up in an e-mail header (a subject, an issuing unit's name, an agency's name) must be one
    line: a line break there would start a header of the writer's choosing (`Bcc:`, `Reply-To:`)."""
    for character in text:
        if unicodedata.category(character) in ("Cc", "Zl", "Zp"):
            raise ValueError(
                f"holds a line break or a control character (U+{ord(character):04X}): write it on one line"
            )
    return text


def slugify(text: str) -> str:
    """A stable ASCII key from a Vietnamese name: "UBND huyện Châu Thành" → "ubnd-huyen-chau-thanh"."""
    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(text).lower()).strip("-")


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    length: int  # septets for GSM-7 (extension characters count two), UTF-16 units for UCS-2
    parts: int

    @property
    def per_part(self) -> int:
        if self.encoding == "GSM-7":
            return 160 if self.parts <= 1 else 153
        return 70 if self.parts <= 1 else 67


@lru_cache(maxsize=1024)
def sms_info(text: str) -> SmsInfo:
    """Encoding, length and number of parts of an SMS, counted on the NFC form (DOMAIN §2)."""
    text = unicodedata.normalize("NFC", text)
    try:
        length = len(text.encode("gsm03.38"))
        encoding, single, multi = "GSM-7", 160, 153
    except UnicodeEncodeError:
        length = len(text.encode("utf-16-le")) // 2
        encoding, single, multi = "UCS-2", 70, 67
    if length == 0:
        return SmsInfo(encoding, 0, 0)
    parts = 1 if length <= single else math.ceil(length / multi)
    return SmsInfo(encoding, length, parts)


def admin_date(place: str, day: date, *, day_blank: bool = False) -> str:
    """The date line of an official letter (DOMAIN §7): "Tây Ninh, ngày 14 tháng 5 năm 2024".

    Days below 10 and the months 1 and 2 take a leading zero: "ngày 05 tháng 01 năm 2025". A letter
    not yet numbered is not yet signed: its day stays blank for the hand that signs it
    ("Bình Phước, ngày      tháng 9 năm 2024").
    """
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    written = " " * 4 if day_blank else f"{day.day:02d}"  # six spaces between "ngày" and "tháng"
    return f"{place}, ngày {written} tháng {month} năm {day.year}"


def _month_words(month: int, region: str) -> str:
    return "tư" if month == 4 else number_to_words(month, region)


def read_date(day: date, region: str = "south") -> str:
    """A date as an announcer reads it: "ngày mười bốn tháng năm năm hai ngàn không trăm hai mươi bốn"."""
    return (
        f"ngày {number_to_words(day.day, region)} tháng {_month_words(day.month, region)} "
        f"năm {number_to_words(day.year, region)}"
    )


def read_time(moment: time | datetime, region: str = "south") -> str:
    """A clock time as read aloud: 17:30 → "mười bảy giờ ba mươi phút"."""
    words = f"{number_to_words(moment.hour, region)} giờ"
    if moment.minute:
        words += f" {number_to_words(moment.minute, region)} phút"
    return words


_DATE = re.compile(r"(?:\b([Nn]gày)\s+)?\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
# A day/month without a year is a date only where the words around it say so (DOMAIN §15):
# "ngày 17/4", "từ 17/4 đến 20/4", "sáng 17/4". Elsewhere "3/4" could be a fraction: it is left alone.
_DATE_WORDS = "ngày|hôm|từ|đến|tới|trước|sau|sáng|trưa|chiều|tối|đêm|đầu|giữa|cuối|và|hoặc"
_DAY_MONTH = re.compile(rf"\b((?i:{_DATE_WORDS}))\s+(0?[1-9]|[12]\d|3[01])/(0?[1-9]|1[0-2])\b(?![/\d])")
# Service numbers (1800…, 1900…) are never quantities, wherever they stand (DOMAIN §15).
_SERVICE = re.compile(r"(?<![\w/.,])(1[89]00)(?:[ .]?(\d{2,4}))(?:[ .]?(\d{2,4}))?(?![\w/])")
# Short numbers (113, 5656…) are numbers to dial only after words that say so: "gọi 113", "tổng đài 1022".
_DIAL_WORDS = (
    r"gọi(?: ngay)?(?: đến| tới)?(?: số)?|tổng đài|đầu số|hotline|đường dây nóng|số khẩn cấp"
    r"|(?:nhắn tin|gửi tin nhắn|gửi)(?: đến| tới| về)(?: số)?"
)
_SHORT_NUMBER = re.compile(rf"\b((?i:{_DIAL_WORDS}))\s+(\d{{3,6}})(?![\w/%]|[.,]\d)")
_PHONE = re.compile(r"(?<![\w/])(?:\+84|0)\d(?:[ .]?\d){7,9}\b")
_DOC_NUMBER = re.compile(r"\b(\d+)\s*/\s*([A-ZĐ][\w&.-]*)")
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b")
_HOUR = re.compile(r"\b([01]?\d|2[0-3])h(?!\w)")
_PERCENT = re.compile(r"(?<![\w,.])(\d+(?:\.\d{3})*)(?:,(\d+))?\s?%")
_DECIMAL = re.compile(r"(?<![\w,.])(\d+(?:\.\d{3})*),(\d+)(?![\w,]|\.\d)")
# A number beside a slash ("3/4") is not guessed at: left as written, the content check names it.
_NUMBER = re.compile(r"(?<![\d/])\d+(?:\.\d{3})*(?![\d/])")


def read_digits(digits: str) -> str:
    """Digits one by one: "113" → "một một ba"."""
    return " ".join(_DIGITS[int(digit)] for digit in digits)


def read_decimal(whole: str, fraction: str | None, region: str = "south") -> str:
    """A number with the Vietnamese decimal comma: "2,5" → "hai phẩy năm"; "1.500" → "một ngàn năm trăm".

    After "phẩy" a fraction with a leading zero is read digit by digit ("2,05" → "hai phẩy không năm").
    """
    words = number_to_words(int(whole.replace(".", "")), region)
    if fraction:
        tail = read_digits(fraction) if fraction.startswith("0") else number_to_words(int(fraction), region)
        words += f" phẩy {tail}"
    return words


def read_day_month(day: int, month: int, region: str = "south") -> str:
    """A day and month: 17/4 → "ngày mười bảy tháng tư" (DOMAIN §15)."""
    return f"ngày {number_to_words(day, region)} tháng {_month_words(month, region)}"


def read_abbreviations(text: str, readings: Mapping[str, str]) -> str:
    """Abbreviations replaced by what an announcer says, from an issuer's reading dictionary (DOMAIN §15).

    Keys match whole tokens, case-sensitively, the longest first ("CNTT-BCVT" before "CNTT"). Two
    abbreviations joined by a hyphen that the dictionary does not know as one are read with a pause.
    """
    if not readings:
        return text
    keys = "|".join(re.escape(key) for key in sorted(readings, key=len, reverse=True))
    token = rf"(?:{keys})"
    compound = re.compile(rf"(?<![\w&/]){token}(?:-{token})*(?![\w&/])")

    def expand(match: re.Match[str]) -> str:
        whole = match[0]
        if whole in readings:
            return readings[whole]
        pieces = re.findall(token, whole)
        return ", ".join(readings[piece] for piece in pieces)

    return compound.sub(expand, text)


def spoken(text: str, region: str = "south", readings: Mapping[str, str] | None = None) -> str:
    """Running text with every date, phone number, time, percentage and number written out, and the
    abbreviations of `readings` (the issuer's reading dictionary) replaced by words, for reading aloud."""
    _check_region(region)

    def date_words(match: re.Match[str]) -> str:
        try:
            words = read_date(date(int(match[4]), int(match[3]), int(match[2])), region)
        except ValueError:
            return match[0]
        # "ngày 17/4/2024" already says "ngày": keep the writer's word and its capital.
        return f"{match[1]}{words.removeprefix('ngày')}" if match[1] else words

    def day_month_words(match: re.Match[str]) -> str:
        words = read_day_month(int(match[2]), int(match[3]), region)
        # "ngày 17/4" keeps the writer's "ngày"; "từ 17/4" becomes "từ ngày mười bảy tháng tư".
        return f"{match[1]}{words.removeprefix('ngày')}" if match[1].lower() == "ngày" else f"{match[1]} {words}"

    def service_words(match: re.Match[str]) -> str:
        return ", ".join(read_digits(group) for group in match.groups() if group)

    text = _DATE.sub(date_words, text)
    text = _DAY_MONTH.sub(day_month_words, text)
    text = _SERVICE.sub(service_words, text)
    text = _SHORT_NUMBER.sub(lambda m: f"{m[1]} {read_digits(m[2])}", text)
    text = _PHONE.sub(lambda m: read_phone(m[0]), text)
    text = _DOC_NUMBER.sub(lambda m: f"{number_to_words(int(m[1]), region)}, ký hiệu {m[2]}", text)
    text = _TIME.sub(lambda m: read_time(time(int(m[1]), int(m[2])), region), text)
    text = _HOUR.sub(lambda m: read_time(time(int(m[1])), region), text)
    text = _PERCENT.sub(lambda m: read_decimal(m[1], m[2], region) + " phần trăm", text)
    text = _DECIMAL.sub(lambda m: read_decimal(m[1], m[2], region), text)
    text = _NUMBER.sub(lambda m: number_to_words(int(m[0].replace(".", "")), region), text)
    return read_abbreviations(text, readings or {})


_UNREADABLE_SIGNS = frozenset("/%&@#+=*<>_\\|~^$§")


def unreadable_words(text: str) -> list[str]:
    """What an announcer would have to decode rather than read: tokens with a digit or a sign such as
    "/", "%" or "&", and runs of capitals ("STTTT", "TTr") that no reading dictionary turned into words.
    Each is listed once, in the order it first appears."""
    found: list[str] = []
    for raw in text.split():
        token = raw.strip(".,;:!?()[]\"'“”‘’…-–—")
        if not token:
            continue
        capitals = sum(char.isupper() for char in token)
        if any(char.isdigit() or char in _UNREADABLE_SIGNS for char in token) or capitals >= 2:
            found.append(token)
    return list(dict.fromkeys(found))


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def count_syllables(text: str) -> int:
    """Vietnamese is written syllable by syllable: each run of letters is one syllable."""
    return len(_WORD.findall(text))
