"""What people write in an opt-out column, in Vietnamese and English (DOMAIN §5: opt-outs are honoured
and kept, so a value the import does not know is never read as consent)."""

from __future__ import annotations

import unicodedata

import pytest

from broadcaster.directory import read_opt_out

OPTED_OUT = [
    "đã từ chối", "Đã từ chối", "từ chối", "TỪ CHỐI", "tu choi", "hủy", "huỷ", "Hủy", "HUY", "đã hủy",
    "hủy đăng ký", "x", "X", "✓", "✔", "có", "Có", "co", "rồi", "roi", "yes", "Yes", "y", "1", "TRUE",
    "opted out", "Opted Out", "opt-out", "không nhận tin", "  từ   chối  ",
]  # fmt: skip
NOT_OPTED_OUT = [
    "",
    " ",
    "không",
    "Không",
    "KHÔNG",
    "khong",
    "ko",
    "chưa",
    "Chưa",
    "chua",
    "no",
    "No",
    "n",
    "0",
    "FALSE",
]
UNKNOWN = ["?", "-", "maybe", "2", "đồng ý", "nhận", "không rõ", "xx", "yes!", "14/05/2024", "=1+1"]


@pytest.mark.parametrize("written", OPTED_OUT)
def test_the_usual_ways_of_writing_an_opt_out_are_read_as_opted_out(written: str) -> None:
    assert read_opt_out(written) is True


@pytest.mark.parametrize("written", NOT_OPTED_OUT)
def test_empty_and_the_usual_negatives_are_read_as_not_opted_out(written: str) -> None:
    assert read_opt_out(written) is False


@pytest.mark.parametrize("written", ["đã từ chối", "hủy", "huỷ", "có", "rồi", "không", "chưa"])
def test_decomposed_text_reads_as_its_composed_form(written: str) -> None:
    decomposed = unicodedata.normalize("NFD", written)
    assert decomposed != written
    assert read_opt_out(decomposed) is read_opt_out(written)


@pytest.mark.parametrize("written", UNKNOWN)
def test_anything_else_is_refused_with_the_accepted_words(written: str) -> None:
    with pytest.raises(ValueError, match=r"is not a value this import knows; write one of x, có, từ chối"):
        read_opt_out(written)
