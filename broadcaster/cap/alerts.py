"""Which CAP alerts a campaign has published, read from its history (DOMAIN §10, §14).

Each approval publishes an alert: the first is an Alert, each later one an Update that replaces the
ones before; cancelling an approved campaign publishes a Cancel. Identifiers are
`<sender>.<campaign>.<n>` — the installation's sender, the campaign's slug (unique here) and the
alert's place in that history — so they are stable (the same export gives the same identifier and sent
time) and unique per installation. Only the latest alert of a campaign can be exported: it is the one
whose content the campaign still holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.campaigns.store import find_campaign
from broadcaster.errors import NotFound
from broadcaster.models import AuditEntry, Campaign, Status
from broadcaster.settings import Settings

# Statuses whose content is the content last approved.
APPROVED_CONTENT = frozenset({Status.APPROVED, Status.ACTIVE, Status.PAUSED, Status.COMPLETED})


@dataclass(frozen=True)
class AlertRef:
    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True)
class CampaignAlert:
    campaign: Campaign
    ref: AlertRef
    msg_type: str  # Alert, Update or Cancel
    references: tuple[AlertRef, ...]  # every earlier alert of the campaign, oldest first


def cap_sender(settings: Settings) -> str:
    return settings.cap_sender or urlsplit(settings.public_url).hostname or "localhost"


def _identifier(sender: str, slug: str, position: int) -> str:
    return f"{sender}.{slug}.{position}"


def history(session: Session, campaign: Campaign, settings: Settings) -> list[CampaignAlert]:
    """Every alert the campaign has published, oldest first."""
    sender = cap_sender(settings)
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.action.in_(("approve", "cancel")))
        .order_by(AuditEntry.id)
    )
    alerts: list[CampaignAlert] = []
    for entry in entries:
        if entry.action == "cancel" and not alerts:
            continue  # cancelled before it was ever approved: nothing was published to cancel
        ref = AlertRef(sender, _identifier(sender, campaign.slug, len(alerts) + 1), entry.at)
        msg_type = "Cancel" if entry.action == "cancel" else ("Update" if alerts else "Alert")
        alerts.append(CampaignAlert(campaign, ref, msg_type, tuple(alert.ref for alert in alerts)))
    return alerts


def latest_alert(session: Session, campaign: Campaign, settings: Settings) -> CampaignAlert:
    """The alert that stands for the campaign now; NotFound with the reason when there is none."""
    alerts = history(session, campaign, settings)
    status = Status(campaign.status)
    if not alerts:
        raise NotFound(
            f"campaign '{campaign.slug}' is {status.value} and has never been approved, so it has no CAP alert"
        )
    if status not in APPROVED_CONTENT and status != Status.CANCELLED:
        raise NotFound(
            f"campaign '{campaign.slug}' changed after its approval and is {status.value}: "
            "it has a CAP alert again once the new content is approved"
        )
    return alerts[-1]


def alert_for_campaign(session: Session, slug: str, settings: Settings) -> CampaignAlert:
    return latest_alert(session, find_campaign(session, slug), settings)


def alert_by_identifier(session: Session, identifier: str, settings: Settings) -> CampaignAlert:
    """The alert with this identifier, if it is the one its campaign stands for now."""
    sender = cap_sender(settings)
    slug = identifier.removeprefix(sender + ".").rpartition(".")[0]
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug)) if identifier.startswith(sender) else None
    if campaign is not None:
        try:
            alert = latest_alert(session, campaign, settings)
        except NotFound:
            alert = None
        if alert is not None and alert.ref.identifier == identifier:
            return alert
    raise NotFound(f"there is no current CAP alert '{identifier}'")


def is_current(campaign: Campaign, today: date) -> bool:
    """A genuine warning in force: approved content, within its validity, not a test or an exercise."""
    actual = (campaign.spec.get("cap") or {}).get("status", "Actual") == "Actual"
    in_force = campaign.valid_from <= today <= campaign.valid_until
    return actual and in_force and Status(campaign.status) in APPROVED_CONTENT


def current_alerts(session: Session, settings: Settings, today: date) -> list[CampaignAlert]:
    """The warnings in force today, newest letter first."""
    campaigns = session.scalars(
        select(Campaign)
        .where(Campaign.status.in_([status.value for status in APPROVED_CONTENT]))
        .where(Campaign.valid_from <= today, Campaign.valid_until >= today)
        .order_by(Campaign.valid_from.desc(), Campaign.slug)
    )
    return [latest_alert(session, campaign, settings) for campaign in campaigns if is_current(campaign, today)]
