"""The directory: areas, issuers, agencies, radio stations, subscriber lists and Facebook pages,
imported from the files staff keep (CSV from spreadsheets, YAML issuer profiles).

Every import runs in one transaction: a file that cannot be read to the end changes nothing. Rows
that cannot be imported are reported by line with the reason; re-importing a file changes nothing.
CSV imports read uploaded content (`csvfiles.Upload`) as well as files: `import_csv` is the one
entry point for every kind but issuers.

One module a kind: areas.py, issuers.py, agencies.py, stations.py, pages.py, subscribers.py, templates.py
(a Zalo OA's ZNS templates); imports.py
holds what they share (the import report, chunks, the language columns); audience.py turns a campaign's
selectors into recipients. This face names what the rest of the program uses.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from broadcaster.directory.agencies import AGENCY_COLUMNS, import_agencies
from broadcaster.directory.areas import AREA_COLUMNS, AreaIndex, areas_within, import_areas, replaced_areas
from broadcaster.directory.imports import ImportReport, NothingImported, Source
from broadcaster.directory.issuers import (
    IssuerProfile,
    import_issuer,
    issuer_numbers,
    reading_problem,
    store_issuer,
)
from broadcaster.directory.pages import PAGE_COLUMNS, import_pages
from broadcaster.directory.stations import STATION_COLUMNS, import_stations, ordered_slots, parse_slots
from broadcaster.directory.subscribers import SUBSCRIBER_COLUMNS, SUBSCRIBER_ROW, import_subscribers, read_opt_out
from broadcaster.directory.templates import (
    TEMPLATE_COLUMNS,
    import_zalo_templates,
    provider_template,
    provider_templates,
)
from broadcaster.errors import UserError

__all__ = [
    "AGENCY_COLUMNS",
    "AREA_COLUMNS",
    "CSV_KINDS",
    "PAGE_COLUMNS",
    "STATION_COLUMNS",
    "SUBSCRIBER_COLUMNS",
    "SUBSCRIBER_ROW",
    "TEMPLATE_COLUMNS",
    "AreaIndex",
    "ImportReport",
    "IssuerProfile",
    "NothingImported",
    "Source",
    "areas_within",
    "import_agencies",
    "import_areas",
    "import_csv",
    "import_issuer",
    "import_pages",
    "import_stations",
    "import_subscribers",
    "import_zalo_templates",
    "issuer_numbers",
    "ordered_slots",
    "parse_slots",
    "provider_template",
    "provider_templates",
    "read_opt_out",
    "reading_problem",
    "replaced_areas",
    "store_issuer",
]


CSV_IMPORTERS: dict[str, Callable[[Session, Source], ImportReport]] = {
    "areas": import_areas,
    "agencies": import_agencies,
    "stations": import_stations,
    "pages": import_pages,
    "zalo-templates": import_zalo_templates,
}
CSV_KINDS = (*CSV_IMPORTERS, "subscribers")


def import_csv(
    session: Session,
    kind: str,
    source: Source,
    list_slug: str | None = None,
    list_name: str | None = None,
    strict_phones: bool = False,
) -> ImportReport:
    """Imports one CSV file or upload of a kind (areas, agencies, stations, pages, subscribers).

    Raises UserError for a file that cannot be imported at all (nothing read), and NothingImported,
    carrying the report, when every row was rejected; either way the caller's transaction must roll back.
    """
    if kind == "subscribers":
        if not list_slug:
            raise UserError("subscribers go into a list: name it (for example thue-bao-tay-ninh)")
        report = import_subscribers(session, source, list_slug, list_name, strict_phones)
    elif kind in CSV_IMPORTERS:
        report = CSV_IMPORTERS[kind](session, source)
    else:
        raise UserError(f"'{kind}' is not something a CSV file is imported into; choose one of {', '.join(CSV_KINDS)}")
    if report.rejects and not report.imported:
        raise NothingImported(report)
    return report
