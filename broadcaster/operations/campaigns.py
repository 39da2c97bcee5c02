"""Campaigns: read and check files or uploads, save drafts, change status, resume a channel, read the audit log."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from broadcaster import audit
from broadcaster.accounts import Actor, bind_actor
from broadcaster.campaigns import lifecycle
from broadcaster.errors import TransitionRefused, UserError
from broadcaster.models import AuditEntry, Campaign

if TYPE_CHECKING:
    from broadcaster.campaigns.file import CampaignSpec
    from broadcaster.campaigns.store import CheckedFile
    from broadcaster.problems import InvalidInput, Problem
    from broadcaster.settings import Settings

# The campaign file format, the checks and the templates load only for the operations that need them:
# listing campaigns (the command people run most) should not wait for Jinja2 and every adapter.

# The permission each status change needs.
LIFECYCLE_PERMISSIONS = {
    "submit": "campaigns:draft",
    "return": "campaigns:approve",
    "approve": "campaigns:approve",
    "cancel": "campaigns:approve",
    "pause": "campaigns:send",
    "resume": "campaigns:send",
    "discard-revision": "campaigns:draft",
}
# What submit, approve and return act on when an approved campaign has a revision: the revision.
REVISION_ACTIONS = ("submit", "approve", "return", "discard-revision")


@dataclass(frozen=True)
class CampaignSummary:
    slug: str
    number: str
    subject: str
    status: str
    priority: str
    valid_from: date
    valid_until: date
    channels: list[str]
    created_by: str
    submitted_by: str | None
    approved_by: str | None
    revision: str | None = None  # the status of the revision drafted beside an approved campaign, if any

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignSummary:
        return cls(
            slug=campaign.slug,
            number=campaign.number,
            subject=campaign.subject,
            status=campaign.status,
            priority=campaign.priority,
            valid_from=campaign.valid_from,
            valid_until=campaign.valid_until,
            channels=[item.channel for item in campaign.channels],
            created_by=campaign.created_by,
            submitted_by=campaign.submitted_by,
            approved_by=campaign.approved_by,
            revision=campaign.revision.status if campaign.revision is not None else None,
        )


@dataclass(frozen=True)
class TimetableRule:
    kind: str  # once, cron or slots
    at: datetime | None = None
    cron: str | None = None
    slots: list[str] = field(default_factory=list)
    starts: date | None = None
    ends: date | None = None


@dataclass(frozen=True)
class ChannelDetail:
    channel: str
    audience: list[str]
    areas: list[str]
    options: dict[str, Any]
    rules: list[TimetableRule]
    paused: bool
    pause_reason: str | None


@dataclass(frozen=True)
class VersionInfo:
    """The version in force: what was fixed at submit, and the people behind it."""

    number: int
    fingerprint: str  # sha256 of the fixed content
    authors: list[str]  # everyone who changed its content since the approval before
    submitted_by: str
    approved_by: str | None


@dataclass(frozen=True)
class CampaignDetail:
    summary: CampaignSummary
    issuer: str
    template: str
    locales: list[str]
    channels: list[ChannelDetail]
    spec: dict[str, Any]
    version: VersionInfo | None = None


@dataclass(frozen=True)
class SavedCampaign:
    campaign: CampaignSummary
    created: bool
    # Saved as the revision of an approved campaign, which keeps sending its approved version meanwhile.
    revision: bool = False


@dataclass(frozen=True)
class FileCheck:
    """One campaign file checked: the campaign it holds when readable, its problems, warnings and notes."""

    source: str
    campaign: str | None
    problems: list[Problem]
    warnings: list[Problem]
    notes: list[str]  # where an audience's areas have ended and what they reach instead

    @property
    def valid(self) -> bool:
        return self.campaign is not None and not self.problems


@dataclass(frozen=True)
class Added:
    """The files checked, and the campaigns saved: none unless every file was valid."""

    checks: list[FileCheck]
    saved: list[SavedCampaign]


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]
    client: str | None


# ---- reading campaign files, uploads and JSON ---------------------------------------------------


def read_file(path: Path) -> CampaignSpec:
    from broadcaster.campaigns.file import load_campaign_file

    return load_campaign_file(path)


def read_upload(content: bytes, filename: str) -> CampaignSpec:
    """An uploaded campaign file, read exactly as a file on disk is read; problems name the upload."""
    from broadcaster.campaigns.file import load_campaign_file
    from broadcaster.paths import upload_name
    from broadcaster.problems import InvalidInput

    name = upload_name(filename, "campaign.yaml")
    with tempfile.TemporaryDirectory(prefix="broadcaster-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            return load_campaign_file(path)
        except InvalidInput as exc:
            raise _renamed(exc, str(path), name) from None


def _renamed(exc: InvalidInput, old: str, new: str) -> InvalidInput:
    from broadcaster.problems import InvalidInput

    problems = [type(item)(item.where.replace(old, new), item.message.replace(old, new)) for item in exc.problems]
    return InvalidInput(exc.source.replace(old, new), problems)


def read_data(data: Any, source: str = "body") -> CampaignSpec:
    """A campaign given as data (a JSON body): the same structure and checks as a file."""
    from broadcaster.campaigns.file import parse_campaign

    return parse_campaign(data, source)


# ---- checking and saving ------------------------------------------------------------------------


def validate(
    session: Session,
    actor: Actor,
    spec: CampaignSpec,
    source: str,
    settings: Settings,
    texts: dict[str, Any] | None = None,
) -> CampaignSpec:
    """Every problem with the campaign against the directory and its texts rendered, or the campaign itself
    (`texts`: by default those the file stands for — the campaign's own, or the shared template's)."""
    from broadcaster.campaigns.store import check_campaign
    from broadcaster.problems import InvalidInput

    actor.require("campaigns:draft")
    problems = check_campaign(session, spec, settings, texts)
    if problems:
        raise InvalidInput(source, problems)
    return spec


def save(
    session: Session,
    actor: Actor,
    spec: CampaignSpec,
    source: str,
    settings: Settings,
    texts: dict[str, Any] | None = None,
) -> SavedCampaign:
    """Check, then save: a draft in place (a submitted one returns to draft), an approved campaign as its
    revision; audited with what changed, text by text."""
    validate(session, actor, spec, source, settings, texts)
    return _saved(session, actor, spec, settings, texts)


def _saved(
    session: Session, actor: Actor, spec: CampaignSpec, settings: Settings, texts: dict[str, Any] | None = None
) -> SavedCampaign:
    from broadcaster.campaigns.revisions import revision_of, save_or_revise

    bind_actor(session, actor)
    campaign, created = save_or_revise(session, spec, actor.login, settings, texts)
    return SavedCampaign(CampaignSummary.of(campaign), created, revision_of(session, campaign) is not None)


def check_files(session: Session, actor: Actor, paths: list[Path], settings: Settings) -> list[FileCheck]:
    """Every problem of every campaign file (structure, directory, timetable, templates), and warnings."""
    actor.require("campaigns:draft")
    return [_file_check(session, checked, settings) for checked in _checked_files(session, paths, settings)]


def add_files(session: Session, actor: Actor, paths: list[Path], settings: Settings) -> Added:
    """Check every file, then save each as a draft; if any file has a problem, none is saved. Audited."""
    actor.require("campaigns:draft")
    results = _checked_files(session, paths, settings)
    _one_file_per_campaign(results)
    checks = [_file_check(session, checked, settings) for checked in results]
    if not all(check.valid for check in checks):
        return Added(checks, [])
    return Added(checks, [_saved(session, actor, checked.spec, settings) for checked in results if checked.spec])


def _checked_files(session: Session, paths: list[Path], settings: Settings) -> list[CheckedFile]:
    from broadcaster.campaigns.store import check_campaign_file

    return [check_campaign_file(session, path, settings) for path in paths]


def _file_check(session: Session, checked: CheckedFile, settings: Settings) -> FileCheck:
    from broadcaster.campaigns.store import area_notes

    spec = checked.spec
    notes = area_notes(session, spec, settings.today()) if spec is not None and not checked.problems else []
    slug = spec.campaign if spec is not None else None
    return FileCheck(checked.source, slug, list(checked.problems), list(checked.warnings), notes)


def _one_file_per_campaign(results: list[CheckedFile]) -> None:
    """Two files of one campaign in one load: which one would win is not the user's intent, so neither."""
    from broadcaster.problems import Problem

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


