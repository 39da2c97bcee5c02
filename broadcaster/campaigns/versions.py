"""Campaign versions: exactly what two people approved, and the only thing workers render.

A version is fixed when a campaign is submitted: the campaign document, the text of every template it
reaches (layouts and includes too), the issuer data the templates read and the channel options, stored
in the database with a sha256 fingerprint. Approval approves that version; the campaign records its
number, and workers and previews of an approved campaign render from it alone, so a file edited on
disk afterwards cannot change what goes out.

When a change is looked for (`campaign add`, `campaign check`, the scheduler at start and at each of
its resyncs), the campaign as it now stands — its row, its templates on disk, its issuer — is
fingerprinted again; a difference from the version in force is recorded in the audit log as a
readable diff and the campaign returns to draft, to be submitted and approved again. Until then
nothing new is sent: what went out before the check was the approved text.

Public API: `approved_version`, `latest_version`, `version_in_force`, `freeze`, `current_content`,
`fingerprint`, `differences`, `describe_change`, `check_for_changes`, `check_all`, `view_of`,
`environment_for`, `composer_for`, `SendingComposer`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.campaigns.checks import content_problems, view_of_spec
from broadcaster.campaigns.file import CampaignSpec, parse_campaign
from broadcaster.campaigns.store import check_campaign, find_issuer
from broadcaster.campaigns.texts import reachable, text_changes
from broadcaster.errors import UserError
from broadcaster.models import AuditEntry, Campaign, CampaignRevision, CampaignVersion, Issuer, Status
from broadcaster.phones import national_digits
from broadcaster.problems import InvalidInput
from broadcaster.rendering import CampaignView, ChannelTemplates, Composer, build_environment, issuer_context
from broadcaster.sandbox import TextsLoader
from broadcaster.settings import Settings
from channels.base import Bulletin, ChannelAdapter, Recipient, channel_class, read_aloud_problems

FORMAT = 1
# Template sets published beside the channels, kept in every version for all the locales written:
# the CAP alert's texts (`<template>/<locale>/cap.<part>.j2`).
PUBLISHED_PARTS = ("cap",)
# Statuses whose content is fixed in a version and so can drift from what is on disk.
FIXED = frozenset({Status.SUBMITTED, Status.APPROVED, Status.ACTIVE, Status.PAUSED})


class ContentRefused(UserError):
    """A bulletin built for sending fails the content checks; its channel stops with this sentence."""


class NoApprovedVersion(UserError):
    """A campaign that may send has no approved version (it was approved before versions were kept)."""


# ---- what a campaign would send, as data -----------------------------------------------------------


def current_content(session: Session, campaign: Campaign, settings: Settings) -> dict[str, Any]:
    """Everything that determines what the campaign sends, as it stands now in the database."""
    channels = {channel.channel: (channel.audience, channel.areas, channel.options) for channel in campaign.channels}
    return _content(
        CampaignView.of(campaign), campaign.issuer, channels, campaign.texts, campaign.variables, campaign.spec
    )


def content_of_spec(spec: CampaignSpec, texts: Mapping[str, Any], issuer: Issuer) -> dict[str, Any]:
    """What a campaign document and texts not (yet) in the campaign's place would send: a revision, a draft
    sent to the test list. The same content `current_content` gives once they are the campaign's."""
    channels = {
        name: (list(channel.to), list(channel.areas), channel.options) for name, channel in spec.channels.items()
    }
    variables = spec.model_dump(mode="json")["variables"]
    return _content(view_of_spec(spec, issuer), issuer, channels, texts, variables, spec.normalised())


