"""Locales are IETF language tags (BCP 47): `vi`, `en`, `vi-VN`, `zh-Hant-TW`.

One validator for every place a locale comes in — campaign files, issuer profiles, station and
subscriber imports — because a locale becomes part of a template path (`<template>/<locale>/…`)
and is stored in columns of ten characters.
"""

from __future__ import annotations

from typing import Annotated

import langcodes
from pydantic import BeforeValidator

MAX_LENGTH = 10  # the width of the locale columns in the database
# Codes that are tags but name no language a template could be written in.
_NOT_A_LANGUAGE = frozenset({"und", "mis", "mul", "zxx"})


def normalise_locale(value: object) -> str:
    """The tag in its standard spelling (`EN` → `en`, `vi_vn` → `vi-VN`); ValueError with the reason."""
    text = str(value).strip() if value is not None else ""
    shown = text[:40]
    if not text:
        raise ValueError("a locale cannot be empty (write a language tag such as vi or en)")
    try:
        valid = langcodes.tag_is_valid(text)
        language = langcodes.Language.get(text) if valid else None
    except (ValueError, LookupError):
        valid, language = False, None
    if language is None or not valid:
        raise ValueError(f"'{shown}' is not a language tag (write one such as vi, en or vi-VN)")
    if (
        language.language is None
        or not language.language.isalpha()  # a private-use tag such as x-foo
        or language.language in _NOT_A_LANGUAGE
        or "qaa" <= language.language <= "qtz"  # reserved for private use
        or language.variants
        or language.extensions
        or language.private
    ):
        raise ValueError(f"'{shown}' names no known language (write a language tag such as vi, en or vi-VN)")
    tag = str(language.to_tag())
    if len(tag) > MAX_LENGTH:
        raise ValueError(f"'{shown}' is longer than {MAX_LENGTH} characters (write a shorter tag such as vi-VN)")
    return tag


# A locale field of a pydantic model (campaign files, issuer profiles): checked and normalised.
Locale = Annotated[str, BeforeValidator(normalise_locale)]
