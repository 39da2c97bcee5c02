"""`broadcaster campaign …` and `broadcaster audit`: campaign files, lifecycle, approval, preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from broadcaster.cli.common import (
    AsOption,
    actor,
    err,
    friendly,
    local_actor,
    out,
    report_problems,
    settings,
    unit_of_work,
)

if TYPE_CHECKING:
    from rich.table import Table

    from broadcaster.accounts import Actor
    from broadcaster.operations.campaigns import FileCheck
    from broadcaster.operations.preview import Preview

# The operations, the database layer and the templates are imported inside each command: `--help` and the
# commands that need little should not pay for SQLAlchemy, Jinja2 and every channel adapter.

app = typer.Typer(help="Campaigns: load, check, approve, pause, preview.", no_args_is_help=True)


def _table(title: str, *columns: str) -> Table:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    return table


def _report(checked: FileCheck) -> None:
    from broadcaster.problems import InvalidInput

    if checked.problems:
        report_problems(InvalidInput(checked.source, checked.problems))
    for warning in checked.warnings:
        err.print(f"[yellow]warning:[/] {escape(checked.source)}: {escape(str(warning))}")


@app.command()
@friendly
def validate(
    files: Annotated[list[Path], typer.Argument(help="Campaign files (YAML).")], as_: str | None = AsOption
) -> None:
    """Check campaign files against the directory and templates; every problem of every file is listed."""
    from broadcaster.operations import campaigns as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        results = operations.check_files(session, who, files, settings())
    for checked in results:
        if checked.valid:
            out.print(f"[green]ok[/] {checked.source}: campaign '{checked.campaign}' is valid")
            for note in checked.notes:
                out.print(f"  {note}", markup=False)
        _report(checked)
    if not all(checked.valid for checked in results):
        raise typer.Exit(1)


@app.command()
@friendly
def add(
    files: Annotated[list[Path], typer.Argument(help="Campaign files (YAML).")], as_: str | None = AsOption
) -> None:
    """Load campaign files as drafts (or update drafts); changes are recorded in the audit log.

    Every file is checked first; if any has a problem, none is loaded.
    """
    from broadcaster.operations import campaigns as operations

    who = actor(as_)
    with unit_of_work() as session:
        added = operations.add_files(session, who, files, settings())
    for checked in added.checks:
        _report(checked)
    if not added.saved:
        err.print("nothing was loaded")
        raise typer.Exit(1)
    for saved in added.saved:
        slug, status = saved.campaign.slug, saved.campaign.status
        if saved.revision:
            out.print(
                f"campaign '{slug}' ({status}) has a revision with this file's content: it keeps sending its "
                f"approved version until the revision is submitted and approved ('broadcaster campaign submit {slug}')"
            )
        else:
            out.print(f"{'added' if saved.created else 'updated'} campaign '{slug}' ({status})")


def _report_changes(slug: str, changes: list[dict[str, Any]]) -> None:
    if changes:
        where = ", ".join(str(change.get("template") or change.get("field")) for change in changes)
        out.print(
            f"[yellow]campaign '{slug}' would send something else now ({where}): its approved version keeps "
            f"sending; to send the new content, revise it (edit it) and have the revision approved[/]"
        )


@app.command()
@friendly
def check(
    slugs: Annotated[list[str] | None, typer.Argument(help="Campaigns (default: all submitted or approved).")] = None,
    as_: str | None = AsOption,
) -> None:
    """Compare campaigns with what they would send now (an issuer changed since approval); nothing changes."""
    from broadcaster.operations import campaigns as operations

    who = actor(as_)
    with unit_of_work() as session:
        found = operations.check_changes(session, who, slugs, settings())
    for slug, changes in found.items():
        _report_changes(slug, changes)
    if not any(found.values()):
        out.print("no campaign changed since its version was fixed")


def _status_style(status: str) -> str:
    return {"approved": "green", "active": "bold green", "paused": "yellow", "cancelled": "red"}.get(status, "")


@app.command("list")
@friendly
def list_(as_: str | None = AsOption) -> None:
    """All campaigns with their status."""
    from broadcaster.operations import campaigns as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        campaigns = operations.list_campaigns(session, who)
    columns = ("campaign", "number", "status", "priority", "valid", "channels", "submitted by", "approved by")
    table = _table("campaigns", *columns)
    for campaign in campaigns:
        style = _status_style(campaign.status)
        table.add_row(
            campaign.slug,
            campaign.number,
            f"[{style}]{campaign.status}[/]" if style else campaign.status,
            campaign.priority,
            f"{campaign.valid_from} → {campaign.valid_until}",
            ", ".join(campaign.channels),
            campaign.submitted_by or "",
            campaign.approved_by or "",
        )
    out.print(table)


@app.command()
@friendly
def show(slug: str, as_: str | None = AsOption) -> None:
    """One campaign: its fields, channels, audiences and timetable rules."""
    from broadcaster.operations import campaigns as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        detail = operations.show(session, who, slug)
    campaign = detail.summary
    out.print(f"[bold]{campaign.slug}[/]  {campaign.number}  V/v {campaign.subject}")
    out.print(
        f"issuer {detail.issuer} · status {campaign.status} · priority {campaign.priority} · "
        f"valid {campaign.valid_from} → {campaign.valid_until} · template {detail.template} · "
        f"locales {', '.join(detail.locales)}"
    )
    version = detail.version
    if version is not None:
        approved = f" · approved by {version.approved_by}" if version.approved_by else ""
        out.print(
            f"version {version.number} (sha256 {version.fingerprint[:12]}) · written by {', '.join(version.authors)} · "
            f"submitted by {version.submitted_by}{approved}"
        )
    table = _table("channels", "channel", "audience", "areas", "options", "timetable", "paused")
    zone = settings().zone
    for channel in detail.channels:
        rules = []
        for rule in channel.rules:
            if rule.kind == "once" and rule.at is not None:
                rules.append(f"once at {rule.at.astimezone(zone):%Y-%m-%d %H:%M}")
            elif rule.kind == "cron":
                rules.append(f"cron '{rule.cron}' {rule.starts or ''}…{rule.ends or ''}")
            else:
                rules.append(f"slots {', '.join(rule.slots)} {rule.starts or ''}…{rule.ends or ''}")
        table.add_row(
            channel.channel,
            ", ".join(channel.audience),
            ", ".join(channel.areas),
            json.dumps(channel.options, ensure_ascii=False) if channel.options else "",
            "\n".join(rules),
            channel.pause_reason or ("yes" if channel.paused else ""),
        )
    out.print(table)


def _transition(slug: str, action: str, who: Actor, reason: str | None = None) -> None:
    from broadcaster.operations import campaigns as operations

    with unit_of_work() as session:
        campaign = operations.change_status(session, who, slug, action, reason, settings=settings())
        revision = f" (its revision: {campaign.revision})" if campaign.revision else ""
        out.print(f"campaign '{slug}' is now {campaign.status}{revision}")


@app.command()
@friendly
def submit(slug: str, as_: str | None = AsOption) -> None:
    """Submit a draft (or an approved campaign's revision) for approval."""
    _transition(slug, "submit", actor(as_))


@app.command()
@friendly
def approve(slug: str, as_: str | None = AsOption) -> None:
    """Approve a submitted campaign or revision (not by its submitter, nor by anyone who wrote part of it)."""
    _transition(slug, "approve", actor(as_))


@app.command("return")
@friendly
def return_(
    slug: str, reason: Annotated[str, typer.Option(help="Why it goes back.")], as_: str | None = AsOption
) -> None:
    """Send a submitted campaign (or revision) back to its drafter, with the reason."""
    _transition(slug, "return", actor(as_), reason)


@app.command("discard-revision")
@friendly
def discard_revision(slug: str, as_: str | None = AsOption) -> None:
    """Drop an approved campaign's revision; it keeps its approved content."""
    _transition(slug, "discard-revision", actor(as_))


@app.command()
@friendly
def pause(slug: str, reason: Annotated[str | None, typer.Option()] = None, as_: str | None = AsOption) -> None:
    """Stop sending until resumed."""
    _transition(slug, "pause", actor(as_), reason)


@app.command()
@friendly
def resume(
    slug: str,
    channel: Annotated[str | None, typer.Option(help="Resume only this channel, paused after a failure.")] = None,
    as_: str | None = AsOption,
) -> None:
    """Resume a paused campaign, or one of its channels that was paused after a failure."""
    who = actor(as_)
    if channel is None:
        _transition(slug, "resume", who)
        return
    from broadcaster.operations import campaigns as operations

    with unit_of_work() as session:
        operations.resume_channel(session, who, slug, channel)
    out.print(f"the {channel} channel of '{slug}' sends again")


@app.command()
@friendly
def cancel(slug: str, reason: Annotated[str | None, typer.Option()] = None, as_: str | None = AsOption) -> None:
    """Cancel a campaign for good."""
    _transition(slug, "cancel", actor(as_), reason)


# ---- preview ------------------------------------------------------------------------------------


def _write_parts(folder: Path, parts: dict[str, str], stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for part, text in parts.items():
        path = folder / f"{stem}.{part}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _write_letter(folder: Path, item: Preview, name: str | None = None) -> Path | None:
    """The letter's A4 PDF as it is attached to the e-mail (named `<number>-<date>.pdf` unless given a name)."""
    from broadcaster.operations.preview import letter

    attachment = letter(item)
    if attachment is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or attachment.name)
    path.write_bytes(attachment.pdf)
    return path


@app.command()
@friendly
def preview(
    slug: str,
    channel: Annotated[str | None, typer.Option(help="email, sms, facebook or radio.")] = None,
    locale: Annotated[str | None, typer.Option(help="Render in this locale (default: the recipient's).")] = None,
    recipient: Annotated[str | None, typer.Option(help="E-mail, phone, station or page (default: the first).")] = None,
    all_: Annotated[Path | None, typer.Option("--all", help="Write every rendering into this folder.")] = None,
    as_: str | None = AsOption,
) -> None:
    """Print exactly what would be sent, or write every rendering of a campaign to a folder for review."""
    from broadcaster.errors import UserError
    from broadcaster.operations import preview as operations

    if all_ is None and channel is None:
        raise UserError("choose a channel with --channel (or write them all with --all FOLDER)")
    who = local_actor(as_)
    if all_ is not None:
        with unit_of_work() as session:
            previews = operations.preview_all(session, who, slug, settings())
        for item in previews:
            folder = all_ / item.channel
            for path in _write_parts(folder, item.parts, item.locale):
                out.print(f"wrote {path}")
            if pdf := _write_letter(folder, item, f"{item.locale}.pdf"):
                out.print(f"wrote {pdf}")
        return
    assert channel is not None
    with unit_of_work() as session:
        item = operations.preview(session, who, slug, channel, settings(), locale=locale, recipient=recipient)
    _print_preview(slug, item)


def _print_preview(slug: str, item: Preview) -> None:
    who = f"{item.recipient_name} <{item.recipient_address}>" if item.recipient_name else item.recipient_address
    out.print(f"[dim]to {escape(who)} · locale {item.locale} · at {item.fire_at:%Y-%m-%d %H:%M}[/]")
    if "subject" in item.parts:
        out.print(f"Subject: {item.parts['subject'].strip()}", markup=False)
    out.print(item.parts.get("txt", ""), markup=False)
    if "html" in item.parts:
        folder = settings().output_dir / "preview" / slug
        html = _write_parts(folder, {"html": item.parts["html"]}, f"{item.channel}-{item.locale}")
        if pdf := _write_letter(folder, item):
            out.print(f"[dim]PDF attached: {pdf}[/]")
        out.print(f"[dim]HTML part: {html[0]}[/]")


# ---- audit --------------------------------------------------------------------------------------


def audit(slug: str, as_: str | None = AsOption) -> None:
    """Everything that happened to a campaign: who, when, what."""
    from broadcaster.operations import campaigns as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        entries = operations.audit_log(session, who, slug)
    table = _table(f"audit log of {slug}", "when", "who", "action", "details")
    zone = settings().zone
    for entry in entries:
        table.add_row(
            f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", entry.actor, entry.action, _describe(entry.details)
        )
    out.print(table)


def _describe(details: dict[str, object]) -> str:
    if "changes" in details and isinstance(details["changes"], list):
        from broadcaster.campaigns.versions import describe_change

        return "\n".join(describe_change(change) for change in details["changes"])
    if "spec" in details:
        return "created from campaign file"
    return ", ".join(f"{key} {value}" for key, value in details.items())
