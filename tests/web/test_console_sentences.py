"""Every sentence the console can show is in the console's language.

The core says its refusals in English (the command line, the API and the logs keep English); the console
passes each through `sentences.said`. This reads the sentences the core can say — the string literals and
f-strings given to UserError(…), NotFound(…), TransitionRefused(…), PhoneError(…), Problem(…) and friends
in the modules the console's pages reach — and checks that each has a Vietnamese pattern, save those listed
in LEFT_OUT with the reason the console never shows them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from broadcaster.web.console.sentences import in_language, said

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "broadcaster"

# The modules behind the pages named in the issue: the lifecycle and its refusals, campaign validation,
# CSV imports, phone numbers, the directory's lists and issuers, accounts and permissions.
REACHED = (
    "campaigns/lifecycle.py",
    "campaigns/versions.py",
    "campaigns/revisions.py",
    "campaigns/store.py",
    "campaigns/file.py",
    "campaigns/checks.py",
    "directory/audience.py",
    "csvfiles.py",
    "phones.py",
    "operations/staged_imports.py",
    "accounts.py",
)
# The channels' own content checks, shown in the composer's check panel and as refusals on submit.
CHANNEL_CHECKS = ("channels/base.py", "channels/sms.py", "channels/radio.py")
# Functions that return the sentence (or the list of sentences) a refusal is then raised or shown with.
CHECKERS = frozenset({"check_content", "check_read_aloud", "refuse_approval"})
RAISERS = frozenset({"UserError", "NotFound", "TransitionRefused", "PermissionDenied", "PhoneError", "ValueError"})

# Sentences the console never shows, with why.
LEFT_OUT = {
    # csvfiles: reading and writing files by path is the command line's (the console reads uploads).
    "1: file not found": "CLI only: a path on the server's disk",
    "1: is a folder, not a file": "CLI only: a path on the server's disk",
    "1: cannot be read (1)": "CLI only: a path on the server's disk",
    "1: is a folder; give the name of a CSV file to write": "CLI only: writing a report file",
    "1: cannot be written, 1 is a file and not a folder": "CLI only: writing a report file",
    "1: cannot be written (1)": "CLI only: writing a report file",
    # accounts: the command line's own options; the accounts page checks these before it asks the core.
    "'1' names commands run without --as; choose another account name": "CLI only: the server terminal's name",
    "a station account speaks for stations: name them with --station SLUG": "the page says stations_needed first",
    "only a station account is tied to stations (use --role station)": "the page sends stations only for station",
    # channels: the deployment's settings and folders, said at start-up and in the logs, not on a page.
    "BROADCASTER_SMS_1 is not set (the 1 dialect needs it)": "configuration: start-up and logs",
    "BROADCASTER_SMS_DIALECT '1' is not a known gateway dialect (1)": "configuration: start-up and logs",
    "station folder '1' leaves the radio output folder": "configuration: a delivery's failure in the logs",
}


def _placeheld(node: ast.expr) -> str | None:
    """The sentence a literal or f-string says, each formatted value replaced by "1"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "1"
            for part in node.values
        )
    return None


def _said_by(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name in CHECKERS:
            found += _checked_by(node)
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        position = 1 if name == "Problem" else 0 if name in RAISERS else None
        if position is None or len(node.args) <= position:
            continue
        if (sentence := _placeheld(node.args[position])) is not None and " " in sentence:
            found.append(sentence)
    return found


def _checked_by(check: ast.FunctionDef) -> list[str]:
    """The sentences a check returns, alone or in a list."""
    found = []
    for node in ast.walk(check):
        if isinstance(node, ast.Return) and node.value is not None:
            items = node.value.elts if isinstance(node.value, ast.List) else [node.value]
            found += [sentence for item in items if (sentence := _placeheld(item)) is not None]
    return found


def core_sentences() -> list[str]:
    paths = [PACKAGE / module for module in REACHED] + [ROOT / module for module in CHANNEL_CHECKS]
    return sorted({sentence for path in paths for sentence in _said_by(path)})


def test_the_scan_finds_the_core_sentences() -> None:
    sentences = core_sentences()
    assert len(sentences) > 40
    assert "'1' submitted campaign '1' and so cannot approve it: a second person must approve (two-person rule)" in (
        sentences
    )


@pytest.mark.parametrize("sentence", core_sentences())
def test_each_sentence_the_console_shows_has_vietnamese(sentence: str) -> None:
    if sentence in LEFT_OUT:
        return
    assert in_language(sentence, "vi") != sentence, f"no Vietnamese for: {sentence}"
    assert said(sentence, "en").lower().startswith(sentence[:1].lower())  # English stays as the core said it


def test_the_left_out_sentences_are_still_said_by_the_core() -> None:
    assert set(LEFT_OUT) <= set(core_sentences())
