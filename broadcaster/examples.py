"""The shipped examples: the directory in config/directory and config/issuers, the campaigns in content/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from broadcaster import directory
from broadcaster.directory import ImportReport
from broadcaster.settings import shipped_dir


@dataclass(frozen=True)
class ExampleFile:
    kind: str  # what `directory import` calls it: areas, issuers, agencies, stations, pages, subscribers
    path: Path
    list_slug: str | None = None  # subscribers: the list they go into


def example_campaigns() -> list[Path]:
    return sorted((shipped_dir("content") / "campaigns").glob("*.yaml"))


def example_directory() -> list[ExampleFile]:
    """Everything the shipped campaigns need, in the order it can be imported (areas before what lies in
    them). Subscribers from `subscribers-X.csv` go to list `thue-bao-X`."""
    config = shipped_dir("config")
    folder = config / "directory"
    files = [ExampleFile("areas", folder / "areas.csv")]
    files += [ExampleFile("issuers", path) for path in sorted((config / "issuers").glob("*.yaml"))]
    files += [ExampleFile("agencies", path) for path in sorted(folder.glob("agencies-*.csv"))]
    files += [ExampleFile("stations", folder / "stations.csv"), ExampleFile("pages", folder / "pages.csv")]
    for path in sorted(folder.glob("subscribers-*.csv")):
        files.append(ExampleFile("subscribers", path, f"thue-bao-{path.stem.removeprefix('subscribers-')}"))
    return files


def import_examples(session: Session) -> list[ImportReport]:
    """The shipped directory as it is, unaudited: what tests start from. Whoever acts imports it through
    `operations.directory.import_examples`, which audits each file."""
    return [
        directory.import_issuer(session, example.path)
        if example.kind == "issuers"
        else directory.import_csv(session, example.kind, example.path, example.list_slug)
        for example in example_directory()
    ]
