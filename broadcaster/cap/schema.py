"""The OASIS CAP 1.2 schema (CAP-v1.2.xsd, shipped beside this module) and the checks validators make.

`check_alert` answers with one sentence per problem, each with its line, so a refused import says
what to fix and where. Beyond the schema it checks what the schema's types cannot (DOMAIN §14):
identifier and sender without spaces, commas, '<' or '&', and references as sender,identifier,sent.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from broadcaster.cap.mapping import NAMESPACE, is_cap_name

SCHEMA_FILE = Path(__file__).with_name("CAP-v1.2.xsd")
_REFERENCE = re.compile(r"^[^\s,<&]+,[^\s,<&]+,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")


@lru_cache(maxsize=1)
def cap_schema() -> Any:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def parser() -> Any:
    """An XML parser that never reads anything but the document: no DTDs, entities or network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_document(document: bytes) -> tuple[Any, list[str]]:
    """(root element or None, problems) for a document that may not even be XML.

    A document type declaration is refused: CAP has none, and its entities are how a document makes a
    parser read files or addresses (XXE) or expand itself a billion times."""
    try:
        root = etree.fromstring(document, parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else exc.lineno
        return None, [f"line {line}: the file is not well-formed XML ({exc.msg})"]
    if root.getroottree().docinfo.doctype:
        return None, ["the document declares a document type (<!DOCTYPE …>), which a CAP alert never has"]
    return root, []


def _schema_sentence(error: Any) -> str:
    message = str(error.message).replace(f"{{{NAMESPACE}}}", "")
    return f"line {error.line}: {message}"


def check_alert(document: bytes) -> list[str]:
    """Every reason the document is not a valid CAP 1.2 alert, one sentence each with its line."""
    root, problems = parse_document(document)
    if root is None:
        return problems
    schema = cap_schema()
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError:  # what libxml2 could not even check
        return [f"line {root.sourceline}: the document could not be checked against the CAP 1.2 schema"]
    if not valid:
        return [_schema_sentence(error) for error in schema.error_log]
    return _beyond_schema(root)


def _beyond_schema(root: Any) -> list[str]:
    problems = []
    for name in ("identifier", "sender"):
        element = root.find(f"{{{NAMESPACE}}}{name}")
        if element is not None and not is_cap_name(element.text or ""):
            problems.append(f"line {element.sourceline}: the {name} may not contain spaces, commas, '<' or '&'")
    references = root.find(f"{{{NAMESPACE}}}references")
    if references is not None:
        for reference in (references.text or "").split():
            if not _REFERENCE.match(reference):
                problems.append(f"line {references.sourceline}: reference '{reference}' is not sender,identifier,sent")
    msg_type = root.findtext(f"{{{NAMESPACE}}}msgType")
    if msg_type in ("Update", "Cancel") and references is None:
        problems.append(f"line {root.sourceline}: an {msg_type} must reference the alert it changes")
    return problems
