"""The content checks' sentences in the console's language: the checks say them in English (the command
line, the API, the logs); the composer shows them in Vietnamese first. A sentence with no translation
here is shown as it was said."""

from __future__ import annotations

import re

_VIETNAMESE = (
    (
        re.compile(
            r"the text has a link \((?P<link>.+?)\); (?P<channel>\w+) bulletins must not contain links, since the "
            r"warning tells people never to follow one"
        ),
        "Nội dung có đường dẫn ({link}); tin {channel} không được có đường dẫn, vì cảnh báo dặn người dân "
        "không bấm vào đường dẫn nào.",
    ),
    (
        re.compile(
            r"the text has the phone number (?P<number>\S+), which is not one of the issuer's official hotlines "
            r"\((?P<hotlines>.*)\)"
        ),
        "Nội dung có số điện thoại {number}, không phải đường dây nóng chính thức của đơn vị ({hotlines}).",
    ),
    (
        re.compile(r"the (?P<channel>\w+) text does not give an official hotline \((?P<hotlines>.*)\)"),
        "Nội dung {channel} chưa có đường dây nóng chính thức của đơn vị ({hotlines}): chèn trường [Đường dây nóng].",
    ),
    (
        re.compile(r"choose the issuer first: the text is checked against its hotlines"),
        "Hãy chọn cơ quan ban hành trước: nội dung được đối chiếu với đường dây nóng của cơ quan.",
    ),
)


def in_language(sentence: str, lang: str) -> str:
    """The check's sentence in `lang` ("vi" or "en")."""
    if lang != "vi":
        return sentence
    for pattern, vietnamese in _VIETNAMESE:
        if (matched := pattern.fullmatch(sentence)) is not None:
            return vietnamese.format(**matched.groupdict())
    return sentence
