"""`broadcaster directory …`: import and list areas, issuers, agencies, stations, subscribers, pages."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import directory as directory_module
from broadcaster.cli.common import err, friendly, out, settings, unit_of_work
from broadcaster.csvfiles import CsvOutput, open_upload
from broadcaster.directory import ImportReport, NothingImported
from broadcaster.errors import UserError
from broadcaster.models import Agency, Area, FacebookPage, Issuer, Station, Subscriber, SubscriberList

app = typer.Typer(help="The directory: who bulletins go to.", no_args_is_help=True)
KINDS = ("areas", "issuers", "agencies", "stations", "subscribers", "pages")


SHOWN = 20  # lines of each list printed; --report writes them all


def _print_report(report: ImportReport) -> None:
    out.print(
        f"{report.kind} from {escape(report.source)}: [bold]{report.imported}[/] imported "
        f"({report.new} new, {report.updated} updated, {report.unchanged} unchanged), "
        f"{report.merged} duplicates merged, {len(report.converted)} old numbers converted, "
        f"{len(report.warnings)} warnings, "
        f"[{'red' if report.rejects else 'green'}]{len(report.rejects)} rejected[/]",
        markup=True,
    )
    if report.columns_read:
        read = ", ".join(f"{cell} → {name}" for cell, name in report.columns_read.items())
        not_read = f"; not read: {', '.join(report.columns_not_read)}" if report.columns_not_read else ""
        out.print(f"  columns: {read}{not_read}", markup=False)
    if report.kept_opted_out:
        out.print(f"  {report.kept_opted_out} numbers stay opted out (an opt-out is never undone by an import)")
    _print_lines(out, [f"line {line}: converted old number {old} to {new}" for line, old, new in report.converted])
    _print_lines(out, [f"line {line}: warning: {warning}" for line, warning, _raw in report.warnings])
    _print_lines(err, [f"line {line}: {reason}" for line, reason, _raw in report.rejects])


def _print_lines(console: Console, lines: list[str]) -> None:
    for line in lines[:SHOWN]:
        console.print(f"  {line}", markup=False)
    if len(lines) > SHOWN:
        console.print(f"  … and {len(lines) - SHOWN} more (--report FILE writes every one)", markup=False)


def _write_outputs(report: ImportReport, rejects: CsvOutput | None, notes: CsvOutput | None) -> None:
    if rejects is not None:
        rejects.write(*report.rejects_table())
        what = "rejected rows written to" if report.rejects else "no row was rejected; only the header is in"
        out.print(f"  {what} {rejects.path}", markup=False)
    if notes is not None:
        count = notes.write(*report.notes_table())
        out.print(f"  {count} conversions, warnings and rejections written to {notes.path}", markup=False)


def _import_csv(kind: str, path: Path, options: dict[str, Any], rejects: Path | None, notes: Path | None) -> None:
    """One file in one transaction; the output files are opened first, so that a place they cannot be
    written is refused before anything is committed."""
    failure: NothingImported | None = None
    with ExitStack() as stack:
        rejects_out = stack.enter_context(CsvOutput(rejects)) if rejects else None
        notes_out = stack.enter_context(CsvOutput(notes)) if notes else None
        upload = stack.enter_context(open_upload(path))
        try:
            with unit_of_work() as session:
                report = directory_module.import_csv(session, kind, upload, **options)
        except NothingImported as exc:
            report, failure = exc.report, exc
        _print_report(report)
        _write_outputs(report, rejects_out, notes_out)
    if failure is not None:
        raise failure


@app.command("import")
@friendly
def import_(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
    files: Annotated[list[Path], typer.Argument(help="CSV files (YAML for issuers).")],
    list_slug: Annotated[str | None, typer.Option("--list", help="Subscriber list to import into.")] = None,
    list_name: Annotated[str | None, typer.Option("--name", help="Display name of the subscriber list.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows (with reasons) to this CSV.")] = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write every conversion, warning and rejection to this CSV.")
    ] = None,
) -> None:
    """Import directory files. Each file is one transaction; rejected rows are listed by line."""
    if kind not in KINDS:
        raise UserError(f"'{kind}' is not something the directory holds; choose one of {', '.join(KINDS)}")
    if kind == "subscribers" and not list_slug:
        raise UserError("subscribers go into a list: add --list NAME (for example --list thue-bao-tay-ninh)")
    if kind == "issuers":
        if rejects or report_file:
            raise UserError("issuer profiles are imported whole or not at all: --rejects and --report do not apply")
        for path in files:
            with unit_of_work() as session:
                report = directory_module.import_issuer(session, path)
            _print_report(report)
        return
    if len(files) > 1 and (rejects or report_file):
        raise UserError("--rejects and --report describe one file: import the files one at a time to write them")
    options: dict[str, Any] = {"strict_phones": settings().strict_phone_ranges}
    if kind == "subscribers":
        options |= {"list_slug": list_slug, "list_name": list_name}
    for path in files:
        _import_csv(kind, path, options, rejects, report_file)


@app.command("list")
@friendly
def list_(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(KINDS)}.")],
    list_slug: Annotated[str | None, typer.Option("--list", help="Only this subscriber list.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 200,
) -> None:
    """Show what the directory holds."""
    if kind not in KINDS:
        raise UserError(f"'{kind}' is not something the directory holds; choose one of {', '.join(KINDS)}")
    with unit_of_work() as session:
        table = Table(title=kind)
        area_names = {row.id: row.name for row in session.execute(select(Area.id, Area.name))}
        if kind == "areas":
            for column in ("code", "name", "kind", "parent"):
                table.add_column(column)
            for area in session.scalars(select(Area).order_by(Area.id).limit(limit)):
                table.add_row(area.code, area.name, area.kind, area.parent.code if area.parent else "")
        elif kind == "issuers":
            for column in ("issuer", "unit", "place", "symbol", "hotlines", "region"):
                table.add_column(column)
            for issuer in session.scalars(select(Issuer).order_by(Issuer.slug).limit(limit)):
                hotlines = ", ".join(h["number"] for h in issuer.hotlines)
                table.add_row(issuer.slug, issuer.unit_name, issuer.place, issuer.symbol, hotlines, issuer.region)
        elif kind == "agencies":
            for column in ("key", "name", "e-mails", "groups", "area"):
                table.add_column(column)
            for agency in session.scalars(select(Agency).order_by(Agency.key).limit(limit)):
                agency_area = area_names.get(agency.area_id, "") if agency.area_id else ""
                table.add_row(agency.key, agency.name, ", ".join(agency.emails), ", ".join(agency.groups), agency_area)
        elif kind == "stations":
            for column in ("station", "name", "area", "folder", "slots"):
                table.add_column(column)
            for station in session.scalars(select(Station).order_by(Station.slug).limit(limit)):
                slots = ", ".join(f"{name} {at}" for name, at in directory_module.ordered_slots(station.slots))
                station_area = area_names.get(station.area_id, "") if station.area_id else ""
                table.add_row(station.slug, station.name, station_area, station.folder, slots)
        elif kind == "pages":
            for column in ("page", "id", "name", "token variable"):
                table.add_column(column)
            for page in session.scalars(select(FacebookPage).order_by(FacebookPage.slug).limit(limit)):
                table.add_row(page.slug, page.page_id, page.name, page.token_secret)
        else:
            _subscribers(session, table, list_slug, limit, area_names)
        out.print(table)


def _subscribers(session: Session, table: Table, list_slug: str | None, limit: int, area_names: dict[int, str]) -> None:
    if list_slug is None:
        for column in ("list", "name", "numbers", "opted out"):
            table.add_column(column)
        for subscriber_list in session.scalars(select(SubscriberList).order_by(SubscriberList.slug)):
            counts = session.execute(
                select(func.count(), func.count().filter(Subscriber.opted_out)).where(
                    Subscriber.list_id == subscriber_list.id
                )
            ).one()
            table.add_row(subscriber_list.slug, subscriber_list.name, str(counts[0]), str(counts[1]))
        return
    found = session.scalar(select(SubscriberList).where(SubscriberList.slug == list_slug))
    if found is None:
        raise UserError(f"there is no subscriber list '{list_slug}'")
    for column in ("phone", "area", "locale", "opted out"):
        table.add_column(column)
    query = select(Subscriber).where(Subscriber.list_id == found.id).order_by(Subscriber.id).limit(limit)
    for subscriber in session.scalars(query):
        area = area_names.get(subscriber.area_id, "") if subscriber.area_id else ""
        opted = str(subscriber.opted_out_on or "yes") if subscriber.opted_out else ""
        table.add_row(subscriber.phone, area, subscriber.locale, opted)