def _content(
    view: CampaignView,
    issuer: Issuer,
    channels: Mapping[str, tuple[list[str], list[str], Mapping[str, Any]]],
    texts: Mapping[str, Any],
    variables: Mapping[str, Any],
    document: Mapping[str, Any],
) -> dict[str, Any]:
    environment = build_environment(TextsLoader(dict(texts)))
    names: set[str] = set()
    for channel in channels:
        templates = ChannelTemplates(environment, view.template, channel, issuer.default_locale)
        for locale in dict.fromkeys([*view.locales, issuer.default_locale]):
            names |= set(templates.files(locale).values())
    published = tuple(f"{part}." for part in PUBLISHED_PARTS)
    names |= {
        name for name in texts if name.startswith(f"{view.template}/") and name.rsplit("/", 1)[-1].startswith(published)
    }
    content: dict[str, Any] = _jsonable(
        {
            "format": FORMAT,
            "campaign": {
                "slug": view.slug,
                "number": view.number,
                "subject": view.subject,
                "priority": view.priority,
                "valid_from": view.valid_from,
                "valid_until": view.valid_until,
                "date": view.dated,
                "template": view.template,
                "locales": list(view.locales),
                "variables": variables,
                "document": document,
            },
            "issuer": {**issuer_context(issuer), "default_locale": issuer.default_locale},
            "channels": {
                name: {"audience": audience, "areas": areas, "options": options}
                for name, (audience, areas, options) in channels.items()
            },
            "templates": reachable(environment, names),
        }
    )
    return content


def _jsonable(value: Any) -> Any:
    """The content exactly as the database will give it back (dates as ISO strings)."""

    def default(item: Any) -> str:
        if isinstance(item, date | datetime):
            return item.isoformat()
        raise TypeError(f"{type(item).__name__} cannot be kept in a version")

    return json.loads(json.dumps(value, default=default, ensure_ascii=False))


