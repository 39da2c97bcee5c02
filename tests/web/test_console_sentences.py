"""Every sentence the console can show is in the console's language.

The core says its refusals in English (the command line, the API and the logs keep English); the console
passes each through `sentences.said`. This reads the sentences the core can say — the string literals and
f-strings given to UserError(…), NotFound(…), TransitionRefused(…), PhoneError(…), Problem(…) and friends
in the modules the console's pages reach — and checks that each has a Vietnamese pattern, save those listed
in LEFT_OUT with the reason the console never shows them.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from broadcaster.web.console.sentences import in_language, said
from broadcaster.workers import Worker
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, form_token, marked_test_list, sign_in

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
    "locales.py",
    "phones.py",
    "operations/staged_imports.py",
    "accounts.py",
    "interventions.py",
    "operations/sending.py",
    "operations/campaigns.py",
    "operations/directory.py",
    "operations/accounts.py",
    "policy.py",
    "directory/__init__.py",
    "directory/templates.py",
)
# The channels' own content checks, shown in the composer's check panel and as refusals on submit.
# The SMS settings (sms_options.py) are read there too: their refusals are configuration, left out below.
CHANNEL_CHECKS = ("channels/base.py", "channels/sms.py", "channels/sms_options.py", "channels/radio.py")
# Functions that return the sentence (or the list of sentences) a refusal is then raised or shown with.
CHECKERS = frozenset(
    {
        "check_content",
        "check_read_aloud",
        "refuse_approval",
        "channel_refusal",
        "retry_refusal",
        "outside_validity",
        "_area_row",
        "reading_problem",
    }
)
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
    # the command line's and the API's own arguments: the console's forms never send these.
    "'1' is also the campaign of 1; load one file per campaign": "CLI only: loading several campaign files",
    "'1' is not a delivery state (1)": "CLI and API only: a filter the console offers as a list",
    "'1' is not something the directory holds; choose one of 1": "CLI only: the console links each kind",
    "issuer profiles are YAML files: import them as issuers, one profile per file": "CLI only: file imports",
    "limit must be at least 1": "CLI and API only: the console pages its listings itself",
    "limit must be between 1 and 1000": "CLI and API only: the console pages its listings itself",
    "subscribers go into a list: add --list NAME (for example --list thue-bao-tay-ninh)": "CLI only: --list",
    "there is no delivery 1": "API only: a delivery by its number",
}

# Sentences around another refusal: checked with one the inner place really holds.
_ONE_LINE = "holds a line break or a control character (U+000A): write it on one line"
_NOT_A_TAG = "'1' is not a language tag (write one such as vi, en or vi-VN)"
WRAPPING = {
    "cannot send '1' on 1 now: 1": "cannot send '1' on sms now: the campaign is paused",
    "the agency's name 1": f"the agency's name {_ONE_LINE}",
    "the name 1": f"the name {_ONE_LINE}",
    "the agency's English name or locale: 1": f"the agency's English name or locale: {_NOT_A_TAG}",
    "the page's English name or locale: 1": f"the page's English name or locale: {_NOT_A_TAG}",
    "template 1: 1": "template 2056447: parameter ten is named twice",
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
        position = 1 if name in ("Problem", "reject", "warn") else 0 if name in RAISERS else None
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
    sentence = WRAPPING.get(sentence, sentence)
    assert in_language(sentence, "vi") != sentence, f"no Vietnamese for: {sentence}"
    assert said(sentence, "en").lower().startswith(sentence[:1].lower())  # English stays as the core said it


def test_the_left_out_sentences_are_still_said_by_the_core() -> None:
    assert set(LEFT_OUT) <= set(core_sentences())


# ---- no Python values on a page -----------------------------------------------------------------------------

# What Python prints for its own values: a bound method, a dict or list literal, None and the booleans.
PYTHON_VALUES = re.compile(r"<built-in method|<bound method|\{'|\['|\[\]|\{\}|\bNone\b|\bTrue\b|\bFalse\b")


class _Shown(HTMLParser):
    """The text a person reads on a page and the attribute values a script may show (data-*, title)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.texts += [value for name, value in attrs if value and (name.startswith("data-") or name == "title")]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.texts.append(data.strip())


def python_values_in(page: str) -> list[str]:
    shown = _Shown()
    shown.feed(page)
    return [text for text in shown.texts if PYTHON_VALUES.search(text)]


def test_the_check_finds_python_values() -> None:
    assert python_values_in('<button data-copied="<built-in method copy of dict object at 0x1>">x</button>')
    assert python_values_in("<td>{'version': 2}</td>")
    assert python_values_in("<td>None</td>")
    assert not python_values_in("<td>Phiên bản 2</td><script>if (x === None) {}</script>")


def test_no_page_shows_a_python_value(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    """The monitor (its copy button), the audit log's details, the campaign, dashboard and directory pages."""
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, ["0912345678"])
    token = sign_in(client, "lan")
    sent = client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    assert sent.status_code == 200, sent.text
    Worker(sessions, web_settings, ["sms"], "w").drain()
    paused = client.post(f"/campaigns/{slug}/pause", data={"csrf_token": form_token(client.get("/").text)})
    assert paused.status_code in (200, 303), paused.text
    pages = [
        "/",
        "/campaigns",
        f"/campaigns/{slug}",
        f"/campaigns/{slug}/preview",
        f"/campaigns/{slug}/monitor",
        f"/campaigns/{slug}/monitor/live",
        "/audit",
        "/directory",
        "/directory/lists",
        "/directory/lists/thu-nghiem",
        "/accounts",
        "/calendar",
    ]
    for lang in ("vi", "en"):
        for path in pages:
            page = client.get(path, params={"lang": lang})
            assert page.status_code == 200, (path, page.text)
            assert python_values_in(page.text) == [], (lang, path)
