"""Administrative areas: imported with their validity and successors (DOMAIN §13), and looked up by code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.csvfiles import Columns, Row, Table
from broadcaster.directory.imports import ImportReport, Source, split_cell
from broadcaster.models import (
    Area,
    AreaSuccessor,
)
from broadcaster.text import slugify
from broadcaster.yaml_files import SLUG


class AreaIndex:
    """Areas by code or by name (names as staff type them, with or without diacritics)."""

    def __init__(self, session: Session):
        self.by_key: dict[str, int] = {}
        for area in session.scalars(select(Area)):
            self.add(area)

    def add(self, area: Area) -> None:
        self.by_key[area.code.lower()] = area.id
        self.by_key.setdefault(slugify(area.name), area.id)

    def find(self, text: str) -> int | None:
        return self.by_key.get(text.lower()) or self.by_key.get(slugify(text))

    def resolve(self, row: Row, report: ImportReport) -> tuple[bool, int | None]:
        """(ok, area id) for the row's `area` cell; an unknown area rejects the row."""
        text = row.values.get("area", "")
        if not text:
            return True, None
        area_id = self.find(text)
        if area_id is None:
            report.reject(row, f"area '{text}' is not in the area list (import areas first)")
            return False, None
        return True, area_id


# ---- areas -------------------------------------------------------------------------------------

AREA_COLUMNS = Columns(
    {
        "code": ("Mã", "Mã khu vực", "Mã địa bàn", "Mã đơn vị hành chính"),
        "name": ("Tên", "Tên khu vực", "Tên địa bàn", "Tên đơn vị hành chính"),
        "kind": ("Loại", "Cấp", "Loại địa bàn", "Cấp hành chính"),
        "parent": ("Thuộc", "Trực thuộc", "Cấp trên", "Mã cấp trên", "Đơn vị cấp trên"),
        "valid_from": ("Hiệu lực từ", "Từ ngày"),
        "valid_until": ("Hiệu lực đến", "Đến ngày"),
        "successors": ("successor", "Thay thế bởi", "Đơn vị mới", "Sáp nhập vào"),
    },
    required=("code", "name"),
    kind="areas",
)


def _read_date(text: str) -> date:
    """A date as staff write it: 2025-06-30 or 30/06/2025; ValueError with a sentence otherwise."""
    try:
        if match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text.strip()):
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a date (write 2025-06-30 or 30/06/2025)") from None


@dataclass
class _AreaRow:
    row: Row
    code: str
    name: str
    parent_id: int | None
    valid_from: date | None
    valid_until: date | None
    successors: list[str]


def _area_row(row: Row, index: AreaIndex, codes_in_file: set[str]) -> _AreaRow | str:
    """The row read, or the sentence saying why it cannot be imported."""
    code, name = row.values["code"], row.values["name"]
    if not re.fullmatch(SLUG, code):
        return f"area code '{code}' must be lower-case letters, digits and hyphens"
    parent_id = None
    if parent := row.values.get("parent", ""):
        parent_id = index.find(parent)
        if parent_id is None:
            return f"parent area '{parent}' is not known (list parents before their children)"
    try:
        starts = _read_date(row.values["valid_from"]) if row.values.get("valid_from") else None
        ends = _read_date(row.values["valid_until"]) if row.values.get("valid_until") else None
    except ValueError as exc:
        return str(exc)
    if starts and ends and ends < starts:
        return f"area '{code}' ends ({ends:%d/%m/%Y}) before it starts ({starts:%d/%m/%Y})"
    successors = split_cell(row.values.get("successors", ""))
    for successor in successors:
        if successor == code:
            return f"area '{code}' cannot replace itself"
        if successor not in codes_in_file and index.find(successor) is None:
            return f"successor area '{successor}' is neither in this file nor in the area list"
    if successors and ends is None:
        return f"area '{code}' names successors but no valid_until (the last day it existed)"
    return _AreaRow(row, code, name, parent_id, starts, ends, successors)


def import_areas(session: Session, source: Source) -> ImportReport:
    table = Table(source, AREA_COLUMNS)
    report = ImportReport("areas", table.name)
    index = AreaIndex(session)
    existing = {area.code: area for area in session.scalars(select(Area))}
    rows = list(table.rows(report.reject))
    codes_in_file = {row.values["code"] for row in rows}
    imported: list[tuple[_AreaRow, Area, str]] = []
    for row in rows:
        read = _area_row(row, index, codes_in_file)
        if isinstance(read, str):
            report.reject(row, read)
            continue
        kind = row.values.get("kind") or ("province" if read.parent_id is None else "district")
        values = (read.name, kind, read.parent_id, read.valid_from, read.valid_until)
        area = existing.get(read.code)
        if area is None:
            area = Area(code=read.code, name=read.name, kind=kind, parent_id=read.parent_id)
            area.valid_from, area.valid_until = read.valid_from, read.valid_until
            session.add(area)
            session.flush()
            existing[read.code] = area
            imported.append((read, area, "new"))
        else:
            before = (area.name, area.kind, area.parent_id, area.valid_from, area.valid_until)
            area.name, area.kind, area.parent_id, area.valid_from, area.valid_until = values
            imported.append((read, area, "updated" if before != values else "unchanged"))
        index.add(area)
    # A successor may come later in the file than the area it replaces: linked once every row is in.
    for read, area, state in imported:
        successors = sorted((existing[code] for code in set(read.successors)), key=lambda other: other.code)
        if [other.code for other in area.successors] != [other.code for other in successors]:
            area.successors = successors
            state = "updated" if state == "unchanged" else state
        report.new += state == "new"
        report.updated += state == "updated"
        report.unchanged += state == "unchanged"
    report.read_from(table)
    return report


def areas_within(session: Session, codes: Iterable[str], on: date) -> set[int]:
    """Ids of the named areas, everything below them, and — for an area that had ended by `on` — the areas
    that replaced it and everything below those (DOMAIN §13)."""
    areas = {area.id: area for area in session.scalars(select(Area))}
    children: dict[int | None, list[int]] = {}
    for area in areas.values():
        children.setdefault(area.parent_id, []).append(area.id)
    replaced_by: dict[int, list[int]] = {}
    for link in session.scalars(select(AreaSuccessor)):
        replaced_by.setdefault(link.area_id, []).append(link.successor_id)
    wanted = {area.id for area in areas.values() if area.code in set(codes)}
    frontier = list(wanted)
    while frontier:
        current = frontier.pop()
        following = children.get(current, [])
        if areas[current].ended(on):
            following = following + replaced_by.get(current, [])
        for other in following:
            if other not in wanted:
                wanted.add(other)
                frontier.append(other)
    return wanted


def replaced_areas(session: Session, codes: Iterable[str], on: date) -> list[tuple[Area, list[Area]]]:
    """The areas an audience names (or that lie below them) that had ended by `on`, each with the areas that
    replaced it: what `areas_within` follows, for validation to show."""
    within = areas_within(session, codes, on)
    ended = session.scalars(select(Area).where(Area.id.in_(within), Area.valid_until < on).order_by(Area.code))
    return [(area, list(area.successors)) for area in ended if area.successors]


# ---- issuers -------------------------------------------------------------------------------------
