"""Reading a CAP 1.2 alert: from a file or an allowed URL, checked against the schema, into plain data."""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from lxml import etree

from broadcaster.cap.mapping import NAMESPACE, locale_of, parse_cap_time
from broadcaster.cap.schema import check_alert, parse_document
from broadcaster.errors import UserError
from broadcaster.masking import mask_secrets
from broadcaster.problems import InvalidInput, Problem
from broadcaster.settings import Settings

MAX_BYTES = 1_000_000  # a CAP alert is a few kilobytes; anything this large is not one


@dataclass(frozen=True)
class Reference:
    sender: str
    identifier: str
    sent: str


@dataclass(frozen=True)
class AlertArea:
    description: str
    geocodes: list[tuple[str, str]]  # (valueName, value)
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AlertResource:
    description: str
    mime_type: str
    size: int | None
    uri: str
    digest: str


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
    parameters: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value), in order; names may repeat
    areas: list[AlertArea] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # every <category>, in order (`category` is the first)
    sender_name: str = ""
    web: str = ""
    audience: str = ""
    event_codes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    resources: list[AlertResource] = field(default_factory=list)

    def parameter(self, name: str) -> str:
        """The first parameter of this name, or ""."""
        return next((value for found, value in self.parameters if found == name), "")


@dataclass
class Alert:
    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    references: list[Reference]
    infos: list[InfoBlock]
    # An <info> that says what an earlier one of its language says, but for its areas, is joined to it: the
    # lines of those joined, by language, so that the import says so.
    joined: dict[str, list[int]] = field(default_factory=dict)

    @property
    def source(self) -> dict[str, str]:
        return {"sender": self.sender, "identifier": self.identifier, "sent": self.sent.isoformat()}


def read_source(source: str, settings: Settings) -> bytes:
    """The bytes of a file, or of a URL that the allow-list (BROADCASTER_CAP_IMPORT_ALLOW) permits."""
    if urlsplit(source.strip()).scheme.lower() in ("http", "https"):
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


_UNRESERVED = re.compile(r"%(2[dD]|2[eE]|5[fF]|7[eE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA])")
_ENCODED_SEPARATOR = re.compile(r"%(2[fF]|5[cC])|\\")
REDIRECTS = 5  # at most this many redirects, each to an allowed address


class NotAllowed(UserError):
    """An address that is not on BROADCASTER_CAP_IMPORT_ALLOW once written in its one standard form."""


