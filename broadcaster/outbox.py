"""The outbox: an occurrence expanded to one delivery row per recipient.

Rows are written in streaming batches (a province's million numbers are never in memory at once)
with INSERT … ON CONFLICT DO NOTHING on (occurrence, recipient), so an expansion that was cut off
is simply run again. Opted-out numbers and numbers outside the campaign's areas are written as
skipped, with the reason. Send windows are applied here: a row due outside its channel's window
waits for the window to open; an emergency campaign bypasses the window, and that is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import lifecycle
from broadcaster.audience import parse_selector, recipient_locale, recipients
from broadcaster.db import insert_ignoring_duplicates, transaction
from broadcaster.models import (
    Campaign,
    CampaignChannel,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Priority,
    utcnow,
)
from broadcaster.settings import Settings
from channels.base import Recipient, RecipientKind, channel_class

RANKS = {Priority.EMERGENCY: 0, Priority.PRIORITY: 1, Priority.ORDINARY: 2}
WORKER = "worker"


def within_window(settings: Settings, channel: str, moment: datetime) -> bool:
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


def sendable(campaign: Campaign, channel: CampaignChannel | None, fire_at: datetime, settings: Settings) -> str | None:
    """Why this campaign channel may not send an occurrence at `fire_at`, or None when it may."""
    if campaign.status not in lifecycle.SENDING:
        return f"the campaign is {campaign.status}"
    if channel is None:
        return "the campaign no longer has this channel"
    if channel.paused:
        return f"the {channel.channel} channel is paused: {channel.pause_reason or 'by staff'}"
    day = fire_at.astimezone(settings.zone).date()
    if not campaign.valid_from <= day <= campaign.valid_until:
        return f"{day} is outside the campaign's validity window {campaign.valid_from} to {campaign.valid_until}"
    return None


def claim_occurrence(session: Session, owner: str, now: datetime, lease: timedelta) -> int | None:
    """Lease one pending occurrence for expansion (emergencies first); None when there is none."""
    free = or_(Occurrence.lease_until.is_(None), Occurrence.lease_until < now)
    candidate = (
        select(Occurrence.id)
        .join(Campaign, Campaign.id == Occurrence.campaign_id)
        .where(Occurrence.state == OccurrenceState.PENDING, free)
        .order_by((Campaign.priority == Priority.EMERGENCY).desc(), Occurrence.fire_at, Occurrence.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidate = candidate.with_for_update(of=Occurrence, skip_locked=True)
    found = session.scalar(candidate)
    if found is None:
        return None
    session.execute(update(Occurrence).where(Occurrence.id == found).values(lease_owner=owner, lease_until=now + lease))
    return found


def expand(sessions: sessionmaker[Session], settings: Settings, occurrence_id: int, progress: Any = None) -> int:
    """Write the occurrence's delivery rows; returns how many recipients it has. Safe to run again."""
    with transaction(sessions) as session:
        occurrence = session.get(Occurrence, occurrence_id)
        if occurrence is None or occurrence.state != OccurrenceState.PENDING:
            return 0
        campaign = occurrence.campaign
        channel = next((c for c in campaign.channels if c.channel == occurrence.channel), None)
        refusal = sendable(campaign, channel, occurrence.fire_at, settings)
        if refusal is not None or channel is None:
            occurrence.state, occurrence.reason = OccurrenceState.CANCELLED, refusal
            return 0
        plan = _RowPlan.build(session, settings, occurrence, campaign, channel)
    written = 0
    with sessions() as session:
        stream = plan.rows(session, settings)
        for batch in iter(lambda: list(islice(stream, settings.expand_batch)), []):
            with transaction(sessions) as writer:
                insert_ignoring_duplicates(writer, Delivery, batch, count=False)
            written += len(batch)
            if progress is not None:
                progress(written)
    with transaction(sessions) as session:
        occurrence = session.get(Occurrence, occurrence_id)
        assert occurrence is not None
        occurrence.state, occurrence.recipients = OccurrenceState.EXPANDED, written
        occurrence.expanded_at, occurrence.lease_owner, occurrence.lease_until = utcnow(), None, None
    return written


