"""broadcaster.text pinned on real cases: the seed letters' numbers, dates and hotlines (DOMAIN §2, §7, §8)."""

from __future__ import annotations

from datetime import date, time

import pytest

from broadcaster.text import (
    admin_date,
    count_syllables,
    number_to_words,
    plain_sms_text,
    read_abbreviations,
    read_date,
    read_phone,
    read_time,
    slugify,
    sms_info,
    spoken,
    strip_diacritics,
    unreadable_words,
)


@pytest.mark.parametrize(
    ("number", "south", "north"),
    [
        (0, "không", "không"),
        (10, "mười", "mười"),
        (15, "mười lăm", "mười lăm"),
        (21, "hai mươi mốt", "hai mươi mốt"),
        (24, "hai mươi bốn", "hai mươi tư"),
        (25, "hai mươi lăm", "hai mươi lăm"),
        (105, "một trăm lẻ năm", "một trăm linh năm"),
        (1000, "một ngàn", "một nghìn"),
        (2024, "hai ngàn không trăm hai mươi bốn", "hai nghìn không trăm hai mươi tư"),
        (881, "tám trăm tám mươi mốt", "tám trăm tám mươi mốt"),  # letter 881/STTTT-TTr
        (720, "bảy trăm hai mươi", "bảy trăm hai mươi"),  # letter 720/STTTT-TTr
        (11, "mười một", "mười một"),  # "mốt" only after twenty and up
        (1005, "một ngàn không trăm lẻ năm", "một nghìn không trăm linh năm"),
        (1_000_000, "một triệu", "một triệu"),
        (2_000_000_000, "hai tỷ", "hai tỷ"),
    ],
)
def test_number_to_words_reads_like_an_announcer_in_each_region(number: int, south: str, north: str) -> None:
    assert number_to_words(number) == south
    assert number_to_words(number, "north") == north


def test_number_to_words_reads_billions_and_negative_numbers() -> None:
    assert number_to_words(1_234_567_891, "north") == (
        "một tỷ hai trăm ba mươi tư triệu năm trăm sáu mươi bảy nghìn tám trăm chín mươi mốt"
    )
    assert number_to_words(-5) == "âm năm"


def test_number_to_words_refuses_an_unknown_region() -> None:
    with pytest.raises(ValueError, match="south' or 'north"):
        number_to_words(5, "central")


def test_read_phone_reads_the_binh_phuoc_hotline_digit_by_digit() -> None:
    assert read_phone("0888596677") == "không tám tám tám, năm chín sáu, sáu bảy bảy"


def test_read_phone_reads_the_tay_ninh_landlines_and_international_form() -> None:
    # In the groups the number is printed in (0276 3631 168), whatever the writer's spacing.
    assert read_phone("02763631168") == "không hai bảy sáu, ba sáu ba một, một sáu tám"
    assert read_phone("0276 3813 111") == "không hai bảy sáu, ba tám một ba, một một một"
    assert read_phone("+84 912 345 678") == "không chín một hai, ba bốn năm, sáu bảy tám"


def test_strip_diacritics_maps_d_with_stroke_which_does_not_decompose() -> None:
    assert strip_diacritics("Đài Phát thanh đường dây") == "Dai Phat thanh duong day"
    assert strip_diacritics("Sở Thông tin và Truyền thông Bình Phước") == "So Thong tin va Truyen thong Binh Phuoc"
    assert strip_diacritics("ẮẰẲẴẶ ỨỪỬỮỰ ỐỒỔỖỘ") == "AAAAA UUUUU OOOOO"


def test_sms_info_counts_gsm7_septets_with_extension_characters_twice() -> None:
    info = sms_info("a" * 158 + "{")
    assert (info.encoding, info.length, info.parts) == ("GSM-7", 160, 1)
    assert sms_info("a" * 161).parts == 2
    assert sms_info("a" * 307).parts == 3  # 153 per part once concatenated


def test_sms_info_one_vietnamese_letter_outside_gsm7_makes_the_message_ucs2() -> None:
    # Only à è é ì ò ù É are in the GSM-7 basic table (DOMAIN §2).
    assert sms_info("Cảnh báo").encoding == "UCS-2"
    assert sms_info("à è é ì ò ù É").encoding == "GSM-7"
    assert sms_info("x" * 70 + "ả").parts == 2
    assert sms_info("x" * 69 + "ả").parts == 1
    assert sms_info("x" * 133 + "ả").parts == 2  # 67 per part


