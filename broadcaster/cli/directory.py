"""`broadcaster directory …`: import and list areas, issuers, agencies, stations, subscribers, pages."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from broadcaster.cli.common import AsOption, err, friendly, local_actor, out, settings, unit_of_work
from broadcaster.errors import UserError

if TYPE_CHECKING:
    from broadcaster.accounts import Actor
    from broadcaster.csvfiles import CsvOutput
    from broadcaster.directory import ImportReport

app = typer.Typer(help="The directory: who bulletins go to.", no_args_is_help=True)
# Written out for the help, which should not wait for the database layer (operations.directory.KINDS decides).
KINDS_HELP = "One of: areas, issuers, agencies, stations, subscribers, pages (to import: zalo-templates too)."


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


def _import_csv(
    who: Actor, kind: str, path: Path, options: dict[str, Any], rejects: Path | None, notes: Path | None
) -> None:
    """One file in one transaction; the output files are opened first, so that a place they cannot be
    written is refused before anything is committed."""
    from broadcaster.csvfiles import CsvOutput, open_upload
    from broadcaster.directory import NothingImported
    from broadcaster.operations import directory as operations

    failure: NothingImported | None = None
    with ExitStack() as stack:
        rejects_out = stack.enter_context(CsvOutput(rejects)) if rejects else None
        notes_out = stack.enter_context(CsvOutput(notes)) if notes else None
        upload = stack.enter_context(open_upload(path))
        try:
            with unit_of_work() as session:
                report = operations.import_csv(session, who, kind, upload, **options)
        except NothingImported as exc:
            report, failure = exc.report, exc
        _print_report(report)
        _write_outputs(report, rejects_out, notes_out)
    if failure is not None:
        raise failure


@app.command("import")
@friendly
def import_(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
    files: Annotated[list[Path], typer.Argument(help="CSV files (YAML for issuers).")],
    list_slug: Annotated[str | None, typer.Option("--list", help="Subscriber list to import into.")] = None,
    list_name: Annotated[str | None, typer.Option("--name", help="Display name of the subscriber list.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows (with reasons) to this CSV.")] = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Write every conversion, warning and rejection to this CSV.")
    ] = None,
    as_: str | None = AsOption,
) -> None:
    """Import directory files. Each file is one transaction; rejected rows are listed by line."""
    from broadcaster.operations import directory as operations

    operations.check_kind(kind, list_slug, importing=True)
    who = local_actor(as_)
    if kind == "issuers":
        if rejects or report_file:
            raise UserError("issuer profiles are imported whole or not at all: --rejects and --report do not apply")
        for path in files:
            with unit_of_work() as session:
                report = operations.import_issuer(session, who, path)
            _print_report(report)
        return
    if len(files) > 1 and (rejects or report_file):
        raise UserError("--rejects and --report describe one file: import the files one at a time to write them")
    options: dict[str, Any] = {"strict_phones": settings().strict_phone_ranges}
    if kind == "subscribers":
        options |= {"list_slug": list_slug, "list_name": list_name}
    for path in files:
        _import_csv(who, kind, path, options, rejects, report_file)


@app.command("list")
@friendly
def list_(
    kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
    list_slug: Annotated[str | None, typer.Option("--list", help="Only this subscriber list.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 200,
    as_: str | None = AsOption,
) -> None:
    """Show what the directory holds."""
    from broadcaster.operations import directory as operations

    with unit_of_work() as session:
        shown = operations.listing(session, local_actor(as_), kind, list_slug=list_slug, limit=limit)
    table = Table(title=kind)
    for column in shown.columns:
        table.add_column(column)
    for row in shown.rows:
        table.add_row(*row)
    out.print(table)


@app.command("numbers")
@friendly
def numbers(
    issuer: Annotated[str, typer.Argument(help="The issuer whose hotlines and official numbers to see.")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve the numbers waiting (another person).")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject the numbers waiting.")] = False,
    as_: str | None = AsOption,
) -> None:
    """An issuer's numbers in force and those waiting for approval; approve or reject them (two people)."""
    from broadcaster.cli.common import actor
    from broadcaster.operations import directory as operations

    if approve and reject:
        raise UserError("choose one: --approve or --reject")
    with unit_of_work() as session:
        if approve or reject:
            decided = operations.decide_numbers(session, actor(as_), issuer, approve)
            out.print(
                f"the numbers {decided.proposed_by} proposed for '{issuer}' are {'approved' if approve else 'rejected'}"
            )
            return
        proposal = operations.numbers_proposal(session, local_actor(as_), issuer)
        profile = operations.issuer_profile(session, local_actor(as_), issuer)
    in_force = proposal.in_force if proposal else profile
    out.print(f"in force: {_numbers_line(in_force)}", markup=False)
    if proposal is None:
        out.print("nothing waits for approval")
    else:
        out.print(f"proposed by {proposal.proposed_by}: {_numbers_line(proposal.proposed)}", markup=False)


def _numbers_line(numbers: dict[str, Any]) -> str:
    hotlines = [f"{item['number']} ({item.get('label') or 'hotline'})" for item in numbers["hotlines"]]
    others = [f"{item['number']} ({item['purpose']})" for item in numbers["official_numbers"]]
    return "; ".join(hotlines + others) or "none"


@app.command("export-subscriber")
@friendly
def export_subscriber(
    phone: Annotated[str, typer.Argument(help="The phone number, as people write it.")],
    output: Annotated[Path | None, typer.Option("--output", help="Write the JSON here instead of showing it.")] = None,
    as_: str | None = AsOption,
) -> None:
    """Everything kept about one subscriber's number (lists, deliveries), as JSON, for their request. Audited."""
    import json

    from broadcaster.operations import directory as operations

    with unit_of_work() as session:
        data = operations.export_subscriber(session, local_actor(as_), phone)
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output is None:
        out.print(text, markup=False)
        return
    output.write_text(text + "\n", encoding="utf-8")
    out.print(f"written to {output}: {len(data['lists'])} list entries, {len(data['deliveries'])} deliveries")


@app.command("erase-subscriber")
@friendly
def erase_subscriber(
    phone: Annotated[str, typer.Argument(help="The phone number, as people write it.")],
    as_: str | None = AsOption,
) -> None:
    """Remove one number from every list and erase it from its deliveries (outcomes kept), on request. Audited."""
    from broadcaster.operations import directory as operations

    with unit_of_work() as session:
        erased = operations.erase_subscriber(session, local_actor(as_), phone)
    out.print(f"the number is in no list any more; erased from {erased} deliveries")
