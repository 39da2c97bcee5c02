"""`broadcaster run | scheduler | worker | status | deliveries | retry | send-now`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from broadcaster.cli.common import AsOption, actor, engine, friendly, local_actor, out, sessions, settings, unit_of_work
from broadcaster.cli.serve import ProxyHeadersOption
from broadcaster.errors import UserError

if TYPE_CHECKING:
    from rich.console import Group
    from rich.progress import Progress
    from rich.table import Table
    from sqlalchemy.orm import Session

    from broadcaster.accounts import Actor
    from broadcaster.operations.monitoring import CampaignMonitor
    from broadcaster.operations.sending import DeliveryDetail

# The timetable, the workers and the database layer are imported inside each command: `status` and
# `--help` should not wait for APScheduler and every channel adapter.

# "sent" counts what was handed over with no report (yet); these count apart (monitoring.GROUPS).
REPORTED = ("delivered", "undelivered", "unknown")
STATUS_SLOT_DAYS = 2  # `status` lists each radio slot of the last two days (as the portal shows them)
ChannelOption = Annotated[list[str] | None, typer.Option("--channel", help="Only these channels (repeatable).")]


def _logging() -> None:
    from broadcaster.masking import JsonMaskingFormatter, MaskingFormatter

    handler = logging.StreamHandler()
    if settings().log_format == "json":
        handler.setFormatter(JsonMaskingFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


@friendly
def run(
    channel: ChannelOption = None,
    web: Annotated[bool, typer.Option("--web", help="Serve the web app and API in the same process.")] = False,
    host: Annotated[str | None, typer.Option("--host", help="With --web: address to listen on.")] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="With --web: port to listen on (1-65535).")
    ] = None,
    proxy_headers: ProxyHeadersOption = False,
) -> None:
    """Scheduler and workers in one process (the embedded default), with --web the web app too. Stop with Ctrl-C."""
    from broadcaster import processes

    _logging()
    channels = processes.chosen_channels(channel)
    processes.check_channels(settings(), channels)
    stop = threading.Event()
    with processes.stop_on_signals(stop):
        web_thread = None
        if web:
            from broadcaster.cli.serve import serve_in_background

            web_thread = serve_in_background(host, port, stop, proxy_headers)
        out.print(f"running the timetable and workers for {', '.join(channels)}; stop with Ctrl-C")
        processes.run_all(sessions(), settings(), channels, stop)
        if web_thread is not None:
            web_thread.join(timeout=10)
    out.print("stopped: in-flight sends were recorded and unfinished claims released")


@friendly
def scheduler() -> None:
    """The timetable alone. On PostgreSQL one is active at a time; others stand by and take over."""
    from broadcaster import processes

    _logging()
    stop = threading.Event()
    with processes.stop_on_signals(stop):
        processes.run_scheduler(engine(), sessions(), settings(), stop)


@friendly
def worker(channel: ChannelOption = None) -> None:
    """A worker: expands occurrences and sends due deliveries. Run as many as the database can feed."""
    from broadcaster import processes

    _logging()
    channels = processes.chosen_channels(channel)
    processes.check_channels(settings(), channels)
    stop = threading.Event()
    with processes.stop_on_signals(stop):
        processes.run_workers(sessions(), settings(), channels, stop, threading.Event())


def _status_table(statuses: list[CampaignMonitor]) -> Table:
    from rich.table import Table

    from broadcaster.models import OccurrenceState

    zone = settings().zone
    table = Table(title="delivery status")
    # Delivery reports and unknown outcomes, and what waits, get columns only when there are any: empty
    # columns would squeeze the others.
    reported = [
        group for group in REPORTED if any(item.deliveries[group] for status in statuses for item in status.channels)
    ]
    for column in ("campaign", "channel", "next fires", "occurrences", "pending", "sent", *reported):
        table.add_column(column)
    for column in ("failed", "skipped", "missed", "last errors"):
        table.add_column(column)
    waiting = any(item.waiting_for for status in statuses for item in status.channels)
    if waiting:
        table.add_column("waiting for")
    for status in statuses:
        for item in status.channels:
            fires = ", ".join(f"{moment.astimezone(zone):%d/%m %H:%M}" for moment in item.planned) or "—"
            occurrences = sum(count for state, count in item.occurrences.items() if state != OccurrenceState.MISSED)
            shown_occurrences = f"{occurrences}" + (f" ({item.late} late)" if item.late else "")
            errors = "; ".join(f"{reason} ×{count}" for reason, count in item.errors)
            if item.paused:
                errors = f"[bold red]PAUSED: {item.pause_reason or 'by staff'}[/] {errors}"
            table.add_row(
                f"{status.slug}\n[dim]{status.status}, {status.priority}[/]",
                item.channel,
                fires,
                shown_occurrences,
                str(item.deliveries["pending"]),
                str(item.deliveries["sent"]),
                *(str(item.deliveries[group]) for group in reported),
                str(item.deliveries["failed"]),
                str(item.deliveries["skipped"]),
                str(item.occurrences[OccurrenceState.MISSED]),
                errors,
                *(["; ".join(item.waiting_for)] if waiting else []),
            )
    return table


def _fan_out_progress(session: Session, who: Actor) -> Progress | None:
    from rich.progress import BarColumn, Progress, TextColumn

    from broadcaster.operations import sending

    busy = sending.fan_outs(session, who)
    if not busy:
        return None
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    for item in busy:
        progress.add_task(f"fanning out {item.slug} {item.channel}", total=item.total, completed=item.written)
    return progress


@friendly
def status(
    slug: Annotated[str | None, typer.Argument(help="One campaign (default: all).")] = None,
    watch: Annotated[bool, typer.Option(help="Keep the table live, with fan-out progress.")] = False,
    as_: str | None = AsOption,
) -> None:
    """Per campaign and channel: next fires, occurrences, deliveries by state, last errors."""
    from rich.console import Group, RenderableType
    from rich.live import Live

    from broadcaster.airing import count_slots, days_around
    from broadcaster.cli.stations import airing_table, slots_table
    from broadcaster.operations import monitoring, stations

    who = local_actor(as_)
    recent_since = days_around(settings().today(), settings().zone, STATUS_SLOT_DAYS, 0)[0]

    def render() -> Group:
        with unit_of_work() as session:
            table = _status_table(monitoring.statuses(session, who, settings(), slug))
            reports = stations.slot_reports(session, who, settings(), slug)
            progress = _fan_out_progress(session, who)
        parts: list[RenderableType] = [table]
        if reports:  # the radio loop: did the stations air it, and what did each say about each slot?
            recent = [item for item in reports if item.fire_at >= recent_since]
            parts.append(airing_table(count_slots(reports)))
            parts += [slots_table(recent, f"radio: slots of the last {STATUS_SLOT_DAYS} days")] if recent else []
        parts += [progress] if progress is not None else []
        return Group(*parts)

    if not watch:
        out.print(render())
        return

    with Live(render(), console=out, refresh_per_second=2) as live, contextlib.suppress(KeyboardInterrupt):
        while True:  # until Ctrl-C
            time.sleep(1)
            live.update(render())


@friendly
def deliveries(
    slug: str,
    state: Annotated[
        str | None,
        typer.Option(
            help="pending, sending, sent, accepted, delivered, undelivered, unknown, failed, invalid, rejected, skipped"
        ),
    ] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write them all to this CSV file.")] = None,
    history: Annotated[
        str | None,
        typer.Option("--history", help="The deliveries to this address, each with the history of its attempts."),
    ] = None,
    as_: str | None = AsOption,
) -> None:
    """List a campaign's deliveries, or export them to CSV for follow-up."""
    from rich.table import Table

    from broadcaster.csvfiles import write_csv
    from broadcaster.operations import sending

    who = local_actor(as_)
    with unit_of_work() as session:
        if history is not None:
            found = sending.find_deliveries(session, who, slug, history)
            _print_histories(found, settings().zone)
            return
        if csv_file is not None:
            rows = sending.all_deliveries(session, who, slug, state=state, channel=channel)
            written = write_csv(csv_file, sending.CSV_HEADER, (sending.csv_cells(row, settings()) for row in rows))
            out.print(f"wrote {written} deliveries to {csv_file}")
            return
        page = sending.deliveries(session, who, slug, state=state, channel=channel, limit=50)
    table = Table(title=f"deliveries of {slug}")
    for column in sending.CSV_HEADER:
        table.add_column(column)
    for row in page.rows:
        table.add_row(*sending.csv_cells(row, settings()))
    out.print(table)
    if page.next_cursor is not None:
        out.print("[dim]… more: use --csv FILE for all of them[/]")


