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
