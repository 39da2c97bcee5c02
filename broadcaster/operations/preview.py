"""What a campaign would send: one recipient's bulletin, or every channel in every locale.

The recipient, fire time and slot are chosen as the sender would choose them: the named recipient, else
the first whose locale is the one asked for, else the first; the channel's first rule's first fire.
What was submitted or approved is shown as it was fixed, not as the files on disk now read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.campaigns.versions import composer_for, current_content, version_in_force
from broadcaster.directory.audience import parse_selector, recipients
from broadcaster.errors import NotFound, UserError
from broadcaster.models import Campaign, CampaignChannel, Rule
from broadcaster.rendering import Composer
from broadcaster.settings import Settings
from channels.base import AgencyFacts, Recipient

if TYPE_CHECKING:
    from broadcaster.letters import LetterFile


@dataclass(frozen=True)
class Preview:
    channel: str
    locale: str
    recipient_address: str
    recipient_name: str
    fire_at: datetime
    slot: str | None
    parts: dict[str, str]  # txt, and html and subject for e-mail
    number: str  # the letter's number and date, which name its PDF
    letter_date: date | None


def preview(
    session: Session,
    actor: Actor,
    slug: str,
    channel: str,
    settings: Settings,
    *,
    locale: str | None = None,
    recipient: str | None = None,
    revision: bool = False,
) -> Preview:
    """Exactly what one recipient of one channel would receive (with `revision`, once the campaign's revision
    is approved: its submitted version, or the revision as it is being written)."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    content = revision_content(session, campaign) if revision else None
    return _preview_one(session, campaign, channel, settings, locale, recipient, content)


def revision_content(session: Session, campaign: Campaign) -> dict[str, Any]:
    """What the campaign's revision would send: the version fixed when it was submitted, or its content now."""
    from broadcaster.campaigns.file import parse_campaign
    from broadcaster.campaigns.store import find_issuer
    from broadcaster.campaigns.versions import content_of_spec, numbered

    revision = campaign.revision
    if revision is None:
        raise NotFound(f"campaign '{campaign.slug}' has no revision")
    fixed = numbered(session, campaign, revision.version) if revision.version is not None else None
    if fixed is not None:
        return dict(fixed.content)
    spec = parse_campaign(revision.spec, campaign.slug)
    issuer = find_issuer(session, spec.issuer)
    if issuer is None:
        raise NotFound(f"issuer '{spec.issuer}' is not known")
    return content_of_spec(spec, revision.texts, issuer)


def preview_all(session: Session, actor: Actor, slug: str, settings: Settings) -> list[Preview]:
    """Every channel of the campaign in every one of its locales, for review."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    return [
        _preview_one(session, campaign, item.channel, settings, each_locale, None)
        for item in campaign.channels
        for each_locale in campaign.locales
    ]


def _channel(campaign: Campaign, channel: str) -> CampaignChannel:
    found = next((c for c in campaign.channels if c.channel == channel), None)
    if found is None:
        known = ", ".join(c.channel for c in campaign.channels)
        raise UserError(f"campaign '{campaign.slug}' has no {channel} channel (it has {known})")
    return found


def _preview_one(
    session: Session,
    campaign: Campaign,
    channel: str,
    settings: Settings,
    locale: str | None,
    wanted: str | None,
    content: dict[str, Any] | None = None,
) -> Preview:
    campaign_channel = _channel(campaign, channel)
    if content is None:
        version = version_in_force(session, campaign)
        content = version.content if version is not None else current_content(session, campaign, settings)
    composer = composer_for(content, channel, settings)
    chosen = _find_recipient(session, composer, campaign, campaign_channel, wanted, locale, settings.today())
    if locale is not None:
        chosen = replace(chosen, locale=locale)
    fire_at = _first_fire(campaign_channel.rules, campaign, chosen, settings)
    slot = (campaign_channel.rules[0].slots or [None])[0] if campaign_channel.rules else None
    bulletin = composer.compose("preview", chosen, fire_at, slot)
    return Preview(
        channel=channel,
        locale=bulletin.locale,
        recipient_address=bulletin.recipient.address,
        recipient_name=bulletin.recipient.name,
        fire_at=fire_at,
        slot=slot,
        parts=dict(bulletin.parts),
        number=bulletin.letter.number,
        letter_date=bulletin.letter.dated,
    )


def letter(item: Preview) -> LetterFile | None:
    """The letter's A4 PDF as the e-mail attaches it, for a preview with an HTML letter; else None."""
    from broadcaster.letters import letter_file  # WeasyPrint: only when a PDF is asked for

    return letter_file(item.parts.get("html"), item.number, item.letter_date)


def _find_recipient(
    session: Session,
    composer: Composer,
    campaign: Campaign,
    campaign_channel: CampaignChannel,
    wanted: str | None,
    locale: str | None,
    today: date,
) -> Recipient:
    """The named recipient; else the first whose locale is the one asked for; else simply the first."""
    selectors = [parse_selector(text) for text in campaign_channel.audience]
    first = None
    kind = composer.adapter.recipient_kind
    for candidate in recipients(session, kind, selectors, campaign_channel.areas, today):
        names = (candidate.address.lower(), candidate.name.lower(), _directory_key(candidate).lower())
        if wanted is not None:
            if wanted.lower() in names:
                return candidate
            continue
        if locale is None or composer.locale_for(candidate) == locale:
            return candidate
        first = first or candidate
    if first is not None:
        return first
    channel = campaign_channel.channel
    if wanted:
        raise UserError(f"no recipient of the {channel} audience of '{campaign.slug}' matches '{wanted}'")
    raise UserError(f"the {channel} audience of '{campaign.slug}' is empty")


def _directory_key(recipient: Recipient) -> str:
    """An agency's key in the directory, by which a preview may name it."""
    return recipient.facts.key if isinstance(recipient.facts, AgencyFacts) else ""


def _first_fire(rules: list[Rule], campaign: Campaign, recipient: Recipient, settings: Settings) -> datetime:
    zone = settings.zone
    rule = rules[0] if rules else None
    if rule is not None and rule.at is not None:
        return rule.at.astimezone(zone)
    day = (rule.starts if rule is not None and rule.starts else None) or campaign.valid_from
    slot_time = "08:00"
    if rule is not None and rule.slots:
        slot_time = recipient.slots.get(rule.slots[0], slot_time)
    return datetime.combine(day, time.fromisoformat(slot_time), zone)