def _print_histories(found: list[DeliveryDetail], zone: tzinfo) -> None:
    """Each delivery (fire time, channel, state), then its attempts one a line, times in the issuer's zone."""

    def moment(value: datetime | None) -> str:
        return f"{value.astimezone(zone):%d/%m/%Y %H:%M}" if value is not None else ""

    if not found:
        out.print("no delivery of this campaign went to that address")
        return
    for row in found:
        out.print(f"{moment(row.fire_at)} {row.channel} {row.address}: {row.state}", markup=False, highlight=False)
        for attempt in row.history:
            cells = [
                f"  attempt {attempt.number}",
                moment(attempt.at),
                attempt.outcome,
                attempt.reason,
                attempt.response,
            ]
            out.print(" · ".join(cell for cell in cells if cell), markup=False, highlight=False)


@friendly
def retry(
    slug: str,
    failed: Annotated[bool, typer.Option("--failed", help="Re-queue the deliveries that failed.")] = False,
    channel: Annotated[str | None, typer.Option()] = None,
    as_: str | None = AsOption,
) -> None:
    """Re-queue failed deliveries; they keep their idempotency keys, so a provider that saw one drops it."""
    from broadcaster.operations import sending

    if not failed:
        raise UserError("say what to retry: --failed")
    who = actor(as_)
    with unit_of_work() as session:
        result = sending.retry_failed(session, who, slug, channel, settings())
    out.print(f"re-queued {result.requeued} failed deliveries of '{slug}'")


@friendly
def send_now(
    slug: str,
    channel: Annotated[str, typer.Option("--channel", help="The channel to send on now.")],
    as_: str | None = AsOption,
) -> None:
    """An extra occurrence now, for an urgent repeat (approved campaigns only; audited)."""
    from broadcaster.operations import sending

    who = actor(as_)
    with unit_of_work() as session:
        result = sending.send_now(session, who, slug, channel, settings())
    out.print(
        f"queued an occurrence of '{slug}' on {channel} now; a running worker sends it "
        f"({result.waiting} occurrence(s) waiting to fan out)"
    )


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(scheduler)
    app.command()(worker)
    app.command()(status)
    app.command()(deliveries)
    app.command()(retry)
    app.command("send-now")(send_now)
