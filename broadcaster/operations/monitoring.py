"""The one read model of what campaigns are doing, per channel: planned fires, occurrences (late ones
counted), fan-outs running, deliveries by state, reasons grouped and counted, and what a paused or waiting
channel waits for. The console's monitor reads one campaign (`campaign_monitor`); `broadcaster status`, the
API's /status and the demo read every campaign (`statuses`).

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

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.counts import counts
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
from broadcaster.operations.sending import FanOut, fan_outs
from broadcaster.outbox import RANKS, TEST_RANK, TEST_SEND
from broadcaster.policy import HELD_BY_CAP, channel_refusal, window_opens, within_window
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
ERRORS_SHOWN = 3  # a status line names the commonest few; the monitor's reasons list them all
FAILED = (DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED)

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
    late: int = 0  # occurrences fired late (missed ones are counted as missed)
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
        return sum(self.states[state] for state in FAILED)

    @property
    def deliveries(self) -> Counter[str]:
        """The campaign's deliveries by group (`GROUPS`): pending, sent, delivered, undelivered, unknown…"""
        grouped: Counter[str] = Counter()
        for state, count in self.states.items():
            grouped[GROUPS[DeliveryState(state)]] += count
        return grouped

    @property
    def errors(self) -> list[tuple[str, int]]:
        """The commonest reasons of what did not go, or not yet (skipped rows left out), with their counts."""
        counted: Counter[str] = Counter()
        for item in self.reasons:
            if item.state != DeliveryState.SKIPPED:
                counted[item.reason] += item.count
        return counted.most_common(ERRORS_SHOWN)


@dataclass
class CampaignMonitor:
    slug: str
    status: str
    priority: str
    may_send: bool  # approved or active: send-now, test sends and retries are possible
    channels: list[ChannelMonitor]
    at: datetime


def campaign_monitor(
    session: Session, actor: Actor, settings: Settings, slug: str, planned: int = 5, *, reasons: bool = True
) -> CampaignMonitor:
    """The campaign's monitor; without `reasons`, the failed and skipped rows are not read (a live refresh)."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    return _monitor(session, settings, campaign, fan_outs(session, actor), planned, reasons)


def statuses(
    session: Session, actor: Actor, settings: Settings, slug: str | None = None, planned: int = 3
) -> list[CampaignMonitor]:
    """Every campaign's monitor (or one campaign's), in the order they start: `broadcaster status`, the API's
    /status and the demo show these."""
    actor.require("campaigns:read")
    query = select(Campaign).order_by(Campaign.valid_from, Campaign.slug)
    if slug is not None:
        query = query.where(Campaign.id == find_campaign(session, slug).id)
    running = fan_outs(session, actor)
    return [_monitor(session, settings, campaign, running, planned, True) for campaign in session.scalars(query)]


def _monitor(
    session: Session, settings: Settings, campaign: Campaign, running: list[FanOut], planned: int, reasons: bool
) -> CampaignMonitor:
    now = settings.clock.now()
    channels = {
        item.channel: ChannelMonitor(
            item.channel, item.paused, item.pause_reason, _next_fires(session, settings, campaign, item, now, planned)
        )
        for item in campaign.channels
    }
    _count_occurrences(session, campaign, channels)
    _count_deliveries(session, campaign, channels, reasons)
    for progress in running:
        if progress.slug == campaign.slug and progress.channel in channels:
            channels[progress.channel].fan_outs.append(progress)
    if campaign.status in (*SENDING_STATUSES, Status.PAUSED):
        for item in campaign.channels:
            found = channels[item.channel]
            pending = found.states[DeliveryState.PENDING]
            found.waiting_for = why_waiting(session, settings, campaign, item, now, pending)
    may_send = campaign.status in SENDING_STATUSES
    return CampaignMonitor(campaign.slug, campaign.status, campaign.priority, may_send, list(channels.values()), now)


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
    # Only rows due later wait on the cap or a retry: read through the claim index (channel, state, rank,
    # due_at), never the whole of a fan-out's pending rows, which a live refresh would read every few seconds.
    ours = select(Occurrence.id).where(Occurrence.campaign_id == campaign.id, Occurrence.channel == channel.channel)
    capped, retrying, first = session.execute(
        select(
            func.count().filter(Delivery.reason.startswith(HELD_BY_CAP)),
            func.count().filter(Delivery.attempts > 0),
            func.min(Delivery.due_at),
        ).where(
            Delivery.channel == channel.channel,
            Delivery.state == DeliveryState.PENDING,
            Delivery.rank.in_([TEST_RANK, *RANKS.values()]),
            Delivery.due_at > now,
            Delivery.done_at.is_(None),
            Delivery.occurrence_id.in_(ours),
        )
    ).one()
    if capped:
        cap = settings.daily_caps.get(channel.channel)
        reasons.append(f"the daily cap of {cap} messages per address ({capped} held)")
    if retrying:
        shown = f", the first at {first.astimezone(settings.zone):%d/%m %H:%M}" if first else ""
        reasons.append(f"{retrying} retries{shown}")
    return reasons


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
        select(Occurrence.channel, Occurrence.state, Occurrence.late, is_test, func.count())
        .where(Occurrence.campaign_id == campaign.id)
        .group_by(Occurrence.channel, Occurrence.state, Occurrence.late, is_test)
    )
    for channel, state, late, test, count in session.execute(query):
        if channel in channels:
            channels[channel].occurrences[state] += count
            channels[channel].test_sends += count if test else 0
            channels[channel].late += count if late and state != OccurrenceState.MISSED else 0


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
