"""What staff see: per campaign and channel, next fires, occurrences, deliveries by state, last errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.models import (
    SENDING_STATUSES,
    Campaign,
    CampaignChannel,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Priority,
    Status,
)
from broadcaster.outbox import TEST_SEND
from broadcaster.policy import HELD_BY_CAP, window_opens, within_window
from broadcaster.settings import Settings
from broadcaster.timetable import next_fires, plans_for

# Disjoint groups: "sent" is handed over with no delivery report (yet); "delivered" and "undelivered" are what
# the telco reported; "unknown" may have gone out (an attempt went unanswered), so it is never "failed".
GROUPS = {
    DeliveryState.PENDING: "pending",
    DeliveryState.SENDING: "pending",
    DeliveryState.SENT: "sent",
    DeliveryState.ACCEPTED: "sent",
    DeliveryState.DELIVERED: "delivered",
    DeliveryState.UNDELIVERED: "undelivered",
    DeliveryState.UNKNOWN: "unknown",
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
    waiting_for: list[str] = field(default_factory=list)  # why its pending deliveries are not going out now


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
        ours = select(Occurrence.id).where(
            Occurrence.campaign_id == campaign.id,
            Occurrence.channel == item.channel,
            ~Occurrence.rule_key.startswith(TEST_SEND),  # test sends are never counted in the campaign's totals
        )
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
                        [
                            DeliveryState.FAILED,
                            DeliveryState.INVALID,
                            DeliveryState.REJECTED,
                            DeliveryState.UNDELIVERED,
                            DeliveryState.UNKNOWN,
                            DeliveryState.PENDING,
                        ]
                    ),
                )
                .group_by(Delivery.reason)
                .order_by(func.count().desc())
                .limit(3)
            )
        ]
        if campaign.status in (*SENDING_STATUSES, Status.PAUSED):
            status.waiting_for = why_waiting(session, settings, campaign, item, now, status.deliveries["pending"])
        channels.append(status)
    return CampaignStatus(campaign.slug, campaign.status, campaign.priority, channels)


def why_waiting(
    session: Session, settings: Settings, campaign: Campaign, channel: CampaignChannel, now: datetime, pending: int
) -> list[str]:
    """What a channel of a campaign that may send waits for, one phrase each: the campaign or channel
    paused, the validity window not open yet and, for its `pending` deliveries, the send window, the
    daily cap, retries' times; and occurrences no worker has fanned out yet."""
    reasons = []
    if campaign.status == Status.PAUSED:
        reasons.append("the campaign is paused")
    if channel.paused:
        reasons.append("the channel is paused")
    today = now.astimezone(settings.zone).date()
    if today < campaign.valid_from:
        reasons.append(f"its validity window, from {campaign.valid_from:%d/%m/%Y}")
    reasons += _pending_waits(session, settings, campaign, channel, now) if pending else []
    unexpanded = session.scalar(
        select(func.count()).where(
            Occurrence.campaign_id == campaign.id,
            Occurrence.channel == channel.channel,
            Occurrence.state == OccurrenceState.PENDING,
        )
    )
    if unexpanded:
        reasons.append(f"a worker to fan out {unexpanded} occurrence(s)")
    return reasons


def _pending_waits(
    session: Session, settings: Settings, campaign: Campaign, channel: CampaignChannel, now: datetime
) -> list[str]:
    reasons = []
    if not within_window(settings, channel.channel, now) and campaign.priority != Priority.EMERGENCY:
        opens = window_opens(settings, channel.channel, now).astimezone(settings.zone)
        reasons.append(f"the send window {settings.send_windows[channel.channel]}, which opens at {opens:%H:%M}")
    ours = select(Occurrence.id).where(Occurrence.campaign_id == campaign.id, Occurrence.channel == channel.channel)
    pending = select(func.count()).where(Delivery.occurrence_id.in_(ours), Delivery.state == DeliveryState.PENDING)
    if capped := session.scalar(pending.where(Delivery.reason.startswith(HELD_BY_CAP))):
        cap = settings.daily_caps.get(channel.channel)
        reasons.append(f"the daily cap of {cap} messages per address ({capped} held)")
    retrying = pending.where(Delivery.attempts > 0, Delivery.due_at > now)
    if count := session.scalar(retrying):
        first = session.scalar(
            select(func.min(Delivery.due_at)).where(
                Delivery.occurrence_id.in_(ours), Delivery.state == DeliveryState.PENDING, Delivery.due_at > now
            )
        )
        shown = f", the first at {first.astimezone(settings.zone):%d/%m %H:%M}" if first else ""
        reasons.append(f"{count} retries{shown}")
    return reasons


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
