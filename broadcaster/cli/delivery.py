"""`broadcaster run | scheduler | worker | status | deliveries | retry | send-now`."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airing, interventions, monitor, service
from broadcaster.audience import audience_size, parse_selector
from broadcaster.campaigns import find_campaign
from broadcaster.cli.common import AsOption, actor, engine, friendly, out, sessions, settings, unit_of_work
from broadcaster.cli.stations import airing_table
from broadcaster.csvfiles import write_csv
from broadcaster.errors import UserError
from broadcaster.masking import MaskingFormatter
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState, utcnow
from channels.base import channel_class

ChannelOption = Annotated[list[str] | None, typer.Option("--channel", help="Only these channels (repeatable).")]


def _logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


@friendly
def run(
    channel: ChannelOption = None,
    web: Annotated[bool, typer.Option("--web", help="Serve the web app and API in the same process.")] = False,
    host: Annotated[str | None, typer.Option("--host", help="With --web: address to listen on.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="With --web: port to listen on.")] = None,
) -> None:
    """Scheduler and workers in one process (the embedded default), with --web the web app too. Stop with Ctrl-C."""
    _logging()
    channels = service.chosen_channels(channel)
    service.check_channels(settings(), channels)
    stop = threading.Event()
    with service.stop_on_signals(stop):
        web_thread = None
        if web:
            from broadcaster.cli.serve import serve_in_background

            web_thread = serve_in_background(host, port, stop)
        out.print(f"running the timetable and workers for {', '.join(channels)}; stop with Ctrl-C")
        service.run_all(sessions(), settings(), channels, stop)
        if web_thread is not None:
            web_thread.join(timeout=10)
    out.print("stopped: in-flight sends were recorded and unfinished claims released")


@friendly
def scheduler() -> None:
    """The timetable alone. On PostgreSQL one is active at a time; others stand by and take over."""
    _logging()
    stop = threading.Event()
    with service.stop_on_signals(stop):
        service.run_scheduler(engine(), sessions(), settings(), stop)


@friendly
def worker(channel: ChannelOption = None) -> None:
    """A worker: expands occurrences and sends due deliveries. Run as many as the database can feed."""
    _logging()
    channels = service.chosen_channels(channel)
    service.check_channels(settings(), channels)
    stop = threading.Event()
    with service.stop_on_signals(stop):
        service.run_workers(sessions(), settings(), channels, stop, threading.Event())


def _status_table(statuses: list[monitor.CampaignStatus]) -> Table:
    zone = settings().zone
    table = Table(title="delivery status")
    for column in (
        "campaign",
        "channel",
        "next fires",
        "occurrences",
        "pending",
        "sent",
        "failed",
        "skipped",
        "missed",
        "last errors",
    ):
        table.add_column(column)
    # Only when something waits: an empty column would squeeze the others.
    waiting = any(item.waiting_for for status in statuses for item in status.channels)
    if waiting:
        table.add_column("waiting for")
    for status in statuses:
        for item in status.channels:
            fires = ", ".join(f"{moment.astimezone(zone):%d/%m %H:%M}" for moment in item.next_fires) or "—"
            occurrences = sum(count for state, count in item.occurrences.items() if state != OccurrenceState.MISSED)
            shown_occurrences = f"{occurrences}" + (f" ({item.late} late)" if item.late else "")
            errors = "; ".join(f"{reason} ×{count}" for reason, count in item.errors)
            if item.paused:
                errors = f"[bold red]PAUSED: {item.paused}[/] {errors}"
            table.add_row(
                f"{status.slug}\n[dim]{status.status}, {status.priority}[/]",
                item.channel,
                fires,
                shown_occurrences,
                str(item.deliveries["pending"]),
                str(item.deliveries["sent"]),
                str(item.deliveries["failed"]),
                str(item.deliveries["skipped"]),
                str(item.occurrences[OccurrenceState.MISSED]),
                errors,
                *(["; ".join(item.waiting_for)] if waiting else []),
            )
    return table


def _fan_out_progress(session: Session) -> Progress | None:
    busy = monitor.expanding(session)
    if not busy:
        return None
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"))
    for occurrence, written in busy:
        campaign = occurrence.campaign
        channel = next(c for c in campaign.channels if c.channel == occurrence.channel)
        selectors = [parse_selector(text) for text in channel.audience]
        total = audience_size(session, channel_class(channel.channel).recipient_kind, selectors)
        progress.add_task(f"fanning out {campaign.slug} {occurrence.channel}", total=total, completed=written)
    return progress


@friendly
def status(
    slug: Annotated[str | None, typer.Argument(help="One campaign (default: all).")] = None,
    watch: Annotated[bool, typer.Option(help="Keep the table live, with fan-out progress.")] = False,
) -> None:
    """Per campaign and channel: next fires, occurrences, deliveries by state, last errors."""

    def render() -> Group:
        with unit_of_work() as session:
            if slug is not None:
                find_campaign(session, slug)
            table = _status_table(monitor.all_statuses(session, settings(), utcnow(), slug))
            overdue = timedelta(hours=settings().airing_overdue_hours)
            counts = airing.airing_counts(session, overdue, utcnow(), slug)
            progress = _fan_out_progress(session)
        parts: list[RenderableType] = [table]
        parts += [airing_table(counts)] if counts else []  # the radio loop: did the stations air it?
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
        str | None, typer.Option(help="pending, sending, sent, accepted, failed, invalid, rejected, skipped")
    ] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write them all to this CSV file.")] = None,
) -> None:
    """List a campaign's deliveries, or export them to CSV for follow-up."""
    if state is not None and state not in set(DeliveryState):
        raise UserError(f"'{state}' is not a delivery state ({', '.join(DeliveryState)})")
    zone = settings().zone
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        query = (
            select(
                Occurrence.id,
                Occurrence.channel,
                Occurrence.fire_at,
                Delivery.address,
                Delivery.name,
                Delivery.state,
                Delivery.attempts,
                Delivery.reason,
                Delivery.provider_id,
                Delivery.done_at,
            )
            .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
            .where(Occurrence.campaign_id == campaign.id)
            .order_by(Delivery.id)
        )
        if state is not None:
            query = query.where(Delivery.state == state)
        if channel is not None:
            query = query.where(Occurrence.channel == channel)
        rows = session.execute(query.execution_options(yield_per=5000))
        header = [
            "occurrence",
            "channel",
            "fire time",
            "recipient",
            "name",
            "state",
            "attempts",
            "reason",
            "provider id",
            "done at",
        ]
        if csv_file is None:
            table = Table(title=f"deliveries of {slug}")
            for column in header:
                table.add_column(column)
            for count, row in enumerate(rows):
                if count >= 50:
                    out.print("[dim]… more: use --csv FILE for all of them[/]")
                    break
                table.add_row(*_cells(row, zone))
            out.print(table)
            return
        written = write_csv(csv_file, header, (_cells(row, zone) for row in rows))
    out.print(f"wrote {written} deliveries to {csv_file}")


