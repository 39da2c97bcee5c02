"""Delivery policy: the rules that decide whether, and when, something is sent, as pure functions.

Each takes facts (times, states, settings) and returns a decision; none reads the database or the
clock. The timetable, the fan-out, the workers, the monitor and the operations all ask here, so one
rule has one answer wherever it is asked. Where a rule must also run inside a query (the workers'
claim), `may_send_condition` is the same rule written as SQL, next to its Python form.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_

from broadcaster.models import SENDING_STATUSES, Campaign, CampaignChannel, OccurrenceState, Status
from broadcaster.settings import Settings
from channels.base import SchedulesAhead, channel_class

# An occurrence created later than this after its fire time is marked late.
LATE_AFTER = timedelta(seconds=60)
# The span a daily cap counts over (DOMAIN §5: 3 SMS to one number in 24 hours).
CAP_SPAN = timedelta(days=1)


# ---- retry ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed delivery again: exponential backoff with jitter, Retry-After honoured."""

    max_attempts: int = 6
    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    jitter: float = 0.2

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.retry_max_attempts, settings.retry_base_seconds, settings.retry_max_seconds)

    def retry_at(
        self, attempts: int, now: datetime, retry_after: float | None = None, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after `attempts` tries, or None when no attempt is left."""
        if attempts >= self.max_attempts:
            return None
        wait = min(self.max_seconds, self.base_seconds * 2 ** (attempts - 1))
        wait *= 1 + (rng or random).uniform(-self.jitter, self.jitter)
        return now + timedelta(seconds=max(wait, retry_after or 0.0))


# ---- send windows --------------------------------------------------------------------------------


def within_window(settings: Settings, channel: str, moment: datetime) -> bool:
    """Whether `moment` is inside the channel's local send window (a channel without one always is)."""
    window = settings.window(channel)
    if window is None:
        return True
    local = moment.astimezone(settings.zone).time()
    return window[0] <= local < window[1]


def window_opens(settings: Settings, channel: str, moment: datetime) -> datetime:
    """The first instant at or after `moment` inside the channel's send window."""
    window = settings.window(channel)
    if window is None or within_window(settings, channel, moment):
        return moment
    local = moment.astimezone(settings.zone)
    opening = local.replace(hour=window[0].hour, minute=window[0].minute, second=0, microsecond=0)
    if opening <= local:
        opening += timedelta(days=1)
    return opening.astimezone(UTC)


@dataclass(frozen=True)
class FirstSend:
    """When an occurrence's deliveries are first due, and whether an emergency went past the window."""

    due: datetime
    bypassed_window: bool


def first_send(
    settings: Settings,
    channel: str,
    fire_at: datetime,
    *,
    late: bool,
    emergency: bool,
    now: datetime,
    ahead: timedelta = timedelta(0),
) -> FirstSend:
    """A late occurrence is due now, others at their fire time (or `ahead` of it, for messages handed
    over to go out at their time); outside the window an ordinary one waits for it to open, an
    emergency goes at once (and says it bypassed the window)."""
    due = fire_at - ahead
    due = max(due, now) if late else due
    if within_window(settings, channel, due):
        return FirstSend(due, False)
    if emergency:
        return FirstSend(due, True)
    return FirstSend(window_opens(settings, channel, due), False)


def hand_over_ahead(settings: Settings, channel: str, campaign_options: Mapping[str, Any]) -> timedelta:
    """How long before its fire time a channel's message is handed to the provider: a scheduled
    Facebook post goes ahead so that Facebook publishes it at the time (DOMAIN §6); others at the time."""
    adapter = channel_class(channel)
    if issubclass(adapter, SchedulesAhead) and adapter.schedules_ahead(campaign_options):
        return timedelta(minutes=settings.schedule_ahead_minutes)
    return timedelta(0)


# ---- grace: late and missed ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fire:
    """What a fire time becomes when the timetable records it."""

    state: OccurrenceState
    late: bool
    reason: str | None


def fire_decision(settings: Settings, channel: str, fire: datetime, now: datetime) -> Fire:
    """Pending (late when recorded over a minute after its time) within the channel's grace; missed past it."""
    grace = settings.grace(channel)
    overdue = now - fire
    if overdue > grace:
        reason = f"the service was not running at {fire:%Y-%m-%d %H:%M} and the {channel} grace of {grace} had passed"
        return Fire(OccurrenceState.MISSED, True, reason)
    return Fire(OccurrenceState.PENDING, overdue > LATE_AFTER, None)


# ---- validity and "may this campaign's channel send" ---------------------------------------------


def local_day(settings: Settings, moment: datetime) -> date:
    return moment.astimezone(settings.zone).date()


def validity_over(settings: Settings, valid_until: date, now: datetime) -> bool:
    """Nothing is sent after the last day of a campaign's validity window (local time)."""
    return valid_until < local_day(settings, now)


def outside_validity(settings: Settings, campaign: Campaign, moment: datetime) -> str | None:
    day = local_day(settings, moment)
    if campaign.valid_from <= day <= campaign.valid_until:
        return None
    return f"{day} is outside the campaign's validity window {campaign.valid_from} to {campaign.valid_until}"


def channel_refusal(campaign: Campaign, channel: CampaignChannel | None) -> str | None:
    """Why this campaign channel may not send at all right now (its status, a pause), or None."""
    if campaign.status not in SENDING_STATUSES:
        return f"the campaign is {campaign.status}"
    if channel is None:
        return "the campaign no longer has this channel"
    if channel.paused:
        return f"the {channel.channel} channel is paused: {channel.pause_reason or 'by staff'}"
    return None


def may_send(settings: Settings, campaign: Campaign, channel: CampaignChannel | None, moment: datetime) -> str | None:
    """Why this campaign channel may not send something due at `moment`, or None when it may."""
    return channel_refusal(campaign, channel) or outside_validity(settings, campaign, moment)


def may_send_condition() -> ColumnElement[bool]:
    """`channel_refusal` as a query condition over Campaign joined to its CampaignChannel."""
    return and_(Campaign.status.in_(SENDING_STATUSES), CampaignChannel.paused.is_(False))


def retry_refusal(settings: Settings, campaign: Campaign, now: datetime) -> str | None:
    """Why a campaign's failed deliveries may not be sent again, or None."""
    if campaign.status in (Status.CANCELLED, Status.COMPLETED):
        return f"campaign '{campaign.slug}' is {campaign.status}: its failed deliveries cannot be sent again"
    if validity_over(settings, campaign.valid_until, now):
        return (
            f"campaign '{campaign.slug}' was valid until {campaign.valid_until}: "
            "nothing is sent after its validity window, so its failed deliveries cannot be sent again"
        )
    return None


# ---- send rates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pace:
    """Which shared rate a channel's messages count against, and how many per second it allows."""

    name: str
    rate: float


def pace_for(settings: Settings, channel: str, declared_rate: float) -> Pace:
    """A channel's own rate, or the rate of the provider account it shares with other channels."""
    account = settings.rate_accounts.get(channel)
    rate = settings.rates.get(channel, declared_rate)
    if account is None:
        return Pace(channel, rate)
    return Pace(f"account:{account}", settings.rates.get(account, rate))


# ---- daily caps ----------------------------------------------------------------------------------


def cap_frees_at(cap: int, done: Sequence[datetime], in_flight: Sequence[datetime], now: datetime) -> datetime | None:
    """When one more message may go to an address, or None when it may go now. `done` are the times
    its messages went; `in_flight` the lease ends of messages other workers are sending to it now (each
    counts as sent now). 0 means no cap.

    When the cap is full only because of messages in flight, the answer is the end of their lease:
    by then each is sent (and counts from then on) or failed (and frees its place)."""
    recent = sorted(moment for moment in done if moment > now - CAP_SPAN)
    if cap <= 0 or len(recent) + len(in_flight) < cap:
        return None
    if len(recent) < cap:
        return min(in_flight)
    # The oldest of the `cap` most recent leaves the 24-hour span first.
    return recent[len(recent) - cap] + CAP_SPAN


def held_until(settings: Settings, channel: str, frees_at: datetime) -> datetime:
    """A capped delivery is due again when the cap lets it go and the window is open."""
    return window_opens(settings, channel, frees_at)


def cap_reason(cap: int, channel: str) -> str:
    return f"{HELD_BY_CAP} {cap} {channel} messages in the last 24 hours"


# The reason a delivery held back by the daily cap starts with (`status` counts them by it).
HELD_BY_CAP = "this address already had"
