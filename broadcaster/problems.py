"""Problems found in user input: a field path (or file and line) and one plain sentence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from broadcaster.errors import UserError


@dataclass(frozen=True, order=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class InvalidInput(UserError):
    """Input with one or more problems; every problem is listed, not only the first."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{source} has {count} problem{'s' if count != 1 else ''}")


TAG_PREFIX = "rule:"


def field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(TAG_PREFIX) or part.startswith("function-"):
            continue  # union tags and validator wrappers are not fields the user wrote
        else:
            path += f".{part}" if path else part
    return path


_SENTENCES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field here",
    "union_tag_not_found": "needs exactly one of 'at', 'cron' or 'slots'",
    "union_tag_invalid": "needs exactly one of 'at', 'cron' or 'slots'",
}


def sentence(error: ErrorDetails) -> str:
    if error["type"] in _SENTENCES:
        return _SENTENCES[error["type"]]
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    message = message.replace("Input should be", "should be")
    if error["type"].startswith(("date", "datetime", "time")):
        return f"'{error['input']}' is not a valid date or time ({message.lower()})"
    return message[:1].lower() + message[1:]


def from_validation_error(exc: ValidationError, prefix: Sequence[int | str] = ()) -> list[Problem]:
    return [Problem(field_path([*prefix, *error["loc"]]), sentence(error)) for error in exc.errors()]
