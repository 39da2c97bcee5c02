"""`broadcaster campaign …` and `broadcaster audit`: campaign files, lifecycle, approval, preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor, bind_actor
from broadcaster.audience import parse_selector, recipients
from broadcaster.campaigns import CheckedFile, area_notes, check_campaign_file, find_campaign, save_campaign
from broadcaster.cli.common import AsOption, actor, err, friendly, out, report_problems, settings, unit_of_work
from broadcaster.errors import UserError
from broadcaster.letters import letter_file
from broadcaster.models import AuditEntry, Campaign
from broadcaster.problems import InvalidInput, Problem
from broadcaster.rendering import Composer
from broadcaster.versions import (
    check_all,
    check_for_changes,
    composer_for,
    current_content,
    describe_change,
    version_in_force,
)
from channels.base import Bulletin, Recipient

app = typer.Typer(help="Campaigns: load, check, approve, pause, preview.", no_args_is_help=True)


def _report(checked: CheckedFile) -> None:
    if checked.problems:
        report_problems(InvalidInput(checked.source, checked.problems))
    for warning in checked.warnings:
        err.print(f"[yellow]warning:[/] {escape(checked.source)}: {escape(str(warning))}")


def _one_file_per_campaign(results: list[CheckedFile]) -> None:
    """Two files of one campaign in one `add`: which one would win is not the user's intent, so neither."""
    first: dict[str, str] = {}
    for checked in results:
        if checked.spec is None:
            continue
        slug = checked.spec.campaign
        if slug in first:
            checked.problems.append(
                Problem("campaign", f"'{slug}' is also the campaign of {first[slug]}; load one file per campaign")
            )
        else:
            first[slug] = checked.source


@app.command()
@friendly
def validate(files: Annotated[list[Path], typer.Argument(help="Campaign files (YAML).")]) -> None:
    """Check campaign files against the directory and templates; every problem of every file is listed."""
    with unit_of_work() as session:
        results = [check_campaign_file(session, path, settings()) for path in files]
        notes = {
            checked.source: area_notes(session, checked.spec)
            for checked in results
            if checked.spec is not None and not checked.problems
        }
    for checked in results:
        if checked.spec is not None and not checked.problems:
            out.print(f"[green]ok[/] {checked.source}: campaign '{checked.spec.campaign}' is valid")
            for note in notes.get(checked.source, []):
                out.print(f"  {note}", markup=False)
        _report(checked)
    if any(checked.problems for checked in results):
        raise typer.Exit(1)


@app.command()
@friendly
def add(
    files: Annotated[list[Path], typer.Argument(help="Campaign files (YAML).")], as_: str | None = AsOption
) -> None:
    """Load campaign files as drafts (or update drafts); changes are recorded in the audit log.

    Every file is checked first; if any has a problem, none is loaded.
    """
    who = actor(as_)
    with unit_of_work() as session:
        bind_actor(session, who)
        results = [check_campaign_file(session, path, settings()) for path in files]
        _one_file_per_campaign(results)
        for checked in results:
            _report(checked)
        if any(checked.problems or checked.spec is None for checked in results):
            err.print("nothing was loaded")
            raise typer.Exit(1)
        for checked in results:
            assert checked.spec is not None
            campaign, created = save_campaign(session, checked.spec, who.login, settings())
            verb = "added" if created else "updated"
            out.print(f"{verb} campaign '{campaign.slug}' ({campaign.status})")
            _report_changes(campaign.slug, check_for_changes(session, campaign, settings(), who.login))


def _report_changes(slug: str, changes: list[dict[str, Any]]) -> None:
    if changes:
        where = ", ".join(str(change.get("template") or change.get("field")) for change in changes)
        out.print(
            f"[yellow]campaign '{slug}' changed since its version was fixed ({where}): it is back to draft "
            f"and needs approval again; the difference is in 'broadcaster audit {slug}'[/]"
        )


@app.command()
@friendly
def check(
    slugs: Annotated[list[str] | None, typer.Argument(help="Campaigns (default: all submitted or approved).")] = None,
    as_: str | None = AsOption,
) -> None:
    """Compare campaigns with their templates and issuer as they now are; a change needs approval again."""
    who = actor(as_)
    with unit_of_work() as session:
        if slugs:
            found = {
                slug: check_for_changes(session, find_campaign(session, slug), settings(), who.login) for slug in slugs
            }
        else:
            found = check_all(session, settings(), who.login)
        for slug, changes in found.items():
            _report_changes(slug, changes)
        if not any(found.values()):
            out.print("no campaign changed since its version was fixed")


