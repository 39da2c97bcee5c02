"""JSON from outside (API bodies, delivery report callbacks, form fields): parsed strictly.

Python's `json` keeps the last of two equal keys and recurses once per level of nesting. So
`{"priority": "ordinary", "priority": "emergency"}` would silently mean emergency, and a body nested a
few thousand levels deep would end in a RecursionError. `loads` refuses both with a sentence, as the
YAML reader refuses a key written twice.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # no body this program reads comes near it (a campaign is about 6 levels deep)
_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKET = re.compile(r"[\[\]{}]")


class JsonRefused(ValueError):
    """Not JSON this program accepts; the message is one sentence saying why."""


def _depth(text: str) -> int:
    deepest = depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for key, value in pairs:
        if key in mapping:
            raise JsonRefused(f"the JSON has the key '{key}' twice in one object: write each key once")
        mapping[key] = value
    return mapping


def loads(body: bytes | str) -> Any:
    """The JSON value in `body`; JsonRefused for a key given twice, nesting past MAX_DEPTH or invalid JSON."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise JsonRefused("the JSON is not UTF-8 text") from None
    if _depth(text) > MAX_DEPTH:
        raise JsonRefused(f"the JSON is nested more than {MAX_DEPTH} levels deep, which no request here needs")
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
