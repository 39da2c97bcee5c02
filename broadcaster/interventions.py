"""What staff do to a running campaign's outbox: send on a channel now, send failed deliveries again.

Each refuses, with the reason, what could only look done: an occurrence the outbox would cancel
(outside the validity window, a paused channel), or deliveries re-queued for a campaign that can no
longer send (cancelled, completed, its validity over).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from broadcaster import audit
from broadcaster.db import insert_ignoring_duplicates
from broadcaster.errors import TransitionRefused, UserError
from broadcaster.models import SENDING_STATUSES, Campaign, Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.outbox import TEST_SEND, test_audience
from broadcaster.policy import may_send, retry_refusal
from broadcaster.settings import Settings
from channels.base import RecipientKind, channel_class


def send_now(
    session: Session,
    settings: Settings,
    campaign: Campaign,
    channel: str,
    who: str,
    now: datetime,
    *,
    test: bool = False,
) -> int:
    """An extra occurrence of `channel` now, audited; returns how many occurrences wait to fan out.

    With `test`, the occurrence goes to the subscriber lists marked as test instead of the audience
    (SMS only: test lists hold phone numbers); refused when no list is marked."""
    item = next((entry for entry in campaign.channels if entry.channel == channel), None)
    if campaign.status not in SENDING_STATUSES:
        raise TransitionRefused(
            f"campaign '{campaign.slug}' is {campaign.status}; only an approved or active campaign can be sent now"
        )
    if item is None:
        known = ", ".join(entry.channel for entry in campaign.channels)
        raise UserError(f"campaign '{campaign.slug}' has no {channel} channel (it has {known})")
    if refusal := may_send(settings, campaign, item, now):
        raise TransitionRefused(f"cannot send '{campaign.slug}' on {channel} now: {refusal}")
    if test:
        _refuse_test_send(session, channel)
    _occurrence(session, campaign, channel, f"{TEST_SEND if test else 'now:'}{now:%Y%m%dT%H%M%S}", now)
    action = "send-test" if test else "send-now"
    audit.record(session, campaign, who, action, channel=channel, at=now.astimezone(UTC).isoformat())
    return _waiting(session)


def send_draft_test(
    session: Session, campaign: Campaign, channel: str, who: str, now: datetime, content: dict[str, Any]
) -> int:
    """A test send of content not yet approved (a draft's, a revision's) to the test lists only, audited;
    returns how many occurrences wait to fan out. Its text is marked as a test, it is never counted in
    the campaign's totals or the daily caps, and it goes whatever the campaign's status."""
    if channel not in content["channels"]:
        known = ", ".join(content["channels"])
        raise UserError(f"the draft of campaign '{campaign.slug}' has no {channel} channel (it has {known})")
    _refuse_test_send(session, channel)
    _occurrence(session, campaign, channel, f"{TEST_SEND}draft:{now:%Y%m%dT%H%M%S}", now, content)
    audit.record(session, campaign, who, "send-test", channel=channel, at=now.astimezone(UTC).isoformat(), draft=True)
    return _waiting(session)


def _occurrence(
    session: Session, campaign: Campaign, channel: str, rule_key: str, now: datetime, content: Any = None
) -> None:
    occurrence = {
        "campaign_id": campaign.id,
        "channel": channel,
        "rule_key": rule_key,
        "slot": None,
        "fire_at": now,
        "state": OccurrenceState.PENDING,
        "late": False,
        "created_at": now,
        "content": content,
    }
    insert_ignoring_duplicates(session, Occurrence, [occurrence])  # one a second: a double click sends once


def _waiting(session: Session) -> int:
    return session.scalar(select(func.count()).where(Occurrence.state == OccurrenceState.PENDING)) or 0


def _refuse_test_send(session: Session, channel: str) -> None:
    if channel_class(channel).recipient_kind != RecipientKind.SUBSCRIBER:
        raise UserError(f"test lists hold phone numbers: only the sms channel can be sent to them, not {channel}")
    if not test_audience(session):
        raise UserError("no subscriber list is marked as test: mark one (the directory's lists) before a test send")


def retry_failed(
    session: Session, settings: Settings, campaign: Campaign, channel: str | None, who: str, now: datetime
) -> int:
    """Failed deliveries pending again, keeping their idempotency keys; returns how many, audited."""
    if refusal := retry_refusal(settings, campaign, now):
        raise TransitionRefused(refusal)
    ours = select(Occurrence.id).where(Occurrence.campaign_id == campaign.id)
    if channel is not None:
        ours = ours.where(Occurrence.channel == channel)
    result = session.execute(
        update(Delivery)
        .where(Delivery.occurrence_id.in_(ours), Delivery.state == DeliveryState.FAILED)
        .values(state=DeliveryState.PENDING, due_at=now, attempts=0, done_at=None, reason=f"re-queued by {who}")
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record(session, campaign, who, "retry", channel=channel or "all", deliveries=count)
    return count