def _status_style(status: str) -> str:
    return {"approved": "green", "active": "bold green", "paused": "yellow", "cancelled": "red"}.get(status, "")


@app.command("list")
@friendly
def list_() -> None:
    """All campaigns with their status."""
    with unit_of_work() as session:
        table = Table(title="campaigns")
        for column in ("campaign", "number", "status", "priority", "valid", "channels", "submitted by", "approved by"):
            table.add_column(column)
        for campaign in session.scalars(select(Campaign).order_by(Campaign.valid_from, Campaign.slug)):
            style = _status_style(campaign.status)
            table.add_row(
                campaign.slug,
                campaign.number,
                f"[{style}]{campaign.status}[/]" if style else campaign.status,
                campaign.priority,
                f"{campaign.valid_from} → {campaign.valid_until}",
                ", ".join(channel.channel for channel in campaign.channels),
                campaign.submitted_by or "",
                campaign.approved_by or "",
            )
        out.print(table)


@app.command()
@friendly
def show(slug: str) -> None:
    """One campaign: its fields, channels, audiences and timetable rules."""
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        out.print(f"[bold]{campaign.slug}[/]  {campaign.number}  V/v {campaign.subject}")
        out.print(
            f"issuer {campaign.issuer.slug} · status {campaign.status} · priority {campaign.priority} · "
            f"valid {campaign.valid_from} → {campaign.valid_until} · template {campaign.template} · "
            f"locales {', '.join(campaign.locales)}"
        )
        version = version_in_force(session, campaign)
        if version is not None:
            approved = f" · approved by {version.approved_by}" if version.approved_by else ""
            out.print(
                f"version {version.number} (sha256 {version.fingerprint[:12]}) · drafted by {version.drafted_by} · "
                f"submitted by {version.submitted_by}{approved}"
            )
        table = Table(title="channels")
        for column in ("channel", "audience", "areas", "options", "timetable", "paused"):
            table.add_column(column)
        zone = settings().zone
        for channel in campaign.channels:
            rules = []
            for rule in channel.rules:
                if rule.kind == "once" and rule.at is not None:
                    rules.append(f"once at {rule.at.astimezone(zone):%Y-%m-%d %H:%M}")
                elif rule.kind == "cron":
                    rules.append(f"cron '{rule.cron}' {rule.starts or ''}…{rule.ends or ''}")
                else:
                    rules.append(f"slots {', '.join(rule.slots or [])} {rule.starts or ''}…{rule.ends or ''}")
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
        campaign = operations.change_status(session, who, slug, action, reason, settings())
        out.print(f"campaign '{slug}' is now {campaign.status}")


@app.command()
@friendly
def submit(slug: str, as_: str | None = AsOption) -> None:
    """Submit a draft for approval."""
    _transition(slug, "submit", actor(as_))


@app.command()
@friendly
def approve(slug: str, as_: str | None = AsOption) -> None:
    """Approve a submitted campaign (not by the person who submitted it)."""
    _transition(slug, "approve", actor(as_))


@app.command("return")
@friendly
def return_(
    slug: str, reason: Annotated[str, typer.Option(help="Why it goes back.")], as_: str | None = AsOption
) -> None:
    """Send a submitted campaign back to draft."""
    _transition(slug, "return", actor(as_), reason)


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


def _find_recipient(
    session: Session, composer: Composer, campaign: Campaign, channel: str, wanted: str | None, locale: str | None
) -> Recipient:
    """The named recipient; else the first whose locale is the one asked for; else simply the first."""
    campaign_channel = next(c for c in campaign.channels if c.channel == channel)
    selectors = [parse_selector(text) for text in campaign_channel.audience]
    first = None
    for recipient in recipients(session, composer.adapter.recipient_kind, selectors, campaign_channel.areas):
        names = (recipient.address.lower(), recipient.name.lower(), str(recipient.details.get("key", "")).lower())
        if wanted is not None:
            if wanted.lower() in names:
                return recipient
            continue
        if locale is None or composer.locale_for(recipient) == locale:
            return recipient
        first = first or recipient
    if first is not None:
        return first
    if wanted:
        raise UserError(f"no recipient of the {channel} audience of '{campaign.slug}' matches '{wanted}'")
    raise UserError(f"the {channel} audience of '{campaign.slug}' is empty")


