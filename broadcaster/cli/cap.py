"""`broadcaster cap export | import | check`: campaigns as CAP 1.2 alerts, alerts as draft campaigns."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from broadcaster.cli.common import AsOption, actor, err, friendly, local_actor, out, settings, shown, unit_of_work
from broadcaster.errors import UserError

app = typer.Typer(help="CAP 1.2 alerts: export approved campaigns, check alerts.", no_args_is_help=True)


def write_output(document: bytes, output: Path | None) -> None:
    """Write the whole document, or nothing: a temporary file is renamed into place."""
    if output is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_bytes(document)
        partial.replace(output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UserError(f"cannot write {output}: {exc.strerror}") from None


@app.command()
@friendly
def export(
    slug: Annotated[str, typer.Argument(help="The campaign.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the alert here, not to stdout.")] = None,
    as_: str | None = AsOption,
) -> None:
    """The campaign's current CAP alert: Alert when approved, Update after a new approval, Cancel when cancelled."""
    from broadcaster.operations import cap

    who = local_actor(as_)
    with unit_of_work() as session:
        alert = cap.export_alert(session, who, slug, settings())
    write_output(alert.document, output)
    if output is not None:
        out.print(f"wrote CAP {alert.msg_type} {alert.identifier} to {escape(str(output))}")


@app.command()
@friendly
def check(file: Annotated[Path, typer.Argument(help="A CAP 1.2 alert (XML).")]) -> None:
    """Check an alert against the OASIS CAP 1.2 schema; every problem with its line."""
    from broadcaster.cap.schema import check_alert
    from broadcaster.problems import InvalidInput, Problem

    try:
        document = file.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from None
    problems = check_alert(document)
    if problems:
        raise InvalidInput(str(file), [Problem(str(file), problem) for problem in problems])
    out.print(f"[green]ok[/] {escape(str(file))} is a valid CAP 1.2 alert")


@app.command("import")
@friendly
def import_(
    source: Annotated[str, typer.Argument(help="A CAP 1.2 file, or a URL on BROADCASTER_CAP_IMPORT_ALLOW.")],
    issuer: Annotated[str | None, typer.Option(help="The issuer of the campaign (default: the only one).")] = None,
    slug: Annotated[str | None, typer.Option(help="The campaign's name (default: from the alert).")] = None,
    as_: str | None = AsOption,
) -> None:
    """A CAP alert becomes a draft campaign, ready to submit for approval."""
    from broadcaster.operations import cap

    who = actor(as_)
    with unit_of_work() as session:
        result = cap.import_alert(session, who, source, settings(), issuer=issuer, slug=slug)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {shown(warning)}")
    verb = "added" if result.created else "updated"
    out.print(f"{verb} campaign '{result.slug}' ({result.status}) from CAP alert {result.identifier}")