@dataclass(frozen=True)
class _RowPlan:
    """Everything needed to turn recipients into delivery rows for one occurrence."""

    occurrence_id: int
    channel: str
    kind: RecipientKind
    audience: list[str]
    areas: list[str]
    rank: int
    due: datetime
    slot: str | None
    fire_local: str
    default_locale: str

    @classmethod
    def build(
        cls, session: Session, settings: Settings, occurrence: Occurrence, campaign: Campaign, channel: CampaignChannel
    ) -> _RowPlan:
        emergency = campaign.priority == Priority.EMERGENCY
        due = max(occurrence.fire_at, utcnow()) if occurrence.late else occurrence.fire_at
        if not within_window(settings, channel.channel, due):
            if emergency:
                occurrence.bypassed_window = True
                lifecycle.record(
                    session,
                    campaign,
                    WORKER,
                    "bypass-window",
                    channel=channel.channel,
                    fire_at=occurrence.fire_at.isoformat(),
                    window=settings.send_windows.get(channel.channel),
                )
            else:
                due = window_opens(settings, channel.channel, due)
        return cls(
            occurrence_id=occurrence.id,
            channel=channel.channel,
            kind=channel_class(channel.channel).recipient_kind,
            audience=list(channel.audience),
            areas=list(channel.areas),
            rank=RANKS[Priority(campaign.priority)],
            due=due,
            slot=occurrence.slot,
            fire_local=occurrence.fire_at.astimezone(settings.zone).strftime("%H:%M"),
            default_locale=campaign.locales[0] if campaign.locales else campaign.issuer.default_locale,
        )

    def rows(self, session: Session, settings: Settings) -> Iterator[dict[str, Any]]:
        selectors = [parse_selector(text) for text in self.audience]
        found = recipients(
            session,
            self.kind,
            selectors,
            self.areas,
            include_opted_out=True,
            include_outside=True,
            batch=settings.expand_batch,
        )
        for recipient in self._on_air(found):
            yield self._row(recipient)

    def _on_air(self, found: Iterable[Recipient]) -> Iterator[Recipient]:
        """For a slot occurrence, the stations whose slot is at this occurrence's time."""
        for recipient in found:
            if self.slot is None or recipient.details.get("slots", {}).get(self.slot) == self.fire_local:
                yield recipient

    def _row(self, recipient: Recipient) -> dict[str, Any]:
        details = {
            key: value
            for key, value in recipient.details.items()
            if key not in ("locale", "opted_out", "opted_out_on", "outside_areas") and value is not None
        }
        row = {
            "occurrence_id": self.occurrence_id,
            "channel": self.channel,
            "rank": self.rank,
            "address": recipient.address,
            "name": recipient.name or None,
            "locale": recipient_locale(recipient, self.default_locale),
            "details": details or None,
            "state": DeliveryState.PENDING,
            "due_at": self.due,
            "attempts": 0,
            "reason": None,
            "done_at": None,
        }
        if recipient.kind == RecipientKind.SUBSCRIBER:
            if recipient.details.get("opted_out"):
                since = recipient.details.get("opted_out_on")
                row.update(
                    state=DeliveryState.SKIPPED, reason=f"opted out{f' on {since}' if since else ''}", done_at=utcnow()
                )
            elif recipient.details.get("outside_areas"):
                row.update(state=DeliveryState.SKIPPED, reason="outside the campaign's areas", done_at=utcnow())
        return row


def skip_expired(session: Session, settings: Settings, now: datetime) -> int:
    """Deliveries still waiting when their campaign's validity has ended are skipped: nothing goes out late."""
    today = now.astimezone(settings.zone).date()
    expired = (
        select(Occurrence.id).join(Campaign, Campaign.id == Occurrence.campaign_id).where(Campaign.valid_until < today)
    )
    result = session.execute(
        update(Delivery)
        .where(Delivery.occurrence_id.in_(expired), and_(Delivery.state == DeliveryState.PENDING))
        .values(state=DeliveryState.SKIPPED, reason="the campaign's validity window ended first", done_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
