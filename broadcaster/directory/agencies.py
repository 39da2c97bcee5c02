"""Agencies that receive the official letter by e-mail, imported from a CSV file staff keep."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.csvfiles import Columns, Row, Table
from broadcaster.directory.areas import AreaIndex
from broadcaster.directory.imports import ENGLISH_NAME, ImportReport, Source, language_cells, split_cell
from broadcaster.models import (
    Agency,
    AgencyGroup,
)
from broadcaster.text import one_line, slugify

AGENCY_COLUMNS = Columns(
    {
        "name": ("Tên", "Tên đơn vị", "Đơn vị", "Cơ quan", "Tên cơ quan", "Cơ quan, đơn vị"),
        "emails": ("email", "e-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử"),
        "groups": ("group", "Nhóm", "Nhóm nhận"),
        "area": ("Khu vực", "Địa bàn"),
        "key": ("Mã", "Mã đơn vị"),
        "name_en": ENGLISH_NAME,
        "locale": ("Ngôn ngữ",),
    },
    required=("name", "emails"),
    kind="agencies",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _agency_from_row(row: Row, report: ImportReport, areas: AreaIndex) -> dict[str, Any] | None:
    name = row.values["name"]
    if not name:
        report.reject(row, "the agency has no name")
        return None
    try:
        one_line(name)  # the agency's name is the letter's To: header
    except ValueError as exc:
        report.reject(row, f"the agency's name {exc}")
        return None
    emails = split_cell(row.values.get("emails", ""))
    bad = [email for email in emails if not _EMAIL.match(email)]
    if bad:
        report.reject(row, f"'{bad[0]}' is not an e-mail address")
        return None
    if not emails:
        report.reject(row, "the agency has no e-mail address")
        return None
    groups = [slugify(group) for group in split_cell(row.values.get("groups", ""))]
    try:
        language = language_cells(row)
    except ValueError as exc:
        report.reject(row, f"the agency's English name or locale: {exc}")
        return None
    ok, area_id = areas.resolve(row, report)
    if not ok:
        return None
    key = slugify(row.values.get("key") or name)
    return {"key": key, "name": name, "emails": emails, "groups": groups, "area_id": area_id, **language}


def import_agencies(session: Session, source: Source) -> ImportReport:
    table = Table(source, AGENCY_COLUMNS)
    report = ImportReport("agencies", table.name)
    areas = AreaIndex(session)
    wanted: dict[str, dict[str, Any]] = {}
    for row in table.rows(report.reject):
        found = _agency_from_row(row, report, areas)
        if found is None:
            continue
        if (earlier := wanted.get(found["key"])) is not None:
            # The same agency listed twice (once per group, say): one agency with everything.
            earlier["emails"] += [e for e in found["emails"] if e not in earlier["emails"]]
            earlier["groups"] += [g for g in found["groups"] if g not in earlier["groups"]]
            report.merged += 1
        else:
            wanted[found["key"]] = found
    existing = {agency.key: agency for agency in session.scalars(select(Agency))}
    for key, values in wanted.items():
        agency = existing.get(key)
        groups = sorted(set(values.pop("groups")))
        if agency is None:
            agency = Agency(**values)
            agency.group_rows = [AgencyGroup(group=group) for group in groups]
            session.add(agency)
            report.new += 1
        elif groups != agency.groups or any(getattr(agency, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(agency, name, value)
            if groups != agency.groups:
                agency.group_rows = [AgencyGroup(group=group) for group in groups]
            report.updated += 1
        else:
            report.unchanged += 1
    report.read_from(table)
    return report


# ---- stations --------------------------------------------------------------------------------