def _without_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/cap/../secret.xml` is `/secret.xml`."""
    kept: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if len(kept) > 1:
                kept.pop()
            if last:
                kept.append("")
        elif segment == ".":
            if last:
                kept.append("")
        else:
            kept.append(segment)
    return "/".join(kept) or "/"


def normalised_url(url: str) -> str:
    """The one way to write `url` (RFC 3986 §6.2.2): scheme and host in lower case, no default port, the
    percent-encoded unreserved characters decoded (`%2e` is `.`) and dot segments removed; NotAllowed for
    what is not a plain http(s) address of a host (a user name in it, an encoded `/` or `\\`)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise NotAllowed(f"{url} is not an http(s) address")
    if parts.username is not None or parts.password is not None:
        raise NotAllowed(f"{url} names a user before its host, which an alert's address never does")
    try:
        port = parts.port
    except ValueError:
        raise NotAllowed(f"{url} has a port that is not a number from 1 to 65535") from None
    path = _UNRESERVED.sub(lambda match: chr(int(match.group(1), 16)), parts.path)
    if _ENCODED_SEPARATOR.search(path):
        raise NotAllowed(f"{url} has an encoded '/' or a '\\' in its path, which an alert's address never has")
    host = parts.hostname.lower().rstrip(".")
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, _without_dot_segments(path or "/"), parts.query, ""))


def _allowed(url: str, allow: list[str]) -> str:
    """The normalised `url`, when it lies under one of the allowed prefixes (themselves normalised)."""
    wanted = normalised_url(url)
    for prefix in allow:
        try:
            allowed = normalised_url(prefix)
        except NotAllowed:
            continue
        # A prefix without its last slash still ends at a segment: /cap allows /cap/x, not /capture.
        boundary = allowed if allowed.endswith("/") else allowed + "/"
        if wanted == allowed or wanted.startswith(boundary):
            return wanted
    raise NotAllowed(
        f"{url} is not on the list of addresses alerts may be imported from (BROADCASTER_CAP_IMPORT_ALLOW)"
    )


def _fetch(url: str, allow: list[str]) -> bytes:
    """The alert at an allowed address; a redirect is followed only to another allowed address."""
    target = _allowed(url, allow)
    for _ in range(REDIRECTS + 1):
        try:
            with requests.get(target, timeout=15, allow_redirects=False, stream=True) as response:
                if response.is_redirect:
                    location = response.headers.get("Location", "")
                    try:
                        target = _allowed(urljoin(target, location), allow)
                    except NotAllowed:
                        raise NotAllowed(
                            f"{url} redirects to {mask_secrets(location)}, which is not on the list of addresses "
                            "alerts may be imported from (BROADCASTER_CAP_IMPORT_ALLOW)"
                        ) from None
                    continue
                if response.status_code != 200:
                    raise UserError(f"{url} answered HTTP {response.status_code}, not an alert")
                body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise UserError(f"{url} could not be fetched ({type(exc).__name__})") from None
        if len(body) > MAX_BYTES:
            raise UserError(f"{url} sent more than {MAX_BYTES // 1000} kB, which no CAP alert is")
        return bytes(body)
    raise UserError(f"{url} redirects more than {REDIRECTS} times")


def _text(element: Any, name: str) -> str:
    return str(element.findtext(f"{{{NAMESPACE}}}{name}") or "").strip()


def _time(element: Any, name: str) -> datetime | None:
    value = _text(element, name)
    return parse_cap_time(value) if value else None


def _resource(element: Any) -> AlertResource:
    size = _text(element, "size")
    return AlertResource(
        _text(element, "resourceDesc"),
        _text(element, "mimeType"),
        int(size) if size else None,  # the schema has checked it is an integer
        _text(element, "uri"),
        _text(element, "digest"),
    )


def _info(element: Any) -> InfoBlock:
    ns = f"{{{NAMESPACE}}}"
    parameters = [(_text(p, "valueName"), _text(p, "value")) for p in element.findall(f"{ns}parameter")]
    categories = [str(found.text or "").strip() for found in element.findall(f"{ns}category")]
    areas = [
        AlertArea(
            _text(area, "areaDesc"),
            [(_text(g, "valueName"), _text(g, "value")) for g in area.findall(f"{ns}geocode")],
            [" ".join(str(p.text or "").split()) for p in area.findall(f"{ns}polygon")],
            [" ".join(str(c.text or "").split()) for c in area.findall(f"{ns}circle")],
        )
        for area in element.findall(f"{ns}area")
    ]
    return InfoBlock(
        locale=_text(element, "language") or "en-US",  # made the project's locale by `parse_alert`
        category=categories[0] if categories else "",
        categories=categories,
        sender_name=_text(element, "senderName"),
        web=_text(element, "web"),
        audience=_text(element, "audience"),
        event_codes=[(_text(code, "valueName"), _text(code, "value")) for code in element.findall(f"{ns}eventCode")],
        resources=[_resource(resource) for resource in element.findall(f"{ns}resource")],
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


def _said_beyond_areas(element: Any) -> str:
    """What an <info> says besides its areas, as canonical XML with its layout whitespace folded (two that
    differ only in indentation or blank lines say the same thing)."""
    copy = deepcopy(element)
    for area in copy.findall(f"{{{NAMESPACE}}}area"):
        copy.remove(area)
    return " ".join(etree.tostring(copy, method="c14n").decode().split())


def _joined(infos: list[InfoBlock], elements: list[Any]) -> tuple[list[InfoBlock], list[Any], dict[str, list[int]]]:
    """The <info> blocks with each one that says what an earlier one of its language says, but for its areas,
    joined to that one: its areas added (those not already there), nothing else to keep. Feeds give one
    warning twice this way, once per way of coding its area (a state, a postcode). Also the lines joined."""
    first: dict[tuple[str, str], InfoBlock] = {}
    kept_infos: list[InfoBlock] = []
    kept_elements: list[Any] = []
    joined: dict[str, list[int]] = {}
    for info, element in zip(infos, elements, strict=True):
        said = (info.locale, _said_beyond_areas(element))
        if said in first:
            earlier = first[said]
            earlier.areas += [area for area in info.areas if area not in earlier.areas]
            joined.setdefault(info.locale, []).append(element.sourceline)
            continue
        first[said] = info
        kept_infos.append(info)
        kept_elements.append(element)
    return kept_infos, kept_elements, joined


def _one_info_per_language(infos: list[InfoBlock], elements: list[Any], source: str) -> None:
    """DOMAIN §14: one <info> per language. Two of one language that say different things cannot both become
    its texts, and keeping one would drop the other without a word."""
    lines: dict[str, list[int]] = {}
    for info, element in zip(infos, elements, strict=True):
        lines.setdefault(info.locale, []).append(element.sourceline)
    twice = [
        Problem(
            source,
            f"the alert has {len(found)} different <info> blocks in language '{locale}' (lines "
            f"{', '.join(map(str, found[:5]))}{', …' if len(found) > 5 else ''}); CAP gives one per language",
        )
        for locale, found in lines.items()
        if len(found) > 1
    ]
    if twice:
        raise InvalidInput(source, twice)


def parse_alert(document: bytes, source: str) -> Alert:
    """The alert in the document, or InvalidInput with the schema's reasons, one sentence each with its line."""
    problems = check_alert(document)
    if problems:
        raise InvalidInput(source, [Problem(source, problem) for problem in problems])
    root, _ = parse_document(document)
    ns = f"{{{NAMESPACE}}}"
    references = [Reference(*reference.split(",", 2)) for reference in _text(root, "references").split()]
    elements = root.findall(f"{ns}info")
    infos = [_info(element) for element in elements]
    unknown = []
    for info, element in zip(infos, elements, strict=True):
        try:
            info.locale = locale_of(info.locale)
        except ValueError as exc:
            unknown.append(Problem(source, f"line {element.sourceline}: <language> {exc}"))
    if unknown:
        raise InvalidInput(source, unknown)
    infos, elements, joined = _joined(infos, elements)
    _one_info_per_language(infos, elements, source)
    return Alert(
        sender=_text(root, "sender"),
        identifier=_text(root, "identifier"),
        sent=parse_cap_time(_text(root, "sent")),
        status=_text(root, "status"),
        msg_type=_text(root, "msgType"),
        references=references,
        infos=infos,
        joined=joined,
    )
