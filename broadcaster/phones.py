"""Vietnamese phone numbers: normalisation to E.164, the 2018 mobile prefix conversion (DOMAIN §4)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

# 2018 conversion of 11-digit mobile numbers to 10 digits: old prefix → new prefix (DOMAIN §4).
OLD_MOBILE_PREFIXES = {
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",  # MobiFone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",  # VinaPhone
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",  # Viettel
    "0167": "037", "0168": "038", "0169": "039",
    "0186": "056", "0188": "058",  # Vietnamobile
    "0199": "059",  # Gmobile
}  # fmt: skip

_SEPARATORS = re.compile(r"[\s.\-()/']")
_SCIENTIFIC = re.compile(r"\d(?:[.,]\d+)?E\+\d+", re.IGNORECASE)  # 9.12346E+08, as Excel shows long numbers
_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


# A mobile number as the 2018 numbering plan shapes them: 0, a mobile block digit, eight digits.
_MOBILE_SHAPE = re.compile(r"0[35789]\d{8}")


@dataclass(frozen=True)
class Phone:
    e164: str
    converted_from: str | None = None  # the old 11-digit national form, when it was converted
    # Shaped like a mobile number, in a range the numbering metadata does not list (yet): new ranges
    # are allocated before the metadata knows them, so such a number is kept, with a warning.
    unlisted: bool = False


class PhoneError(ValueError):
    """The text is not a number an SMS can be sent to; the message says why."""


def national_digits(raw: str) -> str:
    """Digits in national form (leading 0), from the forms spreadsheets hold: 0912…, 84912…, +84 912…"""
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif digits.isdigit() and len(digits) in (9, 10) and not digits.startswith("0"):
        digits = "0" + digits  # Excel drops the leading zero of numbers stored as numbers
    return digits


def convert_old_mobile(national: str) -> str | None:
    """The 10-digit form of an old 11-digit mobile number, or None when it is not one."""
    if len(national) == 11 and national[:4] in OLD_MOBILE_PREFIXES:
        return OLD_MOBILE_PREFIXES[national[:4]] + national[4:]
    return None


def _refuse_letters(raw: str) -> None:
    """Letters are refused outright: phonenumbers would read them as keypad letters (abc → 222)."""
    if _SCIENTIFIC.fullmatch(raw.strip()):
        raise PhoneError(
            f"'{raw.strip()}' is a number the spreadsheet shortened to scientific notation, which loses digits; "
            "format the column as Text and export it again"
        )
    if re.search(r"[^\d+]", _SEPARATORS.sub("", raw)):
        raise PhoneError(f"'{raw.strip()}' is not a phone number: it holds characters other than digits")


def parse_number(raw: str) -> phonenumbers.PhoneNumber:
    _refuse_letters(raw)
    return _parse(raw)


def _parse(raw: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(raw, "VN")
    except NumberParseException:
        raise PhoneError(f"'{raw}' is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"'{raw}' is not a valid Vietnamese phone number")
    return number


def normalise_mobile(raw: str, strict: bool = False) -> Phone:
    """E.164 form of a Vietnamese mobile number; PhoneError for landlines and garbage.

    A number shaped like a mobile number in a range the metadata does not list is returned marked
    `unlisted`, or refused when `strict` (DOMAIN §4: the metadata lags real allocations).
    """
    if not raw.strip():
        raise PhoneError("the phone number is empty")
    _refuse_letters(raw)
    national = national_digits(raw)
    converted = convert_old_mobile(national)
    try:
        number = _parse(converted or national)  # letters were refused above
    except PhoneError:
        if converted or not _MOBILE_SHAPE.fullmatch(national):
            raise
        if strict:
            raise PhoneError(
                f"'{raw.strip()}' is in a mobile range the numbering plan does not list "
                "(BROADCASTER_STRICT_PHONE_RANGES is on)"
            ) from None
        return Phone("+84" + national[1:], unlisted=True)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise PhoneError(f"'{raw}' is a landline, not a mobile number that can receive SMS")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, converted_from=national if converted else None)


def same_number(first: str, second: str) -> bool:
    """Whether two written numbers (any usual form, mobile or landline) are the same line."""
    try:
        return parse_number(national_digits(first)) == parse_number(national_digits(second))
    except PhoneError:
        return national_digits(first) == national_digits(second)
