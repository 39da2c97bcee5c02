"""What staff see: per campaign and channel, next fires, occurrences, deliveries by state, last errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.models import Campaign, Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.scheduling import next_fires, plans_for
from broadcaster.settings import Settings

GROUPS = {
    DeliveryState.PENDING: "pending",
    DeliveryState.SENDING: "pending",
    DeliveryState.SENT: "sent",
    DeliveryState.ACCEPTED: "sent",
    DeliveryState.FAILED: "failed",
    DeliveryState.INVALID: "failed",
    DeliveryState.REJECTED: "failed",
    DeliveryState.SKIPPED: "skipped",
}


@dataclass
class ChannelStatus:
    channel: str
    paused: str | None
    next_fires: list[datetime]
    occurrences: Counter[str] = field(default_factory=Counter)
    late: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str | None, int]] = field(default_factory=list)


@dataclass
class CampaignStatus:
    slug: str
    status: str
    priority: str
    channels: list[ChannelStatus]


def campaign_status(session: Session, settings: Settings, campaign: Campaign, now: datetime) -> CampaignStatus:
    plans = [plan for plan in plans_for(session, settings) if plan.campaign_id == campaign.id]
    channels = []
    for item in campaign.channels:
        own = [plan for plan in plans if plan.channel == item.channel]
        status = ChannelStatus(item.channel, item.pause_reason if item.paused else None, next_fires(own, now))
        for state, late, count in session.execute(
            select(Occurrence.state, Occurrence.late, func.count())
            .where(Occurrence.campaign_id == campaign.id, Occurrence.channel == item.channel)
            .group_by(Occurrence.state, Occurrence.late)
        ):
            status.occurrences[state] += count
            status.late += count if late and state != OccurrenceState.MISSED else 0
        ours = select(Occurrence.id).where(Occurrence.campaign_id == campaign.id, Occurrence.channel == item.channel)
        for state, count in session.execute(
            select(Delivery.state, func.count()).where(Delivery.occurrence_id.in_(ours)).group_by(Delivery.state)
        ):
            status.deliveries[GROUPS[DeliveryState(state)]] += count
        status.errors = [
            (reason, count)
            for reason, count in session.execute(
                select(Delivery.reason, func.count())
                .where(
                    Delivery.occurrence_id.in_(ours),
                    Delivery.reason.is_not(None),
                    Delivery.state.in_(
                        [DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED, DeliveryState.PENDING]
                    ),
                )
                .group_by(Delivery.reason)
                .order_by(func.count().desc())
                .limit(3)
            )
        ]
        channels.append(status)
    return CampaignStatus(campaign.slug, campaign.status, campaign.priority, channels)


def all_statuses(session: Session, settings: Settings, now: datetime, slug: str | None = None) -> list[CampaignStatus]:
    query = select(Campaign).order_by(Campaign.valid_from, Campaign.slug)
    if slug is not None:
        query = query.where(Campaign.slug == slug)
    return [campaign_status(session, settings, campaign, now) for campaign in session.scalars(query)]


def expanding(session: Session) -> list[tuple[Occurrence, int]]:
    """Occurrences being fanned out now, with how many rows they have so far."""
    pending = list(
        session.scalars(
            select(Occurrence).where(Occurrence.state == OccurrenceState.PENDING, Occurrence.lease_owner.is_not(None))
        )
    )
    return [
        (occurrence, session.scalar(select(func.count()).where(Delivery.occurrence_id == occurrence.id)) or 0)
        for occurrence in pending
    ]
