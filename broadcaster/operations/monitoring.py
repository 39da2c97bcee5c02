"""A campaign's live monitor, per channel: planned fires, fan-outs running, deliveries by state, reasons
grouped and counted, and what a paused or waiting channel waits for.

Counts are read from the counts kept as the outbox changes (`broadcaster.counts`): a few rows per
occurrence, never the delivery rows, so a refresh costs the same for a campaign of ten numbers or of a
million. Reasons are read from the failed, skipped and held rows alone, once per page view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import monitor
from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.counts import counts
from broadcaster.models import SENDING_STATUSES, Campaign, CampaignChannel, Delivery, DeliveryState, Occurrence, Status
from broadcaster.operations.sending import FanOut, fan_outs
from broadcaster.outbox import TEST_SEND
from broadcaster.policy import channel_refusal
from broadcaster.settings import Settings
from broadcaster.timetable import next_fires, rule_plans

# The states whose rows carry a reason worth grouping: what failed, what was skipped, what is held back.
REASONED = [
    DeliveryState.FAILED,
    DeliveryState.INVALID,
    DeliveryState.REJECTED,
    DeliveryState.UNDELIVERED,  # the telco's reason
    DeliveryState.UNKNOWN,  # why its fate is unknown
    DeliveryState.SKIPPED,
    DeliveryState.PENDING,
]
REASONS_SHOWN = 12
FAILED = (DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED)


@dataclass(frozen=True)
class Reason:
    state: str
    reason: str
    count: int


@dataclass
class ChannelMonitor:
    channel: str
    paused: bool
    pause_reason: str | None
    planned: list[datetime]
    occurrences: Counter[str] = field(default_factory=Counter)
    test_sends: int = 0
    states: Counter[str] = field(default_factory=Counter)  # the campaign's deliveries, test sends left out
    test_states: Counter[str] = field(default_factory=Counter)  # the test sends' deliveries, shown apart
    reasons: list[Reason] = field(default_factory=list)
    waiting_for: list[str] = field(default_factory=list)
    fan_outs: list[FanOut] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def failed(self) -> int:
        return sum(
            self.states[state] for state in (DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED)
        )


@dataclass
class CampaignMonitor:
    slug: str
    status: str
    may_send: bool  # approved or active: send-now, test sends and retries are possible
    channels: list[ChannelMonitor]
    at: datetime


def campaign_monitor(
    session: Session, actor: Actor, settings: Settings, slug: str, planned: int = 5, *, reasons: bool = True
) -> CampaignMonitor:
    """The campaign's monitor; without `reasons`, the failed and skipped rows are not read (a live refresh)."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    now = settings.clock.now()
    channels = {
        item.channel: ChannelMonitor(
            item.channel, item.paused, item.pause_reason, _next_fires(session, settings, campaign, item, now, planned)
        )
        for item in campaign.channels
    }
    _count_occurrences(session, campaign, channels)
    _count_deliveries(session, campaign, channels, reasons)
    for progress in fan_outs(session, actor):
        if progress.slug == slug and progress.channel in channels:
            channels[progress.channel].fan_outs.append(progress)
    if campaign.status in (*SENDING_STATUSES, Status.PAUSED):
        for item in campaign.channels:
            found = channels[item.channel]
            pending = found.states[DeliveryState.PENDING]
            found.waiting_for = monitor.why_waiting(session, settings, campaign, item, now, pending)
    may_send = campaign.status in SENDING_STATUSES
    return CampaignMonitor(campaign.slug, campaign.status, may_send, list(channels.values()), now)


def _next_fires(
    session: Session, settings: Settings, campaign: Campaign, channel: CampaignChannel, now: datetime, count: int
) -> list[datetime]:
    """The channel's next fire times, from this campaign's own plans (the scheduler's, not every campaign's)."""
    if channel_refusal(campaign, channel):
        return []
    ids = {
        "campaign_id": campaign.id,
        "campaign": campaign.slug,
        "channel": channel.channel,
        "since": campaign.sendable_since or campaign.updated_at,
    }
    valid = (campaign.valid_from, campaign.valid_until)
    plans = [
        plan
        for rule in channel.rules
        for plan in rule_plans(
            session, rule, channel.audience, channel.areas, valid, settings.zone, ids, settings.today()
        )
    ]
    return next_fires(plans, now, count)


def _count_occurrences(session: Session, campaign: Campaign, channels: dict[str, ChannelMonitor]) -> None:
    is_test = Occurrence.rule_key.startswith(TEST_SEND).label("test")  # one expression: PostgreSQL groups by it
    query = (
        select(Occurrence.channel, Occurrence.state, is_test, func.count())
        .where(Occurrence.campaign_id == campaign.id)
        .group_by(Occurrence.channel, Occurrence.state, is_test)
    )
    for channel, state, test, count in session.execute(query):
        if channel in channels:
            channels[channel].occurrences[state] += count
            channels[channel].test_sends += count if test else 0


def _count_deliveries(
    session: Session, campaign: Campaign, channels: dict[str, ChannelMonitor], reasons_too: bool
) -> None:
    occurrence_channel: dict[int, str] = {}
    tests: set[int] = set()
    for occurrence_id, channel, rule_key in session.execute(
        select(Occurrence.id, Occurrence.channel, Occurrence.rule_key).where(Occurrence.campaign_id == campaign.id)
    ):
        occurrence_channel[occurrence_id] = channel
        if rule_key.startswith(TEST_SEND):
            tests.add(occurrence_id)
    if not occurrence_channel:
        return
    ours = list(occurrence_channel)
    for (occurrence_id, state), count in counts(session, ours).items():
        monitored = channels[occurrence_channel[occurrence_id]]
        (monitored.test_states if occurrence_id in tests else monitored.states)[state] += count
    if not reasons_too:
        return
    grouped = (
        select(Delivery.occurrence_id, Delivery.state, Delivery.reason, func.count())
        .where(Delivery.occurrence_id.in_(ours), Delivery.state.in_(REASONED), Delivery.reason.is_not(None))
        .group_by(Delivery.occurrence_id, Delivery.state, Delivery.reason)
    )
    reasons: dict[str, Counter[tuple[str, str]]] = {channel: Counter() for channel in channels}
    for occurrence_id, state, reason, count in session.execute(grouped):
        reasons[occurrence_channel[occurrence_id]][(state, str(reason))] += count
    for channel, counted_reasons in reasons.items():
        channels[channel].reasons = [
            Reason(state, reason, count) for (state, reason), count in counted_reasons.most_common(REASONS_SHOWN)
        ]