def _preview_one(
    session: Session, campaign: Campaign, channel: str, locale: str | None, wanted: str | None
) -> Bulletin:
    campaign_channel = next((c for c in campaign.channels if c.channel == channel), None)
    if campaign_channel is None:
        known = ", ".join(c.channel for c in campaign.channels)
        raise UserError(f"campaign '{campaign.slug}' has no {channel} channel (it has {known})")
    # What was submitted or approved is shown as it was fixed, not as the files on disk now read.
    version = version_in_force(session, campaign)
    content = version.content if version is not None else current_content(session, campaign, settings())
    composer = composer_for(content, channel, settings())
    recipient = _find_recipient(session, composer, campaign, channel, wanted, locale)
    if locale is not None:
        recipient = Recipient(
            recipient.kind,
            recipient.address,
            recipient.name,
            {**recipient.details, "locale": locale, "locales": [locale]},
        )
    fire_at = _first_fire(campaign_channel.rules, campaign, recipient)
    slot = (campaign_channel.rules[0].slots or [None])[0] if campaign_channel.rules else None
    return composer.compose("preview", recipient, fire_at, slot)


def _first_fire(rules, campaign: Campaign, recipient: Recipient):  # type: ignore[no-untyped-def]
    from datetime import datetime, time

    zone = settings().zone
    rule = rules[0] if rules else None
    if rule is not None and rule.at is not None:
        return rule.at.astimezone(zone)
    day = (rule.starts if rule is not None and rule.starts else None) or campaign.valid_from
    slot_time = "08:00"
    if rule is not None and rule.slots:
        slot_time = recipient.details.get("slots", {}).get(rule.slots[0], slot_time)
    return datetime.combine(day, time.fromisoformat(slot_time), zone)


def _write_parts(folder: Path, bulletin: Bulletin, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for part, text in bulletin.parts.items():
        path = folder / f"{stem}.{part}"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _write_letter(folder: Path, bulletin: Bulletin, name: str | None = None) -> Path | None:
    """The letter's A4 PDF as it is attached to the e-mail (named `<number>-<date>.pdf` unless given a name)."""
    attachment = letter_file(bulletin.parts, bulletin.details)
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
) -> None:
    """Print exactly what would be sent, or write every rendering of a campaign to a folder for review."""
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        if all_ is not None:
            for campaign_channel in campaign.channels:
                for each_locale in campaign.locales:
                    bulletin = _preview_one(session, campaign, campaign_channel.channel, each_locale, None)
                    folder = all_ / campaign_channel.channel
                    for path in _write_parts(folder, bulletin, each_locale):
                        out.print(f"wrote {path}")
                    if pdf := _write_letter(folder, bulletin, f"{each_locale}.pdf"):
                        out.print(f"wrote {pdf}")
            return
        if channel is None:
            raise UserError("choose a channel with --channel (or write them all with --all FOLDER)")
        bulletin = _preview_one(session, campaign, channel, locale, recipient)
        to = bulletin.recipient
        who = f"{to.name} <{to.address}>" if to.name else to.address
        when = f"{bulletin.details['fire_at']:%Y-%m-%d %H:%M}"
        out.print(f"[dim]to {escape(who)} · locale {bulletin.details['locale']} · at {when}[/]")
        if "subject" in bulletin.parts:
            out.print(f"Subject: {bulletin.parts['subject'].strip()}", markup=False)
        out.print(bulletin.parts.get("txt", ""), markup=False)
        if "html" in bulletin.parts:
            folder = settings().output_dir / "preview" / slug
            html = _write_parts(
                folder,
                Bulletin(bulletin.key, bulletin.recipient, {"html": bulletin.parts["html"]}, bulletin.campaign),
                f"{channel}-{bulletin.details['locale']}",
            )
            if pdf := _write_letter(folder, bulletin):
                out.print(f"[dim]PDF attached: {pdf}[/]")
            out.print(f"[dim]HTML part: {html[0]}[/]")


# ---- audit --------------------------------------------------------------------------------------


def audit(slug: str) -> None:
    """Everything that happened to a campaign: who, when, what."""
    with unit_of_work() as session:
        campaign = find_campaign(session, slug)
        table = Table(title=f"audit log of {slug}")
        for column in ("when", "who", "action", "details"):
            table.add_column(column)
        zone = settings().zone
        query = select(AuditEntry).where(AuditEntry.campaign_id == campaign.id).order_by(AuditEntry.id)
        for entry in session.scalars(query):
            table.add_row(
                f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", entry.actor, entry.action, _describe(entry.details)
            )
        out.print(table)


def _describe(details: dict[str, object]) -> str:
    if "changes" in details and isinstance(details["changes"], list):
        return "\n".join(describe_change(change) for change in details["changes"])
    if "spec" in details:
        return "created from campaign file"
    return ", ".join(f"{key} {value}" for key, value in details.items())
