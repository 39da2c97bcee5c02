"""Plain words with named fields ↔ the stored template text."""

from __future__ import annotations

import pytest

from broadcaster.campaigns.plain import to_plain, to_template, with_post_date
from broadcaster.rendering import build_environment
from broadcaster.sandbox import TextsLoader


@pytest.mark.parametrize("channel", ["sms", "facebook", "email", "radio"])
def test_plain_words_come_back_as_written(channel: str) -> None:
    plain = "Ngày 5/12, [Tên đơn vị] nhắc: gọi [Đường dây nóng]; {% không phải mã %} và [một chú thích]."
    stored = to_template(plain, channel)
    assert "{{ issuer.unit_name }}" in stored and "[một chú thích]" in stored
    assert "{% không" not in stored  # typed braces stay text: the sandbox never runs them
    assert to_plain(stored, channel) == plain
    assert to_plain(stored, channel, "en") == plain.replace("[Tên đơn vị]", "[Unit name]").replace(
        "[Đường dây nóng]", "[Hotline]"
    )


def test_fields_are_named_in_either_language_and_read_on_paper_in_groups() -> None:
    assert to_template("[hotline] / [Đường dây nóng]", "facebook") == (
        "{{ issuer.hotline.number | phone }} / {{ issuer.hotline.number | phone }}"
    )
    assert to_template("[Hotline]", "sms") == "{{ issuer.hotline.number }}"


def test_a_radio_text_is_read_through_the_announcers_reading() -> None:
    stored = to_template("Gọi 0276 3631 168.", "radio")
    assert stored.startswith("{% set script %}\nGọi 0276 3631 168.\n{% endset %}")
    assert "script | spoken" in stored


@pytest.mark.parametrize(
    "code",
    [
        "{% if campaign.numbered %}số {{ campaign.number }}{% endif %}",
        "{{ issuer.hotlines[1].number }}",
        "{# a comment #}text",
        "Gọi {{ issuer.hotline.number }}",  # radio text not read through `spoken`: advanced
    ],
)
def test_template_code_is_only_edited_in_the_advanced_view(code: str) -> None:
    assert to_plain(code, "radio") is None


def test_the_date_of_each_post_is_added_once() -> None:
    dated = with_post_date("Cảnh báo.\n", "vi")
    assert dated == "Cảnh báo.\n\nCập nhật ngày {{ occurrence.date | short_date }}\n"
    assert with_post_date(dated, "vi") == dated
    assert to_plain(dated, "facebook") == "Cảnh báo.\n\nCập nhật ngày [Ngày phát]"


def test_a_text_compiled_for_reading_aloud_is_compiled_apart_for_the_checks_that_keep_digits() -> None:
    """The compiled code of a text is kept across sandboxes; a filter that reads aloud takes the context and
    the one that keeps digits does not, so each kind of sandbox has compiled code of its own."""
    texts = {"t/vi/radio.txt.j2": "{% set script %}\nGọi 0276 3631 168.\n{% endset %}{{ script | spoken }}"}
    aloud = build_environment(TextsLoader(texts)).get_template("t/vi/radio.txt.j2").render().strip()
    digits = build_environment(TextsLoader(texts), digits=True).get_template("t/vi/radio.txt.j2").render().strip()
    assert aloud == "Gọi không hai bảy sáu, ba sáu ba một, một sáu tám."
    assert digits == "Gọi 0276 3631 168."