def check_changes(
    session: Session, actor: Actor, slugs: list[str] | None, settings: Settings
) -> dict[str, list[dict[str, Any]]]:
    """Compare campaigns (default: every submitted or approved one) with what they would send now: the issuer
    may have changed since their version was fixed. Nothing changes: the version keeps sending until a
    revision is approved. Slug → its changes (empty: none)."""
    from broadcaster.campaigns.store import find_campaign
    from broadcaster.campaigns.versions import changed_campaigns, changes_since_fixed

    actor.require("campaigns:read")
    if not slugs:
        return changed_campaigns(session, settings)
    return {slug: changes_since_fixed(session, find_campaign(session, slug), settings) for slug in slugs}


# ---- reading campaigns --------------------------------------------------------------------------


def list_campaigns(session: Session, actor: Actor) -> list[CampaignSummary]:
    actor.require("campaigns:read")
    # Each summary names the channels and the revision: loaded for all the campaigns at once, not one by one.
    query = (
        select(Campaign)
        .options(selectinload(Campaign.channels), selectinload(Campaign.revision))
        .order_by(Campaign.valid_from, Campaign.slug)
    )
    return [CampaignSummary.of(campaign) for campaign in session.scalars(query)]


def show(session: Session, actor: Actor, slug: str) -> CampaignDetail:
    from broadcaster.campaigns.store import find_campaign
    from broadcaster.campaigns.versions import version_in_force

    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    fixed = version_in_force(session, campaign)
    version = (
        VersionInfo(fixed.number, fixed.fingerprint, list(fixed.authors), fixed.submitted_by, fixed.approved_by)
        if fixed is not None
        else None
    )
    channels = [
        ChannelDetail(
            channel=item.channel,
            audience=list(item.audience),
            areas=list(item.areas),
            options=dict(item.options),
            rules=[
                TimetableRule(rule.kind, rule.at, rule.cron, list(rule.slots or []), rule.starts, rule.ends)
                for rule in item.rules
            ],
            paused=item.paused,
            pause_reason=item.pause_reason,
        )
        for item in campaign.channels
    ]
    return CampaignDetail(
        summary=CampaignSummary.of(campaign),
        issuer=campaign.issuer.slug,
        template=campaign.template,
        locales=list(campaign.locales),
        channels=channels,
        spec=dict(campaign.spec),
        version=version,
    )