def _cells(row: Sequence[Any], zone: ZoneInfo) -> list[str]:
    values = list(row)
    for index in (2, 9):
        if isinstance(values[index], datetime):
            values[index] = values[index].astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    return ["" if value is None else str(value) for value in values]


@friendly
def retry(
    slug: str,
    failed: Annotated[bool, typer.Option("--failed", help="Re-queue the deliveries that failed.")] = False,
    channel: Annotated[str | None, typer.Option()] = None,
    as_: str | None = AsOption,
) -> None:
    """Re-queue failed deliveries; they keep their idempotency keys, so a provider that saw one drops it."""
    if not failed:
        raise UserError("say what to retry: --failed")
    who = actor(as_)
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        count = interventions.retry_failed(session, settings(), campaign, channel, who, utcnow())
    out.print(f"re-queued {count} failed deliveries of '{slug}'")


@friendly
def send_now(
    slug: str,
    channel: Annotated[str, typer.Option("--channel", help="The channel to send on now.")],
    as_: str | None = AsOption,
) -> None:
    """An extra occurrence now, for an urgent repeat (approved campaigns only; audited)."""
    who = actor(as_)
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        waiting = interventions.send_now(session, settings(), campaign, channel, who, utcnow())
    out.print(
        f"queued an occurrence of '{slug}' on {channel} now; a running worker sends it "
        f"({waiting} occurrence(s) waiting to fan out)"
    )


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(scheduler)
    app.command()(worker)
    app.command()(status)
    app.command()(deliveries)
    app.command()(retry)
    app.command("send-now")(send_now)
