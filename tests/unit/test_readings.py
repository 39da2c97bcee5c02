"""What an announcer reads aloud (DOMAIN §9 commune radio, read as §8 and §15 say): document numbers, phone
numbers in every usual spelling, legal numbers, the usual abbreviations of letters, "mồng", lists, borrowed
words from the shipped dictionaries, and a reminder that repeats every number given.

Each group pins the cases heard on the station (2026-12-06) and, apart, held-out cases that the readings
were not tuned to: other documents, other numbers, other spellings."""

from __future__ import annotations

from functools import cache

import pytest

from broadcaster.directory import IssuerProfile
from broadcaster.settings import shipped_dir
from broadcaster.text import complete_reminder, read_phone, spoken, unreadable_words
from broadcaster.yaml_files import read_yaml


@cache
def shipped(issuer: str = "tay-ninh-stttt") -> dict[str, str]:
    """A shipped issuer's reading dictionary, as its profile file gives it."""
    profile = IssuerProfile.model_validate(read_yaml(shipped_dir("config") / "issuers" / f"{issuer}.yaml"))
    return profile.readings


def read(text: str, region: str = "south", symbols: str = "brief", issuer: str = "tay-ninh-stttt") -> str:
    return spoken(text, region, shipped(issuer), symbols)


# ---- document numbers (DOMAIN §9, §15) --------------------------------------------------------------


def test_a_letter_number_says_the_department_once_where_the_sentence_has_not_named_it() -> None:
    assert read("Theo Công văn số 881/STTTT-TTr, bà con cần cảnh giác.") == (
        "Theo Công văn số tám trăm tám mươi mốt của Sở Thông tin và Truyền thông, bà con cần cảnh giác."
    )


def test_a_letter_number_does_not_repeat_the_department_just_named_nor_leave_its_unit_dangling() -> None:
    script = (
        "Ngày 14/5/2024, Sở Thông tin và Truyền thông tỉnh Tây Ninh đã ban hành Công văn số 881/STTTT-TTr, "
        "tiếp tục cảnh báo các cuộc gọi giả danh."
    )
    assert "Công văn số tám trăm tám mươi mốt, tiếp tục cảnh báo" in read(script)
    assert "Thanh tra" not in read(script) and "ký hiệu" not in read(script)


def test_the_issuer_may_choose_to_read_the_number_alone() -> None:
    assert read("Theo Công văn số 881/STTTT-TTr, bà con cần cảnh giác.", symbols="none") == (
        "Theo Công văn số tám trăm tám mươi mốt, bà con cần cảnh giác."
    )


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        (
            "theo Thông tư 39/2020/TT-BTTTT",
            "theo Thông tư số ba mươi chín năm hai ngàn không trăm hai mươi của Bộ Thông tin và Truyền thông",
        ),
        (
            "Nghị định số 91/2020/NĐ-CP quy định",
            "Nghị định số chín mươi mốt năm hai ngàn không trăm hai mươi của Chính phủ quy định",
        ),
    ],
)
def test_legal_document_numbers_are_read_with_their_year_and_body(written: str, heard: str) -> None:
    assert read(written) == heard  # DOMAIN §15: "số … năm … của Bộ …"


@pytest.mark.parametrize(
    ("written", "heard", "region", "symbols"),
    [  # held out: none of these was looked at while the reading was written
        (
            "Quyết định số 1234/QĐ-UBND ngày 05/3/2025 của UBND tỉnh",
            "Quyết định số một ngàn hai trăm ba mươi bốn ngày mồng năm tháng ba năm hai ngàn không trăm hai mươi "
            "lăm của Ủy ban nhân dân tỉnh",
            "south",
            "brief",
        ),
        ("Chỉ thị 21/CT-TTg", "Chỉ thị số hai mươi mốt của Thủ tướng Chính phủ", "south", "brief"),
        (
            "Luật số 59/2020/QH14",
            "Luật số năm mươi chín năm hai ngàn không trăm hai mươi của Quốc hội",
            "south",
            "brief",
        ),
        (
            "căn cứ 13/2023/NĐ-CP về bảo vệ dữ liệu",
            "căn cứ Nghị định số mười ba năm hai ngàn không trăm hai mươi ba của Chính phủ về bảo vệ dữ liệu",
            "south",
            "brief",
        ),
        ("Công văn 452/UBND-VX", "Công văn số bốn trăm năm mươi hai của Ủy ban nhân dân", "south", "brief"),
        (
            "Thông tư 24/2014/TT-BTTTT",
            "Thông tư số hai mươi tư năm hai nghìn không trăm mười bốn của Bộ Thông tin và Truyền thông",
            "north",
            "brief",
        ),
        ("Kế hoạch số 88/KH-STTTT", "Kế hoạch số tám mươi tám", "south", "none"),
    ],
)
def test_held_out_document_numbers(written: str, heard: str, region: str, symbols: str) -> None:
    assert read(written, region, symbols) == heard  # DOMAIN §15