# ---- the lifecycle ------------------------------------------------------------------------------


def change_status(
    session: Session, actor: Actor, slug: str, action: str, reason: str | None = None, *, settings: Settings
) -> CampaignSummary:
    """submit, return (with a reason), approve (by another account), pause, resume or cancel; audited.

    An approved campaign with a revision: submit, approve and return act on the revision (the campaign
    keeps sending its approved version), and discard-revision drops it."""
    if action not in LIFECYCLE_PERMISSIONS:
        raise UserError(f"'{action}' is not a campaign action ({', '.join(LIFECYCLE_PERMISSIONS)})")
    from broadcaster.campaigns import revisions
    from broadcaster.campaigns.store import find_campaign

    actor.require(LIFECYCLE_PERMISSIONS[action])
    if action == "return" and not (reason and reason.strip()):
        raise UserError("say why the campaign goes back: a reason is required")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    if campaign.revision is not None and action in REVISION_ACTIONS:
        if action == "submit":
            revisions.submit(session, campaign, actor.login, settings)
        elif action == "approve":
            revisions.approve(session, campaign, actor.login, settings)
        elif action == "return":
            revisions.send_back(session, campaign, actor.login, str(reason).strip())
        else:
            revisions.discard(session, campaign, actor.login)
    elif action == "discard-revision":
        raise TransitionRefused(f"campaign '{slug}' has no revision to discard")
    else:
        lifecycle.apply(session, campaign, action, actor.login, reason, settings=settings)
    return CampaignSummary.of(campaign)


def start_revision(session: Session, actor: Actor, slug: str, settings: Settings) -> CampaignSummary:
    """A revision of an approved campaign with its content as it stands, so that what changed under it (its
    issuer: a hotline, a reading) can be submitted and approved; the approved version sends meanwhile."""
    from broadcaster.campaigns import revisions
    from broadcaster.campaigns.store import find_campaign

    actor.require("campaigns:draft")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    revisions.start(session, campaign, actor.login, "to send what changed since the approval", settings.clock.now())
    return CampaignSummary.of(campaign)


def resume_channel(session: Session, actor: Actor, slug: str, channel: str) -> CampaignSummary:
    """Resume one channel that was paused after a permanent failure; audited with the reason it had."""
    from broadcaster.campaigns.store import find_campaign

    actor.require("campaigns:send")
    campaign = find_campaign(session, slug)
    item = next((c for c in campaign.channels if c.channel == channel), None)
    if item is None or not item.paused:
        raise UserError(f"the {channel} channel of '{slug}' is not paused")
    bind_actor(session, actor)
    audit.record(session, campaign, actor.login, "resume-channel", channel=channel, was=item.pause_reason)
    item.paused, item.pause_reason = False, None
    return CampaignSummary.of(campaign)


# ---- the audit log ------------------------------------------------------------------------------


def audit_log(session: Session, actor: Actor, slug: str) -> list[AuditRecord]:
    """Everything that happened to a campaign, oldest first."""
    from broadcaster.campaigns.store import find_campaign

    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    query = select(AuditEntry).where(AuditEntry.campaign_id == campaign.id).order_by(AuditEntry.id)
    return [
        AuditRecord(entry.at, entry.actor, entry.action, dict(entry.details), entry.client)
        for entry in session.scalars(query)
    ]
