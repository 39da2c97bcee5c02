"""A Zalo OA's ZNS templates, imported from a CSV file: each template Zalo approved, its text and its
parameters with their maximum lengths, which a campaign's Zalo values are checked against."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.csvfiles import Columns, Table
from broadcaster.directory.imports import ImportReport, Source, upsert
from broadcaster.models import MessageTemplate
from channels.base import ProviderTemplate

CHANNEL = "zalo"
TEMPLATE_COLUMNS = Columns(
    {
        "template_id": ("id", "Mã mẫu", "ID mẫu"),
        "name": ("Tên", "Tên mẫu"),
        "params": ("Tham số",),
        "text": ("Nội dung",),
        "account": ("oa", "OA", "OA ID"),
    },
    required=("template_id", "name", "params"),
    kind="zalo-templates",
)
PARAM = re.compile(r"(?P<name>[a-z][a-z0-9_]{0,49})\s*[:=]\s*(?P<length>\d{1,5})")
IN_TEXT = re.compile(r"<([a-z][a-z0-9_]{0,49})>")


def parse_params(cell: str) -> list[tuple[str, int]]:
    """`ten:30; noi_dung:400` as [("ten", 30), ("noi_dung", 400)]; ValueError in one sentence."""
    found: list[tuple[str, int]] = []
    for part in re.split(r"[;,\s]+(?=[a-z])", cell.strip()):
        if not part.strip():
            continue
        match = PARAM.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"'{part.strip()}' is not a parameter as name:maximum length (ten:30)")
        name, length = match["name"], int(match["length"])
        if not 1 <= length <= 4000:
            raise ValueError(f"parameter {name}'s maximum length {length} is not between 1 and 4000")
        if name in dict(found):
            raise ValueError(f"parameter {name} is named twice")
        found.append((name, length))
    if not found:
        raise ValueError("a ZNS template names its parameters (ten:30; noi_dung:400)")
    return found


def import_zalo_templates(session: Session, source: Source) -> ImportReport:
    table = Table(source, TEMPLATE_COLUMNS)
    report = ImportReport("zalo-templates", table.name)
    existing = {row.template_id: row for row in session.scalars(select(MessageTemplate).filter_by(channel=CHANNEL))}
    for row in table.rows(report.reject):
        cells = row.values
        template_id = cells["template_id"].strip()
        if not re.fullmatch(r"\d{1,20}", template_id):
            report.reject(row, f"template id '{template_id}' must be the ZNS template's numeric id")
            continue
        try:
            params = parse_params(cells["params"])
        except ValueError as exc:
            report.reject(row, f"template {template_id}: {exc}")
            continue
        text = (cells.get("text") or "").strip()
        unknown = [name for name in IN_TEXT.findall(text) if name not in dict(params)]
        if unknown:
            report.reject(row, f"template {template_id}'s text names <{unknown[0]}>, which is not among its parameters")
            continue
        values: dict[str, Any] = {
            "channel": CHANNEL,
            "template_id": template_id,
            "account": (cells.get("account") or "").strip() or None,
            "name": cells["name"].strip(),
            "text": text,
            "params": [[name, length] for name, length in params],
        }
        upsert(session, MessageTemplate, existing.get(template_id), values, report)
    report.read_from(table)
    return report


def provider_template(session: Session, channel: str, template_id: str) -> ProviderTemplate | None:
    """A channel's approved template as the directory keeps it; None for one it does not know."""
    row = session.get(MessageTemplate, (channel, template_id))
    return _template_of(row) if row is not None else None


def provider_templates(session: Session, channel: str) -> list[ProviderTemplate]:
    """Every approved template of a channel the directory keeps, by id (what a campaign can choose from)."""
    rows = session.scalars(select(MessageTemplate).filter_by(channel=channel).order_by(MessageTemplate.template_id))
    return [_template_of(row) for row in rows]


def _template_of(row: MessageTemplate) -> ProviderTemplate:
    params = tuple((str(name), int(length)) for name, length in row.params)
    return ProviderTemplate(row.template_id, row.name, row.text, params)
