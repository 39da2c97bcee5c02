"""Secrets kept out of every message, log line and stored text.

Settings hold secrets as `SecretStr`, which never prints. What this module catches is a secret
carried inside an ordinary string: a database URL with a password, a gateway URL with
`user:password@` or an `apikey=` parameter, a redirect's `Location` echoing them, a variable
assignment quoted in an error. `mask_secrets` is the one function that masks them; the CLI's error
output, the log formatter, `channels check`, stored delivery and pause reasons and the audit log
all go through it.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Any

MASK = "***"
# Names of query parameters and `NAME=value` pairs that carry a credential.
_SECRET_NAMES = (
    r"api[_-]?key|apikey|api[_-]?secret|secret[_-]?key|secret|client[_-]?secret|key|token|access[_-]?token|"
    r"refresh[_-]?token|auth[_-]?token|password|passwd|pwd|pass|signature|sig"
)
# `apikey=…`, `BROADCASTER_SMS_API_KEY=…`, `access_token%3D…` (inside an encoded URL); not `monkey=`.
_SECRET_PAIR = re.compile(
    rf"(?<![A-Za-z0-9])(?P<name>(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_NAMES}))(?P<equals>=|%3D)"
    r"(?P<value>[^&\s#'\"<>;,)]+)",
    re.IGNORECASE,
)
# `"ApiKey": "…"` in JSON, and `%22ApiKey%22%3A%22…%22` once it is percent-encoded into a URL (a gateway
# that redirects with the request's body in `Location`).
_SECRET_JSON = re.compile(
    rf"(?P<open>(?:\"|%22)(?:[A-Za-z0-9]+[_-])*(?:{_SECRET_NAMES})(?:\"|%22)(?:\s|%20|\+)*(?::|%3A)(?:\s|%20|\+)*(?:\"|%22))"
    r"(?P<value>(?:\\.|(?!%22)[^\"\\])*)",
    re.IGNORECASE,
)
# The password of `scheme://user:password@host`, also when the URL is misspelt (`postgresql//…`, `postgresql:…`).
_USERINFO = re.compile(r"(?P<start>[A-Za-z][A-Za-z0-9+.\-]*:?/*[^\s:/@?#'\"<>]*):(?P<password>[^\s/@?#'\"<>]*)@")


@lru_cache(maxsize=4096)
def mask_secrets(text: str) -> str:
    """`text` with every password in a URL's `user:password@` and every value of a key-like
    parameter (apikey, api_key, key, secret, token, access_token, password…), as `name=value` or as a
    JSON member (plain or percent-encoded), replaced by `***`."""
    if "=" not in text and "@" not in text and "%3" not in text and '"' not in text:
        return text  # nothing that could hold one: the common case, kept cheap
    masked = _USERINFO.sub(lambda match: f"{match['start']}:{MASK}@", text)
    masked = _SECRET_JSON.sub(lambda match: f"{match['open']}{MASK}", masked)
    return _SECRET_PAIR.sub(lambda match: f"{match['name']}{match['equals']}{MASK}", masked)


def mask_values(value: Any) -> Any:
    """Every string inside a JSON-like value (the audit log's details) passed through `mask_secrets`."""
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: mask_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_values(item) for item in value]
    return value


class MaskingFormatter(logging.Formatter):
    """A log formatter whose lines, tracebacks included, carry no secret."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class JsonMaskingFormatter(logging.Formatter):
    """One JSON object a line (time, level, logger, message, the record's `action`, the traceback), with no
    secret: for log collectors (BROADCASTER_LOG_FORMAT=json)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        action = getattr(record, "action", None)
        if action is not None:
            entry["action"] = str(action)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_secrets(json.dumps(entry, ensure_ascii=False))
