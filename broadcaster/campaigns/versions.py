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

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jinja2 import DictLoader, TemplateError, TemplateNotFound, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.checks import content_problems
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.store import check_campaign
from broadcaster.errors import UserError
from broadcaster.models import AuditEntry, Campaign, CampaignVersion, Status
from broadcaster.phones import national_digits
from broadcaster.problems import InvalidInput
from broadcaster.rendering import CampaignView, ChannelTemplates, Composer, build_environment, issuer_context
from broadcaster.settings import Settings
from channels.base import Bulletin, ChannelAdapter, Recipient, channel_class

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
    """Everything that determines what the campaign sends, as it stands now in the database and on disk."""
    view = CampaignView.of(campaign)
    issuer = {**issuer_context(campaign.issuer), "default_locale": campaign.issuer.default_locale}
    environment = build_environment(settings.templates_dir)
    names: set[str] = set()
    for channel in campaign.channels:
        templates = ChannelTemplates(environment, view.template, channel.channel, campaign.issuer.default_locale)
        for locale in dict.fromkeys([*view.locales, campaign.issuer.default_locale]):
            names |= set(templates.files(locale).values())
    assert environment.loader is not None
    published = tuple(f"{part}." for part in PUBLISHED_PARTS)
    names |= {
        name
        for name in environment.loader.list_templates()
        if name.startswith(f"{view.template}/") and name.rsplit("/", 1)[-1].startswith(published)
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
                "variables": campaign.variables,
                "document": campaign.spec,
            },
            "issuer": issuer,
            "channels": {
                channel.channel: {"audience": channel.audience, "areas": channel.areas, "options": channel.options}
                for channel in campaign.channels
            },
            "templates": _sources(environment, names),
        }
    )
    return content


def _sources(environment: SandboxedEnvironment, names: Iterable[str]) -> dict[str, str]:
    """The text of each template and of every template it extends, includes or imports."""
    loader = environment.loader
    assert loader is not None
    pending, sources = sorted(names), {}
    while pending:
        name = pending.pop()
        if name in sources:
            continue
        try:
            sources[name] = loader.get_source(environment, name)[0]
        except (TemplateNotFound, OSError, UnicodeDecodeError):
            continue  # a layout that is gone or unreadable is absent from the content: a change, if it was there
        try:
            referenced = meta.find_referenced_templates(environment.parse(sources[name]))
        except TemplateError:
            continue  # validation reports the error with its line; the text is kept as it is
        pending += [other for other in referenced if other and other not in sources]
    return dict(sorted(sources.items()))


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
    return _numbered(session, campaign, campaign.approved_version)


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


def _numbered(session: Session, campaign: Campaign, number: int) -> CampaignVersion | None:
    return session.scalar(
        select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == number)
    )


def drafter(session: Session, campaign: Campaign) -> str:
    """Who last edited the campaign: the audit log's last create or edit."""
    actor = session.scalar(
        select(AuditEntry.actor)
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.action.in_(["create", "edit"]))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return actor or campaign.created_by


def freeze(session: Session, campaign: Campaign, actor: str, settings: Settings) -> CampaignVersion:
    """Fix the campaign's content as a new version, submitted by `actor` (called on submit).

    The campaign is validated again first, against the directory and the templates as they are now:
    a template edited since `campaign add` must pass the same checks before it can be approved.
    """
    problems = check_campaign(session, parse_campaign(campaign.spec, campaign.slug), settings)
    if problems:
        raise InvalidInput(f"campaign '{campaign.slug}' as it would be submitted", problems)
    content = current_content(session, campaign, settings)
    number = (
        session.scalar(select(func.max(CampaignVersion.number)).where(CampaignVersion.campaign_id == campaign.id)) or 0
    ) + 1
    version = CampaignVersion(
        campaign_id=campaign.id,
        number=number,
        content=content,
        fingerprint=fingerprint(content),
        drafted_by=drafter(session, campaign),
        submitted_by=actor,
        submitted_at=settings.clock.now(),
    )
    session.add(version)
    session.flush()
    return version


def refuse_approval(version: CampaignVersion, campaign: Campaign, actor: str) -> str | None:
    """Why `actor` may not approve this version (two-person rule), or None."""
    if actor == version.submitted_by:
        return (
            f"'{actor}' submitted campaign '{campaign.slug}' and so cannot approve it: "
            "a second person must approve (two-person rule)"
        )
    if actor == version.drafted_by:
        return (
            f"'{actor}' drafted version {version.number} of campaign '{campaign.slug}' and so cannot approve it: "
            "a second person must approve (two-person rule)"
        )
    return None


def approve(version: CampaignVersion, campaign: Campaign, actor: str, now: datetime) -> None:
    version.approved_by, version.approved_at = actor, now
    campaign.approved_version = version.number