def test_sms_info_counts_the_nfc_form() -> None:
    import unicodedata

    warning = "Cảnh giác lừa đảo: không kết bạn Zalo, không bấm link lạ, gọi 0888596677!"
    decomposed = unicodedata.normalize("NFD", warning)
    assert len(decomposed) > len(warning)
    assert sms_info(decomposed) == sms_info(warning)


def test_an_accented_warning_takes_two_parts_and_one_unaccented() -> None:
    warning = "Canh bao: ke gian gia danh lanh dao So goi dien moi lam viec, bao 0888596677"
    accented = "Cảnh báo: kẻ gian giả danh lãnh đạo Sở gọi điện mời làm việc, báo 0888596677"
    assert strip_diacritics(accented) == warning
    assert sms_info(accented).parts == 2
    assert sms_info(warning).parts == 1


def test_plain_sms_text_also_makes_typography_gsm7() -> None:
    assert plain_sms_text("Sở TT&TT – “cảnh giác”…") == 'So TT&TT - "canh giac"...'
    assert sms_info(plain_sms_text("Sở TT&TT – “cảnh giác”…")).encoding == "GSM-7"


@pytest.mark.parametrize(
    ("place", "day", "line"),
    [
        ("Tây Ninh", date(2024, 5, 14), "Tây Ninh, ngày 14 tháng 5 năm 2024"),  # letter 881
        ("Bình Phước", date(2025, 1, 5), "Bình Phước, ngày 05 tháng 01 năm 2025"),
        ("Tây Ninh", date(2024, 3, 3), "Tây Ninh, ngày 03 tháng 3 năm 2024"),
        ("Tây Ninh", date(2024, 2, 20), "Tây Ninh, ngày 20 tháng 02 năm 2024"),
    ],
)
def test_admin_date_follows_decree_30_leading_zeros(place: str, day: date, line: str) -> None:
    assert admin_date(place, day) == line  # DOMAIN §7


def test_read_date_reads_the_date_of_letter_881() -> None:
    assert read_date(date(2024, 5, 14)) == "ngày mười bốn tháng năm năm hai ngàn không trăm hai mươi bốn"
    assert read_date(date(2024, 4, 17), "north") == "ngày mười bảy tháng tư năm hai nghìn không trăm hai mươi tư"


def test_read_time() -> None:
    assert read_time(time(17, 30)) == "mười bảy giờ ba mươi phút"
    assert read_time(time(5, 0)) == "năm giờ"


def test_spoken_writes_out_dates_letter_numbers_phones_and_quantities() -> None:
    text = "Ngày 17/4/2024, Sở ban hành Công văn số 720/STTTT-TTr; gọi 0888596677 lúc 08:00 cho 15 xã."
    assert spoken(text) == (
        "Ngày mười bảy tháng tư năm hai ngàn không trăm hai mươi bốn, Sở ban hành Công văn số bảy trăm hai "
        "mươi của STTTT; gọi không tám tám tám, năm chín sáu, sáu bảy bảy lúc tám giờ cho mười lăm xã."
    )


def test_spoken_leaves_no_digit_in_the_radio_text() -> None:
    text = "Thanh tra Sở: 02763631168; Phòng CNTT-BCVT: 0276 3813 111; ngày 14/05/2024; 1.500 người."
    assert not any(char.isdigit() for char in spoken(text))


def test_count_syllables_counts_vietnamese_words() -> None:
    assert count_syllables("Kính thưa quý vị và bà con!") == 7


def test_slugify() -> None:
    assert slugify("UBND huyện Châu Thành") == "ubnd-huyen-chau-thanh"
    assert slugify("Đài Truyền thanh – Gò Dầu") == "dai-truyen-thanh-go-dau"


# ---- DOMAIN §15: the harder cases ------------------------------------------------------------------

