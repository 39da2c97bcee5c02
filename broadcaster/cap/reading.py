"""Reading a CAP 1.2 alert: from a file or an allowed URL, checked against the schema, into plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from broadcaster.cap.mapping import NAMESPACE, locale_of, parse_cap_time
from broadcaster.cap.schema import check_alert, parse_document
from broadcaster.errors import UserError
from broadcaster.problems import InvalidInput, Problem
from broadcaster.settings import Settings

MAX_BYTES = 1_000_000  # a CAP alert is a few kilobytes; anything this large is not one
_LOCALE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent: str


@dataclass
class InfoBlock:
    locale: str
    category: str
    event: str
    urgency: str
    severity: str
    certainty: str
    effective: datetime | None
    expires: datetime | None
    headline: str
    description: str
    instruction: str
    parameters: dict[str, str] = field(default_factory=dict)
    areas: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)  # areaDesc, geocodes


@dataclass
class Alert:
    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    references: list[Reference]
    infos: list[InfoBlock]

    @property
    def source(self) -> dict[str, str]:
        return {"sender": self.sender, "identifier": self.identifier, "sent": self.sent.isoformat()}


def read_source(source: str, settings: Settings) -> bytes:
    """The bytes of a file, or of a URL that the allow-list (BROADCASTER_CAP_IMPORT_ALLOW) permits."""
    if urlsplit(source).scheme in ("http", "https"):
        return _fetch(source, settings.cap_import_allow)
    path = Path(source)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{source} is larger than {MAX_BYTES // 1000} kB, which no CAP alert is")
        return path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{source}: file not found") from None
    except OSError as exc:
        raise UserError(f"{source} cannot be read ({exc.strerror})") from None


def _allowed(url: str, allow: list[str]) -> bool:
    wanted = urlsplit(url)
    for prefix in allow:
        allowed = urlsplit(prefix)
        same_origin = (wanted.scheme, wanted.netloc.lower()) == (allowed.scheme, allowed.netloc.lower())
        if same_origin and wanted.path.startswith(allowed.path):
            return True
    return False


def _fetch(url: str, allow: list[str]) -> bytes:
    if not _allowed(url, allow):
        raise UserError(
            f"{url} is not on the list of addresses alerts may be imported from (BROADCASTER_CAP_IMPORT_ALLOW)"
        )
    try:
        with requests.get(url, timeout=15, allow_redirects=False, stream=True) as response:
            if response.status_code != 200:
                raise UserError(f"{url} answered HTTP {response.status_code}, not an alert")
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise UserError(f"{url} could not be fetched ({type(exc).__name__})") from None
    if len(body) > MAX_BYTES:
        raise UserError(f"{url} sent more than {MAX_BYTES // 1000} kB, which no CAP alert is")
    return bytes(body)


def _text(element: Any, name: str) -> str:
    return str(element.findtext(f"{{{NAMESPACE}}}{name}") or "").strip()


def _time(element: Any, name: str) -> datetime | None:
    value = _text(element, name)
    return parse_cap_time(value) if value else None


def _info(element: Any) -> InfoBlock:
    ns = f"{{{NAMESPACE}}}"
    parameters = {_text(p, "valueName"): _text(p, "value") for p in element.findall(f"{ns}parameter")}
    areas = [
        (_text(area, "areaDesc"), [(_text(g, "valueName"), _text(g, "value")) for g in area.findall(f"{ns}geocode")])
        for area in element.findall(f"{ns}area")
    ]
    return InfoBlock(
        locale=locale_of(_text(element, "language")),
        category=_text(element, "category"),
        event=_text(element, "event"),
        urgency=_text(element, "urgency"),
        severity=_text(element, "severity"),
        certainty=_text(element, "certainty"),
        effective=_time(element, "effective"),
        expires=_time(element, "expires"),
        headline=" ".join(_text(element, "headline").split()),
        description=_text(element, "description"),
        instruction=" ".join(_text(element, "instruction").split()),
        parameters=parameters,
        areas=areas,
    )


def parse_alert(document: bytes, source: str) -> Alert:
    """The alert in the document, or InvalidInput with the schema's reasons, one sentence each with its line."""
    problems = check_alert(document)
    if problems:
        raise InvalidInput(source, [Problem(source, problem) for problem in problems])
    root, _ = parse_document(document)
    ns = f"{{{NAMESPACE}}}"
    references = [Reference(*reference.split(",", 2)) for reference in _text(root, "references").split()]
    infos = [_info(element) for element in root.findall(f"{ns}info")]
    bad = [info.locale for info in infos if not _LOCALE.match(info.locale)]
    if bad:
        unknown = [Problem(source, f"'{locale}' is not a language this system knows") for locale in bad]
        raise InvalidInput(source, unknown)
    return Alert(
        sender=_text(root, "sender"),
        identifier=_text(root, "identifier"),
        sent=parse_cap_time(_text(root, "sent")),
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        references=references,
        infos=infos,
    )
