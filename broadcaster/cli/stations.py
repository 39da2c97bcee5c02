"""`broadcaster station …`: a station's secret link to its portal, and what stations said about their slots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from broadcaster.cli.common import AsOption, actor, friendly, local_actor, out, settings, unit_of_work

if TYPE_CHECKING:
    from rich.table import Table

    from broadcaster.airing import AiringCount, SlotReport

app = typer.Typer(help="Radio stations: portal links and airing reports.", no_args_is_help=True)


@app.command("link")
@friendly
def link(slug: Annotated[str, typer.Argument(help="The station.")], as_: str | None = AsOption) -> None:
    """A new secret link to the station's portal; the previous link stops working at once."""
    from broadcaster.operations import stations

    who = actor(as_)
    with unit_of_work() as session:
        token = stations.rotate_link(session, who, slug)
    # Shown once, here, to be handed to the station; only its digest is kept.
    out.print(f"portal link of station '{slug}' (the previous one no longer works):", markup=False)
    out.print(f"{settings().public_url}/portal/link/{token}", markup=False, soft_wrap=True)


@app.command("airings")
@friendly
def airings(
    campaign: Annotated[str | None, typer.Argument(help="One campaign (default: all).")] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write each slot and its report to this CSV file.")
    ] = None,
    days: Annotated[int | None, typer.Option(help="Only the slots of the last this many days.")] = None,
    as_: str | None = AsOption,
) -> None:
    """Per station: slots aired, not aired, unconfirmed and overdue, then each slot and what its station said."""
    from broadcaster import airing
    from broadcaster.csvfiles import CsvOutput
    from broadcaster.operations import stations

    output = CsvOutput(csv_file) if csv_file is not None else None  # opened first: a bad place is refused early
    who = local_actor(as_)
    with unit_of_work() as session:
        reports = stations.slot_reports(session, who, settings(), campaign, days)
    if output is not None:
        with output:
            written = output.write(airing.AIRING_CSV_HEADER, airing.airing_csv_rows(reports, settings().zone))
        out.print(f"wrote {written} rows to {csv_file}", markup=False)
        return
    out.print(airing_table(airing.count_slots(reports)))
    if reports:
        out.print(slots_table(reports))


def airing_table(counts: list[AiringCount]) -> Table:
    from rich.table import Table

    table = Table(title="radio: did it air?")
    for column in ("campaign", "station", "slots", "aired", "not aired", "unconfirmed", "overdue"):
        table.add_column(column, justify="right" if column not in ("campaign", "station") else "left")
    for count in counts:
        overdue = f"[red]{count.overdue}[/]" if count.overdue else "0"
        table.add_row(
            count.campaign,
            count.station_name,
            str(count.slots),
            str(count.aired),
            str(count.not_aired),
            str(count.unconfirmed),
            overdue,
        )
    return table


def slots_table(reports: list[SlotReport], title: str = "radio: each slot") -> Table:
    """Each slot: campaign, station by name, slot time, and the station's report with its reason and note."""
    from rich.markup import escape
    from rich.table import Table

    from broadcaster.airing import STATE_WORDS, reason_words

    zone = settings().zone
    table = Table(title=title)
    for column in ("campaign", "station", "slot", "report", "time aired", "reason", "note"):
        table.add_column(column)
    for item in reports:
        state = STATE_WORDS["en"][item.state]
        if item.overdue:
            state = f"[red]{state}, overdue[/]"
        elif item.state == "not_aired":
            state = f"[yellow]{state}[/]"
        table.add_row(
            escape(item.campaign),
            escape(item.station_name),
            f"{item.fire_at.astimezone(zone):%d/%m/%Y %H:%M} {item.slot or ''}".strip(),
            state,
            f"{item.aired_at.astimezone(zone):%H:%M}" if item.aired_at else "",
            reason_words(item.reason, "en"),
            escape(item.note or ""),
        )
    return table
