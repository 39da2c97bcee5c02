"""Templates run within bounds: huge numbers and texts stop at once with a sentence naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcaster.rendering import ChannelTemplates, TemplateProblem, build_environment


def rendered(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "templates" / "thu" / "vi"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sms.txt.j2").write_text(text, encoding="utf-8")
    templates = ChannelTemplates(build_environment(tmp_path / "templates"), "thu", "sms", "vi")
    return templates.render("vi", {"hotline": "0276 3631 168"})["txt"]


def test_ordinary_arithmetic_formats_and_loops_still_work(tmp_path: Path) -> None:
    text = (
        "Báo tin: {{ hotline }} · {{ 2 ** 10 }} · {{ 7 * 3 }} · {{ '%5.2f' % 3.14159 }} · {{ '{:>4}'.format(12) }} · "
        "{{ 'ab' ~ 'cd' }} · {% for i in range(3) %}{{ i }}{% endfor %} · {{ ['a', 'b']|join(', ') }}"
    )
    assert rendered(tmp_path, text) == "Báo tin: 0276 3631 168 · 1024 · 21 ·  3.14 ·   12 · abcd · 012 · a, b\n"


@pytest.mark.parametrize(
    ("line", "sentence"),
    [
        (
            "{{ 'a' * 10**9 }}",
            "repeats a text or list 1,000,000,000 times, which makes a text of 1,000,000,000 characters "
            "(the limit is 200,000)",
        ),
        ("{{ 10**10000 }}", "computes 10 ** 10000, a number of more than 100 digits"),
        ("{{ 10.0 ** 1000 }}", "computes a number too large to hold (10.0 ** 1000)"),
        ("{{ 'a'|center(1000000000) }}", "uses the filter 'center', which makes a text of 1,000,000,001 characters"),
        ("{{ '%999999999d' % 1 }}", "uses the format '%999999999'; widths may be 1000 at most"),
        ("{{ '{:>999999999}'.format(1) }}", "uses the format '{:>999999999}'; widths may be 1000 at most"),
        ("{{ range(100000)|join('x' * 100000) }}", "uses the filter 'join', which makes a text of 9,999,900,000"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "joins texts with '~', which makes a text of 262,144 characters",
        ),
        (
            "{% set x %}{% for c in 'a' * 100000 %}{% for d in 'b' * 100000 %}yy{% endfor %}{% endfor %}{% endset %}",
            "loops more than 200,000 times in one rendering",
        ),
    ],
)
def test_a_template_that_would_exhaust_memory_stops_with_a_sentence_naming_file_and_line(
    tmp_path: Path, line: str, sentence: str
) -> None:
    with pytest.raises(TemplateProblem) as caught:
        rendered(tmp_path, f"Báo tin: {{{{ hotline }}}}\n{line}\n")
    message = str(caught.value)
    assert message.startswith("template thu/vi/sms.txt.j2 line 2 goes past a limit: it "), message
    assert sentence in message


def test_a_bulletin_part_longer_than_the_limit_is_not_sent(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem) as caught:
        rendered(tmp_path, "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}")
    assert str(caught.value) == (
        "template thu/vi/sms.txt.j2 goes past a limit: it writes more than 200,000 characters; "
        "a bulletin part may have 200,000"
    )


def test_a_template_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    with pytest.raises(TemplateProblem, match=r"which is 300,000 bytes \(a template may have 262,144\)"):
        rendered(tmp_path, "x" * 300_000)