def test_a_body_no_dictionary_knows_is_left_for_the_radio_check_to_name() -> None:
    heard = read("theo Công văn 17/SNV-VP")
    assert heard == "theo Công văn số mười bảy của SNV"
    assert unreadable_words(heard) == ["SNV"]


# ---- phone numbers (DOMAIN §8, §9) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    ["+84 276 3631 168", "0276.3631.168", "0276 3631 168", "02763631168", "(0276) 3631 168", "+84 (0) 276 3631 168"],
)
def test_the_tay_ninh_hotline_is_read_digit_by_digit_in_any_spelling(written: str) -> None:
    assert read(f"gọi {written} ngay") == "gọi không hai bảy sáu, ba sáu ba một, một sáu tám ngay"


def test_the_binh_phuoc_hotline_is_read_in_its_three_groups() -> None:
    assert read("Đường dây nóng 0888 596 677.") == "Đường dây nóng không tám tám tám, năm chín sáu, sáu bảy bảy."


@pytest.mark.parametrize(
    ("written", "heard"),
    [  # held out
        ("(+84) 912 345 678", "không chín một hai, ba bốn năm, sáu bảy tám"),
        ("0084 24 3823 4567", "không hai bốn, ba tám hai ba, bốn năm sáu bảy"),
        ("0913-456-789", "không chín một ba, bốn năm sáu, bảy tám chín"),
        ("(0251) 3822 222", "không hai năm một, ba tám hai hai, hai hai hai"),
        ("0354.123.456", "không ba năm bốn, một hai ba, bốn năm sáu"),
        ("028 3829 1234", "không hai tám, ba tám hai chín, một hai ba bốn"),
    ],
)
def test_held_out_phone_numbers(written: str, heard: str) -> None:
    assert read(f"Liên hệ {written} để được hỗ trợ.") == f"Liên hệ {heard} để được hỗ trợ."
    assert read_phone(written) == heard


def test_a_count_after_a_phone_number_stays_a_count() -> None:
    assert read("nhắn 0977 111 222 3 lần") == "nhắn không chín bảy bảy, một một một, hai hai hai ba lần"


def test_a_service_number_after_gọi_is_not_mistaken_for_a_short_number() -> None:
    assert read("gọi 0888 596 677") == "gọi không tám tám tám, năm chín sáu, sáu bảy bảy"


# ---- letters' abbreviations (DOMAIN §15) ----------------------------------------------------------------


def test_the_usual_abbreviations_of_an_official_letter_are_read() -> None:
    assert read("Nơi nhận: UBND tỉnh (đề b/c); Lưu: VT, TTr.") == (
        "Nơi nhận: Ủy ban nhân dân tỉnh (để báo cáo); Lưu: Văn thư, Thanh tra."
    )


def test_held_out_letter_abbreviations() -> None:
    assert read("Gửi các phòng (để t/h); Công an tỉnh (để p/h); đ/c Giám đốc.") == (
        "Gửi các phòng (để thực hiện); Công an tỉnh (để phối hợp); đồng chí Giám đốc."
    )


# ---- days and lists (DOMAIN §15) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "heard"),
    [
        ("ngày 1/6/2024", "ngày mồng một tháng sáu năm hai ngàn không trăm hai mươi bốn"),
        ("từ 2/9 đến 10/9", "từ ngày mồng hai tháng chín đến ngày mồng mười tháng chín"),  # held out
        ("ngày 11/9", "ngày mười một tháng chín"),  # held out: "mồng" ends with the tenth
        ("sáng 7/3", "sáng ngày mồng bảy tháng ba"),  # held out
    ],
)
def test_the_first_ten_days_of_a_month_are_said_with_mồng(written: str, heard: str) -> None:
    assert read(written) == heard


