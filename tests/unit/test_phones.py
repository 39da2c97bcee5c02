"""Phone numbers as Vietnamese spreadsheets hold them (DOMAIN §4)."""

from __future__ import annotations

import pytest

from broadcaster.phones import OLD_MOBILE_PREFIXES, PhoneError, normalise_mobile, same_number


@pytest.mark.parametrize(
    "written",
    ["0912345678", "84912345678", "+84912345678", "+84 912 345 678", "912345678", "0912.345.678", "'0912345678"],
)
def test_the_usual_forms_of_one_mobile_number_normalise_to_e164(written: str) -> None:
    assert normalise_mobile(written).e164 == "+84912345678"
    assert normalise_mobile(written).converted_from is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("01621234567", "+84321234567"),
        ("01691234567", "+84391234567"),
        ("01201234567", "+84701234567"),
        ("01231234567", "+84831234567"),
        ("01861234567", "+84561234567"),
        ("01991234567", "+84591234567"),
        ("841621234567", "+84321234567"),
    ],
)
def test_old_eleven_digit_mobile_numbers_are_converted_and_say_so(old: str, new: str) -> None:
    phone = normalise_mobile(old)
    assert phone.e164 == new
    assert phone.converted_from is not None


def test_every_2018_prefix_maps_to_a_valid_mobile_range() -> None:
    for old, new in OLD_MOBILE_PREFIXES.items():
        assert normalise_mobile(old + "2345678").e164 == "+84" + new[1:] + "2345678"


@pytest.mark.parametrize("landline", ["02763631168", "0276 3822 123", "02763813111"])
def test_landlines_are_not_sms_recipients(landline: str) -> None:
    with pytest.raises(PhoneError, match="landline"):
        normalise_mobile(landline)


@pytest.mark.parametrize("garbage", ["", "abc", "0123", "09123456789012", "không có"])
def test_garbage_is_refused_with_a_reason(garbage: str) -> None:
    with pytest.raises(PhoneError):
        normalise_mobile(garbage)


def test_same_number_compares_written_forms() -> None:
    assert same_number("02763631168", "0276 363 1168")
    assert same_number("+84888596677", "0888596677")
    assert not same_number("0888596677", "0888596678")


@pytest.mark.parametrize("written", ["0912abc678", "0912ABC678", "O912345678", "0912 345 67l", "+84 912 345 6789x"])
def test_a_number_with_letters_is_refused_not_read_as_keypad_letters(written: str) -> None:
    # phonenumbers would turn "abc" into 222 and deliver to somebody else's number
    with pytest.raises(PhoneError, match="holds characters other than digits"):
        normalise_mobile(written)


@pytest.mark.parametrize("written", ["0521234567", "052 123 4567", "84521234567", "0891234567", "0501234567"])
def test_a_mobile_shaped_number_in_an_unlisted_range_is_kept_and_marked(written: str) -> None:
    # DOMAIN §4: ranges are allocated before the numbering metadata lists them
    phone = normalise_mobile(written)
    assert phone.unlisted and phone.e164.startswith("+84") and len(phone.e164) == 12


def test_strict_checking_refuses_a_number_in_an_unlisted_range() -> None:
    with pytest.raises(PhoneError, match="in a mobile range the numbering plan does not list"):
        normalise_mobile("0521234567", strict=True)
    assert not normalise_mobile("0912345678", strict=True).unlisted


@pytest.mark.parametrize("written", ["0201234567", "0412345678", "0612345678", "05212345678"])
def test_numbers_not_shaped_like_mobiles_are_still_refused(written: str) -> None:
    with pytest.raises(PhoneError):
        normalise_mobile(written)


@pytest.mark.parametrize("written", ["9.12346E+08", "9,12346E+08", "8.49123E+10"])
def test_a_number_a_spreadsheet_wrote_in_scientific_notation_is_refused_with_what_to_do(written: str) -> None:
    with pytest.raises(PhoneError, match="shortened to scientific notation, which loses digits; format the column"):
        normalise_mobile(written)
