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
import phonenumbers

__all__ = [
    "SmsInfo",
    "admin_date",
    "complete_reminder",
    "count_syllables",
    "number_to_words",
    "one_line",
    "phone_groups",
    "plain_sms_text",
    "read_abbreviations",
    "read_date",
    "read_day_month",
    "read_decimal",
    "read_digits",
    "read_ordinal",
    "read_phone",
    "read_time",
    "slugify",
    "sms_info",
    "spoken",
    "strip_diacritics",
    "unreadable_words",
    "written_phone",
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


def phone_groups(number: str) -> list[str]:
    """A phone number's digits in the groups it is written and read in, national form (DOMAIN §8):
    "+84 276 3631 168" and "02763631168" → ["0276", "3631", "168"]; "0888596677" → ["0888", "596", "677"].

    The numbering plan's own grouping where the number is a valid Vietnamese one; else the writer's groups
    when each is two to four digits; else fours and threes."""
    national = _national(number)
    if not national.isdigit():
        raise ValueError(f"'{number}' has no digits to read")
    try:
        parsed = phonenumbers.parse(national, "VN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL).split()
    written = [group for group in re.split(r"\D+", re.sub(r"^\s*\(?(?:\+|00)84\)?", "0", number)) if group]
    if "".join(written) == national and all(2 <= len(group) <= 4 for group in written):
        return written
    head, rest = national[:4], national[4:]
    groups = [head]
    while len(rest) > 4:
        groups.append(rest[:3])
        rest = rest[3:]
    return groups + ([rest] if rest else [])


def written_phone(number: str) -> str:
    """A phone number as it is printed for people to dial: "0276 3631 168", "0888 596 677"."""
    try:
        return " ".join(phone_groups(number))
    except ValueError:
        return number


def read_phone(number: str) -> str:
    """A phone number read digit by digit in groups, never as an amount (DOMAIN §8):
    "0888596677" → "không tám tám tám, năm chín sáu, sáu bảy bảy"; "+84 276 3631 168" is read in its
    national form, "không hai bảy sáu, ba sáu ba một, một sáu tám"."""
    return ", ".join(read_digits(group) for group in phone_groups(number))


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


def _day_words(day: int, region: str) -> str:
    """The day of a month: the first ten are said with "mồng" ("mồng một", "mồng mười"), as announcers do."""
    words = number_to_words(day, region)
    return f"mồng {words}" if day <= 10 else words


def read_date(day: date, region: str = "south") -> str:
    """A date as an announcer reads it: "ngày mười bốn tháng năm năm hai ngàn không trăm hai mươi bốn",
    "ngày mồng một tháng sáu năm …" (DOMAIN §8, §15)."""
    return (
        f"ngày {_day_words(day.day, region)} tháng {_month_words(day.month, region)} "
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
# A phone number in any usual spelling: 0888596677, 0888 596 677, 0276.3631.168, (028) 3829 1234,
# +84 276 3631 168, (+84) 912 345 678, 0084 912 345 678. How many digits it has is checked when it is read.
_PHONE = re.compile(
    r"(?<![\w/+.,])"
    r"(?:\(\+84\)\s?|\+84[ .\-]?(?:\(0\)\s?)?|\(?0084\)?[ .\-]?|\(0\d{1,3}\)\s?|0)"
    r"(?:\d{8,10}(?!\d)|\d{1,4}(?:[ .\-]\d{2,4}){1,4})"
    r"(?![\w/]|[.,]\d)"
)
_PHONE_GROUP = re.compile(r"[ .\-]+(?=\d+$)")
# Service numbers (1800…, 1900…) are never quantities, wherever they stand (DOMAIN §15).
_SERVICE = re.compile(r"(?<![\w/.,])(1[89]00)(?:[ .]?(\d{2,4}))(?:[ .]?(\d{2,4}))?(?![\w/])")
# Short numbers (113, 5656…) are numbers to dial only after words that say so: "gọi 113", "tổng đài 1022".
_DIAL_WORDS = (
    r"gọi(?: ngay)?(?: đến| tới)?(?: số)?|tổng đài|đầu số|hotline|đường dây nóng|số khẩn cấp"
    r"|(?:nhắn tin|gửi tin nhắn|gửi)(?: đến| tới| về)(?: số)?"
)
_SHORT_NUMBER = re.compile(rf"\b((?i:{_DIAL_WORDS}))\s+(\d{{3,6}})(?![\w/%]|[.,]\d)")
# A document's number and symbol (Decree 30/2020): "881/STTTT-TTr" (a letter: issuing body, drafting unit),
# "15/QĐ-UBND" (kind, body), "39/2020/TT-BTTTT" and "59/2020/QH14" (legal documents carry their year).
_SYMBOL_PART = r"[A-ZĐ][A-Za-zĐđ&]*\d*"
_DOC_NUMBER = re.compile(
    rf"(?<![\w/])(?P<number>\d{{1,5}})/(?:(?P<year>(?:19|20)\d\d)/)?(?P<symbol>{_SYMBOL_PART}(?:-{_SYMBOL_PART})*)"
    r"(?![\w&/])"
)
# The kinds of document a symbol may open with (Decree 30/2020, Appendix III; Law 80/2015 for legal ones).
DOCUMENT_KINDS = {
    "NQ": "Nghị quyết",
    "NQLT": "Nghị quyết liên tịch",
    "NĐ": "Nghị định",
    "TT": "Thông tư",
    "TTLT": "Thông tư liên tịch",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "TC": "Thông cáo",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "CTr": "Chương trình",
    "KH": "Kế hoạch",
    "PA": "Phương án",
    "ĐA": "Đề án",
    "DA": "Dự án",
    "BC": "Báo cáo",
    "BB": "Biên bản",
    "TTr": "Tờ trình",
    "HĐ": "Hợp đồng",
    "CĐ": "Công điện",
    "BGN": "Bản ghi nhớ",
    "BTT": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời",
    "GGT": "Giấy giới thiệu",
    "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi",
    "PC": "Phiếu chuyển",
    "PB": "Phiếu báo",
}
# Words that already say a document is meant: after them no kind is added ("Công văn 881/…", "theo văn bản …").
_DOCUMENT_WORDS = ("công văn", "văn bản", "luật", *(kind.lower() for kind in DOCUMENT_KINDS.values()))
SYMBOL_READINGS = ("brief", "none")  # the issuer's choice: "số 881 của Sở …" once, or the number alone
_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n")
# "1." or "2)" opening a line of a list: read "Thứ nhất:", "Thứ hai:", never "một."
_LIST_MARKER = re.compile(r"^([ \t]*)(\d{1,2})[.)][ \t]+(?=\S)", re.MULTILINE)
# An announcer's reminder of the numbers to call, which must give every one the script gave.
_REMINDER = re.compile(r"(?i:xin nhắc lại)[^\n]*")
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
    """A day and month: 17/4 → "ngày mười bảy tháng tư", 1/6 → "ngày mồng một tháng sáu" (DOMAIN §15)."""
    return f"ngày {_day_words(day, region)} tháng {_month_words(month, region)}"


def read_ordinal(number: int, region: str = "south") -> str:
    """The ordinal that opens an item of a list: 1 → "thứ nhất", 4 → "thứ tư", 2 → "thứ hai"."""
    return "thứ " + {1: "nhất", 4: "tư"}.get(number, number_to_words(number, region))


def _folds(key: str) -> bool:
    """A dictionary word with at most one capital ("Zalo", "link") is found whatever its case; an
    abbreviation ("TTr", "UBND") only as written."""
    return sum(char.isupper() for char in key) <= 1 and any(char.isalpha() for char in key)


def read_abbreviations(text: str, readings: Mapping[str, str]) -> str:
    """Abbreviations and borrowed words replaced by what an announcer says, from an issuer's reading
    dictionary (DOMAIN §15): "UBND" → "Ủy ban nhân dân", "Zalo" → "Da-lô", "đường link" → "đường dẫn".

    Keys match whole tokens, the longest first ("CNTT-BCVT" before "CNTT", "đường link" before "link").
    Abbreviations match as written; a word with at most one capital matches in any case, and a reading that
    replaces a capitalised word starts with a capital. Two abbreviations joined by a hyphen that the
    dictionary does not know as one are read with a pause.
    """
    if not readings:
        return text
    folded = {key.casefold(): key for key in readings if _folds(key)}
    patterns = [
        f"(?i:{re.escape(key)})" if _folds(key) else re.escape(key) for key in sorted(readings, key=len, reverse=True)
    ]
    token = f"(?:{'|'.join(patterns)})"
    compound = re.compile(rf"(?<![\w&/@]){token}(?:-{token})*(?![\w&/@])")

    def reading(found: str) -> str:
        words = readings.get(found) or readings[folded[found.casefold()]]
        return words[:1].upper() + words[1:] if found[:1].isupper() and _folds(found) else words

    def expand(match: re.Match[str]) -> str:
        whole = match[0]
        if whole in readings or whole.casefold() in folded:
            return reading(whole)
        return ", ".join(reading(piece) for piece in re.findall(token, whole))

    return compound.sub(expand, text)


# Central bodies as document symbols name them; only read inside a symbol, where "CP" cannot be a company's
# "cổ phần". The issuer's dictionary has the last word (and carries its own province's bodies: "STTTT").
ISSUING_BODIES = {
    "QH": "Quốc hội",
    "UBTVQH": "Ủy ban Thường vụ Quốc hội",
    "CP": "Chính phủ",
    "TTg": "Thủ tướng Chính phủ",
    "VPCP": "Văn phòng Chính phủ",
    "TTCP": "Thanh tra Chính phủ",
    "NHNN": "Ngân hàng Nhà nước",
    "BCA": "Bộ Công an",
    "BQP": "Bộ Quốc phòng",
    "BNG": "Bộ Ngoại giao",
    "BNV": "Bộ Nội vụ",
    "BTP": "Bộ Tư pháp",
    "BTC": "Bộ Tài chính",
    "BCT": "Bộ Công Thương",
    "BXD": "Bộ Xây dựng",
    "BYT": "Bộ Y tế",
    "BGDĐT": "Bộ Giáo dục và Đào tạo",
    "BKHCN": "Bộ Khoa học và Công nghệ",
    "BTTTT": "Bộ Thông tin và Truyền thông",
    "BVHTTDL": "Bộ Văn hóa, Thể thao và Du lịch",
    "BNNMT": "Bộ Nông nghiệp và Môi trường",
    "UBND": "Ủy ban nhân dân",
    "HĐND": "Hội đồng nhân dân",
}


def _sentence_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The part of the sentence before `start` and after `end`."""
    before = _SENTENCE_END.split(text[:start])[-1]
    after = _SENTENCE_END.split(text[end:])[0]
    return before, after


def _said(words: str, sentence: str) -> bool:
    return " ".join(words.split()).casefold() in " ".join(sentence.split()).casefold()


def _read_document_number(match: re.Match[str], readings: Mapping[str, str], region: str, symbols: str) -> str:
    """A document's number as announcers read it (DOMAIN §15): "Công văn số 881/STTTT-TTr" → "Công văn số
    tám trăm tám mươi mốt của Sở Thông tin và Truyền thông"; "theo 91/2020/NĐ-CP" → "theo Nghị định số
    chín mươi mốt năm hai ngàn không trăm hai mươi của Chính phủ".

    The kind is said unless the words before already say it, "số" unless it was just said. With `symbols`
    "brief" the issuing body is said once, in words from the dictionary (or `ISSUING_BODIES`) — not when its
    sentence names it anyway — and the drafting unit not at all; with "none" the number alone. A body neither
    knows stays as written, for the radio check to name."""
    before, after = _sentence_around(match.string, match.start(), match.end())
    parts = match["symbol"].split("-")
    kind = DOCUMENT_KINDS.get(parts[0])
    bodies = parts[1:] if kind else parts[:1]
    spoken_before = before.rstrip().removesuffix(":").rstrip().casefold()  # "Số: 881/…" in a letter's header
    has_number_word = spoken_before.endswith("số")
    lead = spoken_before.removesuffix("số").rstrip()
    words = [] if has_number_word else ["số"]
    if not lead.endswith(_DOCUMENT_WORDS):
        words.insert(0, kind or "văn bản")
    words.append(number_to_words(int(match["number"]), region))
    if match["year"]:
        words += ["năm", number_to_words(int(match["year"]), region)]
    if symbols == "brief":
        named = []
        for body in bodies:
            letters = body.rstrip("0123456789")  # "QH14": the 14th National Assembly
            name = readings.get(body) or readings.get(letters) or ISSUING_BODIES.get(letters) or body
            if not any(_said(said, part) for said in (name, body) for part in (before, after)):
                named.append(name)
        if named:
            words += ["của", " và ".join(named)]
    return " ".join(words)


def _whole_number(written: str) -> tuple[str, str]:
    """A matched phone number and what follows it: in "0888 596 677 15 lần" the "15" is not part of it."""
    left = ""
    while len(_national(written)) > 11 and (cut := _PHONE_GROUP.search(written)):
        written, left = written[: cut.start()], written[cut.start() :] + left
    return written, left


def _read_phone_numbers(text: str) -> str:
    def phone_words(match: re.Match[str]) -> str:
        written, left = _whole_number(match[0])
        return read_phone(written) + left if len(_national(written)) >= 9 else match[0]

    return _PHONE.sub(phone_words, text)


def _national(number: str) -> str:
    """The digits of a written phone number in national form: "+84 276 3631 168" → "02763631168"."""
    digits = re.sub(r"\D", "", re.sub(r"^\s*\(?(?:\+|00)\s?84\)?", "0", number))
    return digits[1:] if digits.startswith("00") else digits  # "+84 (0) 276…"


def _numbers_given(text: str) -> list[tuple[str, str]]:
    """The phone and service numbers a text gives, as (national digits, as written), each once, in order."""
    found: dict[str, str] = {}
    for match in _PHONE.finditer(text):
        written, _ = _whole_number(match[0])
        if len(_national(written)) >= 9:
            found.setdefault(_national(written), written)
    for match in _SERVICE.finditer(text):
        found.setdefault(_national(match[0]), match[0].strip())
    return sorted(found.items(), key=lambda item: text.index(item[1]))


def complete_reminder(text: str) -> str:
    """An announcer's reminder ("Xin nhắc lại: … số điện thoại … là 0276 3631 168.") that repeats some of the
    numbers the script gave repeats them all, in the order they were given, after the last one it names."""
    reminder = _REMINDER.search(text)
    if reminder is None:
        return text
    given = _numbers_given(text[: reminder.start()])
    repeated = _numbers_given(reminder[0])
    missing = [written for digits, written in given if digits not in {digits for digits, _ in repeated}]
    if not repeated or not missing:
        return text
    last = reminder.start() + reminder[0].rindex(repeated[-1][1]) + len(repeated[-1][1])
    added = "".join(f", {written}" for written in missing[:-1]) + f" và {missing[-1]}"
    return text[:last] + added + text[last:]


def spoken(text: str, region: str = "south", readings: Mapping[str, str] | None = None, symbols: str = "brief") -> str:
    """Running text with every date, phone number, document number, time, percentage and number written out,
    and the words of `readings` (the issuer's reading dictionary) replaced, for reading aloud (DOMAIN §8,
    §15). `symbols` is the issuer's choice for document symbols (see `_read_document_number`)."""
    _check_region(region)
    if symbols not in SYMBOL_READINGS:
        raise ValueError(f"symbols must be one of {', '.join(SYMBOL_READINGS)}, not '{symbols}'")
    readings = readings or {}

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

    def document_words(match: re.Match[str]) -> str:
        return _read_document_number(match, readings, region, symbols)

    def service_words(match: re.Match[str]) -> str:
        return ", ".join(read_digits(group) for group in match.groups() if group)

    text = complete_reminder(text)
    text = _LIST_MARKER.sub(lambda m: f"{m[1]}{read_ordinal(int(m[2]), region).capitalize()}: ", text)
    text = _DOC_NUMBER.sub(document_words, text)
    text = _DATE.sub(date_words, text)
    text = _DAY_MONTH.sub(day_month_words, text)
    text = _read_phone_numbers(text)
    text = _SERVICE.sub(service_words, text)
    text = _SHORT_NUMBER.sub(lambda m: f"{m[1]} {read_digits(m[2])}", text)
    text = _TIME.sub(lambda m: read_time(time(int(m[1]), int(m[2])), region), text)
    text = _HOUR.sub(lambda m: read_time(time(int(m[1])), region), text)
    text = _PERCENT.sub(lambda m: read_decimal(m[1], m[2], region) + " phần trăm", text)
    text = _DECIMAL.sub(lambda m: read_decimal(m[1], m[2], region), text)
    text = _NUMBER.sub(lambda m: number_to_words(int(m[0].replace(".", "")), region), text)
    return read_abbreviations(text, readings)


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


def reading_seconds(script: str, syllables_per_second: float) -> int:
    return round(count_syllables(script) / syllables_per_second)