def test_a_numbered_list_is_read_first_second_never_một_dot() -> None:
    assert read("Bà con lưu ý:\n1. Không nghe máy lạ.\n2. Không chuyển tiền.") == (
        "Bà con lưu ý:\nThứ nhất: Không nghe máy lạ.\nThứ hai: Không chuyển tiền."
    )


def test_held_out_lists_and_numbers_that_are_not_list_markers() -> None:
    assert read("3) Báo ngay.\n4) Lưu số máy.") == "Thứ ba: Báo ngay.\nThứ tư: Lưu số máy."
    assert read("Điều 1. Ban hành") == "Điều một. Ban hành"
    assert read("1.500 người đã bị lừa") == "một ngàn năm trăm người đã bị lừa"


# ---- borrowed words: the shipped dictionaries (DOMAIN §15) --------------------------------------------------


@pytest.mark.parametrize("issuer", ["tay-ninh-stttt", "binh-phuoc-stttt"])
def test_the_shipped_dictionaries_keep_borrowed_words_vietnamese(issuer: str) -> None:
    assert read("không kết bạn Zalo, Facebook, không bấm vào đường link lạ", issuer=issuer) == (
        "không kết bạn Da-lô, Phây-búc, không bấm vào đường dẫn lạ"
    )


def test_held_out_borrowed_words_in_other_cases_and_places() -> None:
    assert read("nhắn qua zalo hoặc Messenger; Link lạ") == "nhắn qua Da-lô hoặc Mét-xen-giơ; Đường dẫn lạ"
    assert read("gửi mã OTP qua email") == "gửi mã xác thực qua thư điện tử"
    assert read("hộp thư stttt@tayninh.gov.vn") == "hộp thư stttt@tayninh.gov.vn"  # an address is not a word


def test_an_issuer_edits_its_dictionary_and_the_edit_is_what_is_read() -> None:
    own = {**shipped(), "Zalo": "Za-lô"}
    assert spoken("kết bạn Zalo", readings=own) == "kết bạn Za-lô"


def test_a_dictionary_may_hold_words_and_short_phrases_but_no_padding() -> None:
    base = read_yaml(shipped_dir("config") / "issuers" / "tay-ninh-stttt.yaml")
    assert IssuerProfile.model_validate(base | {"readings": {"đường link": "đường dẫn"}}).readings
    with pytest.raises(ValueError, match="no spaces around"):
        IssuerProfile.model_validate(base | {"readings": {" link": "đường dẫn"}})


# ---- the reminder repeats every number (DOMAIN §9) -----------------------------------------------------------

SCRIPT = (
    "Bà con hãy báo ngay cho Sở:\n"
    "Thanh tra Sở, số điện thoại 02763631168.\n"
    "Phòng CNTT-BCVT, số điện thoại 02763813111.\n\n"
    "Xin nhắc lại: số điện thoại tiếp nhận phản ánh của Sở là 02763631168. Đề nghị bà con nâng cao cảnh giác."
)


def test_the_reminder_repeats_every_hotline_the_script_gave() -> None:
    heard = read(SCRIPT)
    reminder = heard[heard.index("Xin nhắc lại") :]
    assert "không hai bảy sáu, ba sáu ba một, một sáu tám và không hai bảy sáu, ba tám một ba, một một một" in reminder


def test_held_out_reminders() -> None:
    three = "Gọi 0888 596 677, 0276 3631 168 hoặc 1900 1234.\nXin nhắc lại: gọi 0276 3631 168."
    assert complete_reminder(three).endswith("Xin nhắc lại: gọi 0276 3631 168, 0888 596 677 và 1900 1234.")
    whole = "Gọi 0888 596 677.\nXin nhắc lại: gọi 0888.596.677."
    assert complete_reminder(whole) == whole  # the same number in another spelling is already repeated
    none = "Gọi 0888 596 677.\nXin nhắc lại: hãy cảnh giác."
    assert complete_reminder(none) == none  # a reminder that gives no number is not made to give them
