"""Commune radio stations, their broadcast slots and delivery folders, imported from a CSV file."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.csvfiles import Columns, Row, Table
from broadcaster.directory.areas import AreaIndex
from broadcaster.directory.imports import ImportReport, Source, read_locale, split_cell, upsert
from broadcaster.models import (
    Station,
)
from broadcaster.paths import safe_folder
from broadcaster.yaml_files import SLUG

STATION_COLUMNS = Columns(
    {
        "slug": ("Mã", "Mã đài"),
        "name": ("Tên", "Tên đài"),
        "area": ("Khu vực", "Địa bàn"),
        "locales": ("locale", "Ngôn ngữ"),
        "folder": ("Thư mục",),
        "slots": ("Khung giờ", "Giờ phát", "Khung giờ phát"),
    },
    required=("slug", "name", "slots"),
    kind="stations",
)
# A slot's name is a word of any language ("morning", "sáng", "chiều-2"), then its time.
_SLOT = re.compile(r"^([^\W_][\w-]*)\s+([01]?\d|2[0-3])[:h]([0-5]\d)$")


def parse_slots(cell: str) -> dict[str, str]:
    """'morning 05:30; evening 17:00' → {'morning': '05:30', 'evening': '17:00'}."""
    slots: dict[str, str] = {}
    for part in split_cell(cell):
        match = _SLOT.match(unicodedata.normalize("NFC", part.strip().lower()))
        if not match:
            raise ValueError(f"slot '{part}' must be a name and a time, like 'morning 05:30'")
        if match[1] in slots:
            raise ValueError(
                f"the slot name '{match[1]}' is given twice ({slots[match[1]]} and {part.strip()}): "
                "give each slot its own name, like 'morning 05:30; morning2 06:30'"
            )
        slots[match[1]] = f"{int(match[2]):02d}:{match[3]}"
    return slots


def ordered_slots(slots: dict[str, str]) -> list[tuple[str, str]]:
    """A station's slots in broadcast order (JSON objects keep no order on every database)."""
    return sorted(slots.items(), key=lambda slot: (slot[1], slot[0]))


def _station_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> dict[str, Any] | None:
    slug = row.values["slug"]
    if not re.fullmatch(SLUG, slug):
        report.reject(row, f"station code '{slug}' must be lower-case letters, digits and hyphens")
        return None
    try:
        folder = safe_folder(row.values.get("folder") or slug)
        slots = parse_slots(row.values.get("slots", ""))
    except ValueError as exc:
        report.reject(row, str(exc))
        return None
    if not slots:
        report.reject(row, "the station has no broadcast slots (like 'morning 05:30; evening 17:00')")
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    try:
        locales = [read_locale(cell) for cell in split_cell(row.values.get("locales", "")) or [""]]
    except ValueError as exc:
        report.reject(row, str(exc))
        return None
    return {
        "slug": slug,
        "name": row.values["name"] or slug,
        "area_id": area_id,
        "locales": locales,
        "folder": folder,
        "slots": slots,
    }


def import_stations(session: Session, source: Source) -> ImportReport:
    table = Table(source, STATION_COLUMNS)
    report = ImportReport("stations", table.name)
    areas = AreaIndex(session)
    existing = {station.slug: station for station in session.scalars(select(Station))}
    seen: dict[str, int] = {}
    for row in table.rows(report.reject):
        values = _station_from_row(row, report, areas)
        if values is None:
            continue
        if values["slug"] in seen:
            report.reject(row, f"station '{values['slug']}' is already on line {seen[values['slug']]}")
            continue
        seen[values["slug"]] = row.line
        upsert(session, Station, existing.get(values["slug"]), values, report)
    report.read_from(table)
    return report
