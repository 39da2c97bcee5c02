"""Facebook pages the department posts to, imported from a CSV file (the page token is named, never stored)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.csvfiles import Columns, Table
from broadcaster.directory.imports import ENGLISH_NAME, LANGUAGE_COLUMNS, ImportReport, Source, language_cells, upsert
from broadcaster.models import (
    FacebookPage,
)
from broadcaster.settings import page_token_problem
from broadcaster.yaml_files import SLUG

PAGE_COLUMNS = Columns(
    {
        "slug": ("Mã",),
        "page_id": ("id", "Mã trang", "ID trang"),
        "name": ("Tên", "Tên trang"),
        "token_secret": ("token_env", "Biến token"),
        "name_en": ENGLISH_NAME,
        "locale": ("Ngôn ngữ",),
    },
    required=("slug", "page_id", "name", "token_secret"),
    kind="pages",
)


def import_pages(session: Session, source: Source) -> ImportReport:
    table = Table(source, PAGE_COLUMNS)
    report = ImportReport("pages", table.name)
    existing = {page.slug: page for page in session.scalars(select(FacebookPage))}
    for row in table.rows(report.reject):
        values: dict[str, Any] = {name: cell for name, cell in row.values.items() if name not in LANGUAGE_COLUMNS}
        try:
            values |= language_cells(row)
        except ValueError as exc:
            report.reject(row, f"the page's English name or locale: {exc}")
            continue
        if not re.fullmatch(SLUG, values["slug"]):
            report.reject(row, f"page code '{values['slug']}' must be lower-case letters, digits and hyphens")
        elif not values["page_id"].isdigit():
            report.reject(row, f"page id '{values['page_id']}' must be the page's numeric id")
        elif problem := page_token_problem(values["token_secret"]):
            report.reject(row, problem)
        else:
            upsert(session, FacebookPage, existing.get(values["slug"]), values, report)
    report.read_from(table)
    return report


# ---- subscribers -------------------------------------------------------------------------------