# ---- detecting change ------------------------------------------------------------------------------


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What changed between two contents: a unified diff per template, old and new value per field."""
    changes: list[dict[str, Any]] = []
    old_templates, new_templates = old.get("templates", {}), new.get("templates", {})
    for name in sorted(set(old_templates) | set(new_templates)):
        before, after = old_templates.get(name), new_templates.get(name)
        if before == after:
            continue
        diff = difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}" if after is not None else "/dev/null",
        )
        changes.append({"template": name, "diff": "".join(diff)})
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


def check_for_changes(session: Session, campaign: Campaign, settings: Settings, actor: str) -> list[dict[str, Any]]:
    """Compare the campaign as it stands with the version its content is held to.

    On a difference the change is audited with its diff and the campaign returns to draft, to be
    submitted and approved again; returns the differences (empty when nothing changed).
    """
    status = Status(campaign.status)
    if status not in FIXED:
        return []
    version = version_in_force(session, campaign)
    if version is None:
        return []
    content = current_content(session, campaign, settings)
    if fingerprint(content) == version.fingerprint:
        return []
    changes = differences(version.content, content)
    lifecycle.record(
        session,
        campaign,
        actor,
        "content-changed",
        version=version.number,
        fingerprint=fingerprint(content),
        changes=changes,
    )
    campaign.status, campaign.submitted_by, campaign.approved_by = Status.DRAFT, None, None
    campaign.status_before_pause = None
    lifecycle.record(
        session,
        campaign,
        actor,
        "return",
        **{"from": status.value, "to": Status.DRAFT.value},
        reason=f"the content changed since version {version.number} was {_fixed_as(status)}; it needs approval again",
    )
    return changes


def _fixed_as(status: Status) -> str:
    return "submitted" if status == Status.SUBMITTED else "approved"


def check_all(session: Session, settings: Settings, actor: str) -> dict[str, list[dict[str, Any]]]:
    """`check_for_changes` for every campaign whose content is fixed; slug → its changes, when any."""
    found = {}
    for campaign in session.scalars(select(Campaign).where(Campaign.status.in_(FIXED)).order_by(Campaign.id)):
        changes = check_for_changes(session, campaign, settings, actor)
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
    return build_environment(DictLoader(dict(content["templates"])), digits=digits)


def composer_for(content: Mapping[str, Any], channel: str, settings: Settings, *, digits: bool = False) -> Composer:
    """A Composer over a version's content (`version.content`, or `current_content` for a draft):
    its templates come from the content, never from disk."""
    options = content["channels"].get(channel)
    if options is None:
        raise UserError(f"campaign '{content['campaign']['slug']}' has no {channel} channel in this version")
    issuer = content["issuer"]
    environment = environment_for(content, digits=digits)
    return Composer(
        adapter=channel_class(channel),
        view=view_of(content),
        issuer=issuer,
        templates=ChannelTemplates(environment, content["campaign"]["template"], channel, issuer["default_locale"]),
        channel_options=options["options"],
        reading_rate=settings.reading_rate,
        content_dir=settings.content_dir,
    )


@dataclass
class SendingComposer:
    """Builds bulletins for sending from an approved version, and runs the content checks on them.

    The checks read the text with numbers left in digits (a second composer); a text shared by every
    recipient of a locale and moment is checked once, a personal one for each recipient.
    """

    version: CampaignVersion
    channel: str
    settings: Settings
    spoken: Composer = field(init=False)
    digits: Composer = field(init=False)
    _checked: set[tuple[str, datetime, str | None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.spoken = composer_for(self.version.content, self.channel, self.settings)
        self.digits = composer_for(self.version.content, self.channel, self.settings, digits=True)
        self.hotlines = [national_digits(hotline["number"]) for hotline in self.spoken.issuer["hotlines"]]

    @property
    def adapter(self) -> type[ChannelAdapter]:
        return self.spoken.adapter

    def compose(
        self, key: str, recipient: Recipient, fire_at: datetime, slot: str | None = None, attempt: int = 1
    ) -> Bulletin:
        bulletin = self.spoken.compose(key, recipient, fire_at, slot, attempt)
        locale = self.spoken.locale_for(recipient)
        moment = (locale, fire_at, slot)
        if moment in self._checked:
            return bulletin
        shown = self.digits.compose(key, recipient, fire_at, slot, attempt)
        problems = content_problems(self.spoken.adapter, shown.parts, self.spoken.options, self.hotlines)
        problems += self.spoken.adapter.check_read_aloud(bulletin.parts)
        if problems:
            raise ContentRefused(
                f"the {self.channel} text of version {self.version.number} fails the content checks "
                f"({locale}): " + "; ".join(problems)
            )
        if not self.spoken.templates.personal(locale):
            self._checked.add(moment)
        return bulletin