READINGS = {
    "UBND": "Ủy ban nhân dân",
    "STTTT": "Sở Thông tin và Truyền thông",
    "TT&TT": "Thông tin và Truyền thông",
    "KH&CN": "Khoa học và Công nghệ",
    "CNTT": "công nghệ thông tin",
    "BCVT": "bưu chính viễn thông",
    "TTr": "Thanh tra",
    "V/v": "về việc",
}


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("tăng 15%", "tăng mười lăm phần trăm"),
        ("chỉ 2,5% số thuê bao", "chỉ hai phẩy năm phần trăm số thuê bao"),
        ("lãi 0,05 %", "lãi không phẩy không năm phần trăm"),
        ("1.500,25 đồng", "một ngàn năm trăm phẩy hai mươi lăm đồng"),
    ],
)
def test_spoken_reads_percentages_and_the_decimal_comma(written: str, read: str) -> None:
    assert spoken(written) == read  # DOMAIN §15


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Ngày 17/4, Sở ban hành", "Ngày mười bảy tháng tư, Sở ban hành"),
        ("từ 17/4 đến 20/5", "từ ngày mười bảy tháng tư đến ngày hai mươi tháng năm"),
        ("sáng 1/1", "sáng ngày mồng một tháng một"),
        ("ngày 17/4/2024", "ngày mười bảy tháng tư năm hai ngàn không trăm hai mươi bốn"),
    ],
)
def test_spoken_reads_a_day_and_month_as_a_date_where_the_words_say_it_is_one(written: str, read: str) -> None:
    assert spoken(written) == read  # DOMAIN §15


def test_spoken_leaves_a_slash_outside_a_date_context_for_the_check_to_find() -> None:
    # "3/4 số xã" is three quarters, not the third of April: nothing guesses, the check names it.
    assert "3/4" in spoken("3/4 số xã")
    assert unreadable_words(spoken("3/4 số xã")) == ["3/4"]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("gọi 113", "gọi một một ba"),
        ("Gọi ngay 115 khi cần", "Gọi ngay một một năm khi cần"),
        ("tổng đài 1900 1234", "tổng đài một chín không không, một hai ba bốn"),
        ("số 18001567 miễn phí", "số một tám không không, một năm sáu bảy miễn phí"),
        ("nhắn tin đến 5656", "nhắn tin đến năm sáu năm sáu"),
        ("có 113 người", "có một trăm mười ba người"),  # a quantity stays a quantity
    ],
)
def test_spoken_reads_service_and_short_numbers_digit_by_digit(written: str, read: str) -> None:
    assert spoken(written) == read  # DOMAIN §15


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("lúc 19h30", "lúc mười chín giờ ba mươi phút"),
        ("lúc 19:30", "lúc mười chín giờ ba mươi phút"),
        ("từ 7h sáng", "từ bảy giờ sáng"),
    ],
)
def test_spoken_reads_times(written: str, read: str) -> None:
    assert spoken(written) == read  # DOMAIN §15


def test_spoken_reads_abbreviations_from_the_issuers_dictionary() -> None:
    text = "V/v cảnh báo: UBND tỉnh, Sở TT&TT và Sở KH&CN; Phòng CNTT-BCVT; Công văn số 881/STTTT-TTr."
    assert spoken(text, readings=READINGS) == (
        "Về việc cảnh báo: Ủy ban nhân dân tỉnh, Sở Thông tin và Truyền thông và Sở Khoa học và Công nghệ; "
        "Phòng công nghệ thông tin, bưu chính viễn thông; Công văn số tám trăm tám mươi mốt của "
        "Sở Thông tin và Truyền thông."
    )


def test_a_compound_in_the_dictionary_wins_over_its_pieces() -> None:
    readings = {**READINGS, "CNTT-BCVT": "Công nghệ thông tin và Bưu chính viễn thông"}
    assert read_abbreviations("Phòng CNTT-BCVT", readings) == "Phòng Công nghệ thông tin và Bưu chính viễn thông"


def test_abbreviations_match_whole_tokens_and_case() -> None:
    assert read_abbreviations("UBNDX và ubnd và TTra", READINGS) == "UBNDX và ubnd và TTra"


def test_without_a_dictionary_abbreviations_stay_and_the_check_names_them() -> None:
    assert unreadable_words(spoken("Sở TT&TT và UBND tỉnh gọi 0888596677")) == ["TT&TT", "UBND"]


def test_unreadable_words_finds_digits_signs_and_capitals_but_not_names() -> None:
    text = "Kính thưa bà con! Kết bạn Zalo, Facebook; mã OTP, 50%, a/b, 3 lần, email@x, Sở TT&TT."
    assert unreadable_words(text) == ["OTP", "50%", "a/b", "3", "email@x", "TT&TT"]
