"""The shipped examples: the directory in config/directory and config/issuers, the campaigns in content/."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from broadcaster import directory
from broadcaster.directory import ImportReport
from broadcaster.settings import shipped_dir


def example_campaigns() -> list[Path]:
    return sorted((shipped_dir("content") / "campaigns").glob("*.yaml"))


def import_examples(session: Session) -> list[ImportReport]:
    """Everything the shipped campaigns need. Subscribers from `subscribers-X.csv` go to list `thue-bao-X`."""
    config = shipped_dir("config")
    folder = config / "directory"
    reports = [directory.import_areas(session, folder / "areas.csv")]
    reports += [directory.import_issuer(session, path) for path in sorted((config / "issuers").glob("*.yaml"))]
    reports += [directory.import_agencies(session, path) for path in sorted(folder.glob("agencies-*.csv"))]
    reports.append(directory.import_stations(session, folder / "stations.csv"))
    reports.append(directory.import_pages(session, folder / "pages.csv"))
    for path in sorted(folder.glob("subscribers-*.csv")):
        province = path.stem.removeprefix("subscribers-")
        reports.append(directory.import_subscribers(session, path, f"thue-bao-{province}", None))
    return reports