def fingerprint(content: Mapping[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---- versions in the database ----------------------------------------------------------------------


def approved_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The version workers send, or None when none has been approved."""
    if campaign.approved_version is None:
        return None
    return numbered(session, campaign, campaign.approved_version)


def published_content(session: Session, campaign: Campaign) -> dict[str, Any]:
    """What the campaign has published: its approved version's content. The public page, its letter, the CAP
    alerts and feed render from it, never from the campaign's working texts or from files."""
    version = approved_version(session, campaign)
    if version is None:
        raise NoApprovedVersion(f"campaign '{campaign.slug}' has no approved version to publish")
    return dict(version.content)


def latest_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The last version fixed for the campaign (the one awaiting approval while it is submitted)."""
    return session.scalar(
        select(CampaignVersion)
        .where(CampaignVersion.campaign_id == campaign.id)
        .order_by(CampaignVersion.number.desc())
        .limit(1)
    )


def version_in_force(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """What the campaign's content is held to now: the submitted version while it awaits approval, the
    approved one while it may send or is paused or over; None for a draft (its content is on disk)."""
    status = Status(campaign.status)
    if status == Status.SUBMITTED:
        return latest_version(session, campaign)
    if status == Status.DRAFT:
        return None
    return approved_version(session, campaign)


def numbered(session: Session, campaign: Campaign, number: int) -> CampaignVersion | None:
    return session.scalar(
        select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == number)
    )


# Audit actions that change what a campaign says: whoever did one since the last approval is an author.
CONTENT_ACTIONS = ("create", "edit", "revise")


def authors(session: Session, campaign: Campaign) -> list[str]:
    """Everyone who changed the campaign's content since its last approval, first author first."""
    last_approval = session.scalar(
        select(func.max(AuditEntry.id)).where(AuditEntry.campaign_id == campaign.id, AuditEntry.action == "approve")
    )
    found = session.scalars(
        select(AuditEntry.actor)
        .where(
            AuditEntry.campaign_id == campaign.id,
            AuditEntry.action.in_(CONTENT_ACTIONS),
            AuditEntry.id > (last_approval or 0),
        )
        .order_by(AuditEntry.id)
    )
    return list(dict.fromkeys(found)) or [campaign.created_by]


def freeze(session: Session, campaign: Campaign, actor: str, settings: Settings) -> CampaignVersion:
    """Fix the campaign's content as a new version, submitted by `actor` (called on submit).

    The campaign is validated again first, against the directory as it is now.
    """
    problems = check_campaign(session, parse_campaign(campaign.spec, campaign.slug), settings, campaign.texts)
    if problems:
        raise InvalidInput(f"campaign '{campaign.slug}' as it would be submitted", problems)
    return _fixed(session, campaign, current_content(session, campaign, settings), actor, settings)


def freeze_revision(session: Session, revision: CampaignRevision, actor: str, settings: Settings) -> CampaignVersion:
    """Fix a revision's content as a new version beside the one in force (called when it is submitted)."""
    campaign = revision.campaign
    spec = parse_campaign(revision.spec, campaign.slug)
    problems = check_campaign(session, spec, settings, revision.texts)
    if problems:
        raise InvalidInput(f"the revision of campaign '{campaign.slug}' as it would be submitted", problems)
    issuer = find_issuer(session, spec.issuer)
    assert issuer is not None  # checked above
    return _fixed(session, campaign, content_of_spec(spec, revision.texts, issuer), actor, settings)


def _fixed(
    session: Session, campaign: Campaign, content: dict[str, Any], actor: str, settings: Settings
) -> CampaignVersion:
    number = (
        session.scalar(select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == campaign.id)) or 0
    ) + 1
    written_by = authors(session, campaign)
    version = CampaignVersion(
        campaign_id=campaign.id,
        number=number,
        content=content,
        fingerprint=fingerprint(content),
        drafted_by=written_by[-1],
        authors=written_by,
        submitted_by=actor,
        submitted_at=settings.clock.now(),
    )
    session.add(version)
    session.flush()
    return version


class ApprovalBar(Enum):
    """Why a person may not approve a version (the two-person rule)."""

    SUBMITTER = "submitted it"
    AUTHOR = "wrote part of it"


def approval_bar(version: CampaignVersion, actor: str) -> ApprovalBar | None:
    """What bars `actor` from approving this version, or None: the one rule every face asks."""
    if actor == version.submitted_by:
        return ApprovalBar.SUBMITTER
    if actor in (version.authors or [version.drafted_by]):
        return ApprovalBar.AUTHOR
    return None


def refuse_approval(version: CampaignVersion, campaign: Campaign, actor: str) -> str | None:
    """Why `actor` may not approve this version (two-person rule), as a sentence, or None."""
    bar = approval_bar(version, actor)
    if bar == ApprovalBar.SUBMITTER:
        return (
            f"'{actor}' submitted campaign '{campaign.slug}' and so cannot approve it: "
            "a second person must approve (two-person rule)"
        )
    if bar == ApprovalBar.AUTHOR:
        return (
            f"'{actor}' wrote part of version {version.number} of campaign '{campaign.slug}' and so cannot approve "
            "it: a second person must approve (two-person rule)"
        )
    return None


def approve(version: CampaignVersion, campaign: Campaign, actor: str, now: datetime) -> None:
    version.approved_by, version.approved_at = actor, now
    campaign.approved_version = version.number


# ---- detecting change ------------------------------------------------------------------------------


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed between two contents: a unified diff per template, old and new value per field."""
    changes = text_changes(old.get("templates", {}), new.get("templates", {}))
    for part in ("campaign", "issuer", "channels"):
        changes += _field_changes(old.get(part), new.get(part), part)
    return changes


def _field_changes(old: Any, new: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            changes += _field_changes(old.get(key), new.get(key), f"{path}.{key}")
        return changes
    return [] if old == new else [{"field": path, "old": old, "new": new}]


def describe_change(change: Mapping[str, Any]) -> str:
    """One change as people read it in the audit log."""
    if "template" in change:
        return str(change["diff"]).rstrip("\n")
    return f"{change['field']}: {change['old']!r} → {change['new']!r}"


def changes_since_fixed(session: Session, campaign: Campaign, settings: Settings) -> list[dict[str, Any]]:
    """How what the campaign would send now differs from the version its content is held to.

    A campaign's texts change only by an edit, which an approved campaign takes as a revision; what can
    change under it is its issuer (a hotline, a reading). The version keeps sending; this tells the
    drafter and the approver, who make a revision to send the new content. Empty: nothing changed.
    """
    if Status(campaign.status) not in FIXED:
        return []
    version = version_in_force(session, campaign)
    if version is None:
        return []
    content = current_content(session, campaign, settings)
    if fingerprint(content) == version.fingerprint:
        return []
    return differences(version.content, content)


def changed_campaigns(session: Session, settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """`changes_since_fixed` for every campaign whose content is fixed; slug → its changes, when any."""
    found = {}
    for campaign in session.scalars(select(Campaign).where(Campaign.status.in_(FIXED)).order_by(Campaign.id)):
        changes = changes_since_fixed(session, campaign, settings)
        if changes:
            found[campaign.slug] = changes
    return found


# ---- rendering from a version ----------------------------------------------------------------------


def view_of(content: Mapping[str, Any]) -> CampaignView:
    fields = content["campaign"]
    return CampaignView.build(
        slug=fields["slug"],
        number=fields["number"],
        subject=fields["subject"],
        priority=fields["priority"],
        valid_from=date.fromisoformat(fields["valid_from"]),
        valid_until=date.fromisoformat(fields["valid_until"]),
        dated=date.fromisoformat(fields["date"]),
        template=fields["template"],
        locales=tuple(fields["locales"]),
        variables=fields["variables"],
    )


def environment_for(content: Mapping[str, Any], *, digits: bool = False) -> SandboxedEnvironment:
    """The template sandbox over a version's stored templates (names as under the templates folder)."""
    return build_environment(TextsLoader(dict(content["templates"])), digits=digits)


def composer_for(content: Mapping[str, Any], channel: str, settings: Settings, *, digits: bool = False) -> Composer:
    """A Composer over a version's content (`version.content`, or `current_content` for a draft):
    its templates come from the content, never from disk."""
    options = content["channels"].get(channel)
    if options is None:
        raise UserError(f"campaign '{content['campaign']['slug']}' has no {channel} channel in this version")
    issuer = content["issuer"]
    environment = environment_for(content, digits=digits)
    adapter = channel_class(channel)
    slug = content["campaign"]["slug"]
    return Composer(
        adapter=adapter,
        view=view_of(content),
        issuer=issuer,
        templates=ChannelTemplates(environment, content["campaign"]["template"], channel, issuer["default_locale"]),
        channel_options=options["options"],
        reading_rate=settings.reading_rate,
        content_dir=settings.content_dir,
        links={"verification_url": settings.warning_page_url(slug)} if adapter.default_limits.links_allowed else {},
    )


# What a test send's text starts with, so nobody takes it for the real warning (GSM-7: no part grows to UCS-2).
TEST_MARK = "[THU NGHIEM] "


@dataclass
class SendingComposer:
    """Builds bulletins for sending from an approved version's content (or, for a test send, a draft's),
    and runs the content checks on them.

    The checks read the text with numbers left in digits (a second composer); a text shared by every
    recipient of a locale and moment is checked once, a personal one for each recipient. A test send's
    text is marked as one after the checks.
    """

    content: Mapping[str, Any]
    described: str  # "version 3", "the draft": what a refusal names
    channel: str
    settings: Settings
    test: bool = False
    spoken: Composer = field(init=False)
    digits: Composer = field(init=False)
    _checked: set[tuple[str, datetime, str | None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.spoken = composer_for(self.content, self.channel, self.settings)
        self.digits = composer_for(self.content, self.channel, self.settings, digits=True)
        self.hotlines = [national_digits(hotline["number"]) for hotline in self.spoken.issuer["hotlines"]]

    @property
    def adapter(self) -> type[ChannelAdapter]:
        return self.spoken.adapter

    def compose(
        self,
        key: str,
        recipient: Recipient,
        fire_at: datetime,
        slot: str | None = None,
        attempt: int = 1,
        unanswered_before: bool | None = None,
    ) -> Bulletin:
        bulletin = self.spoken.compose(key, recipient, fire_at, slot, attempt, unanswered_before)
        locale = self.spoken.locale_for(recipient)
        moment = (locale, fire_at, slot)
        if moment in self._checked:
            return self._marked(bulletin)
        shown = self.digits.compose(key, recipient, fire_at, slot, attempt)
        problems = content_problems(
            self.spoken.adapter, shown.parts, self.spoken.options, self.hotlines, bulletin.parts
        )
        problems += read_aloud_problems(self.spoken.adapter, bulletin.parts)
        if problems:
            raise ContentRefused(
                f"the {self.channel} text of {self.described} fails the content checks ({locale}): "
                + "; ".join(problems)
            )
        if self.spoken.shares(moment) and self.digits.shares(moment):  # the same text for everyone: checked once
            self._checked.add(moment)
        return self._marked(bulletin)

    def _marked(self, bulletin: Bulletin) -> Bulletin:
        if not self.test:
            return bulletin
        parts = {
            name: TEST_MARK + text if name in ("txt", "subject") else text for name, text in bulletin.parts.items()
        }
        return replace(bulletin, parts=parts)
