"""Fallback: who a channel could not reach gets the campaign's message on another of its channels, once.

A Zalo message to a number with no Zalo account, refused, or never reported as delivered within the set
time: the campaign's SMS goes to that number instead. The fallback's rows belong to an occurrence of their
own (the fallback channel, the first one's fire time, rule key `fallback:<first occurrence id>`), written
here as recipients are handed on; from then on they are ordinary deliveries: claimed, paced, capped,
recorded and reported like any other.

A recipient is handed on once: the first row is marked (`passed_on_at`) in the transaction that writes
the fallback's row, and the fallback occurrence holds at most one row per address. A recipient gets both
messages only when the first one's fate is unknown (no report in time, or an attempt that went
unanswered) and the campaign says to send the fallback then (`when_unknown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, sessionmaker

from broadcaster.db import insert_ignoring_duplicates, transaction
from broadcaster.models import (
    SENDING_STATUSES,
    Campaign,
    CampaignChannel,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Priority,
)
from broadcaster.outbox import TEST_SEND
from broadcaster.policy import first_send, local_day
from broadcaster.settings import Settings

FALLBACK = "fallback:"  # the rule key's prefix of a fallback occurrence, before the first occurrence's id

# The message certainly did not reach the recipient: the fallback goes, whatever `when_unknown` says.
NOT_REACHED = (DeliveryState.INVALID, DeliveryState.REJECTED, DeliveryState.FAILED, DeliveryState.UNDELIVERED)
# Handed to the provider with no report yet: after the wait, its fate is unknown.
AWAITING_REPORT = (DeliveryState.ACCEPTED,)
HAND_ON_AT_ONCE = 1000  # recipients handed on per transaction
REACHED_AFTER_ALL = "not needed: the first channel's message was reported delivered before this one went"
# The columns of a fallback's row, in the order `_hand_on_some` selects them from the first channel's.
_COPIED = ["occurrence_id", "channel", "rank", "address", "name", "locale", "details", "state", "due_at", "attempts"]


@dataclass(frozen=True)
class FallbackRule:
    """A campaign channel's `fallback`, as stored (`broadcaster.campaigns.file.Fallback`)."""

    channel: str
    wait: timedelta
    when_unknown: bool

    @classmethod
    def of(cls, stored: dict[str, Any]) -> FallbackRule:
        return cls(str(stored["channel"]), timedelta(minutes=int(stored["wait_minutes"])), bool(stored["when_unknown"]))


def is_fallback(rule_key: str) -> bool:
    """Whether an occurrence holds a fallback's rows (a test send's fallback too)."""
    return rule_key.removeprefix(TEST_SEND).startswith(FALLBACK)


def first_occurrence_id(rule_key: str) -> int:
    """The occurrence a fallback occurrence stands in for."""
    return int(rule_key.removeprefix(TEST_SEND).removeprefix(FALLBACK))


def _fallback_key(first: Occurrence) -> str:
    ordinary, test = _fallback_keys(first.id)
    return test if first.rule_key.startswith(TEST_SEND) else ordinary


def hand_on(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Hand every recipient now due for a fallback to it; returns how many were handed on."""
    handed = 0
    for occurrence_id, rule in _open_occurrences(sessions, settings, now):
        after = 0  # rows are looked at in id order, each once per call
        while True:
            with transaction(sessions) as session:
                written, after = _hand_on_some(session, settings, occurrence_id, rule, now, after)
            handed += written
            if written < HAND_ON_AT_ONCE:
                break
        with transaction(sessions) as session:
            _withdraw_reached(session, occurrence_id, now)
    return handed


def _withdraw_reached(session: Session, occurrence_id: int, now: datetime) -> int:
    """A fallback not sent yet (waiting for its send window, or a retry) whose first message was reported
    delivered after all is skipped: the recipient has the warning, and would otherwise get it twice."""
    first = aliased(Delivery)
    reached = (
        select(first.id)
        .where(
            first.occurrence_id == occurrence_id,
            first.address == Delivery.address,
            first.state == DeliveryState.DELIVERED,
        )
        .exists()
    )
    fallbacks = select(Occurrence.id).where(Occurrence.rule_key.in_(_fallback_keys(occurrence_id)))
    result = session.execute(
        update(Delivery)
        .where(Delivery.occurrence_id.in_(fallbacks), Delivery.state == DeliveryState.PENDING, reached)
        .values(state=DeliveryState.SKIPPED, reason=REACHED_AFTER_ALL, done_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _fallback_keys(occurrence_id: int) -> list[str]:
    """The rule keys a fallback occurrence of this occurrence may have: an ordinary one's, a test send's."""
    return [f"{FALLBACK}{occurrence_id}", f"{TEST_SEND}{FALLBACK}{occurrence_id}"]


def _open_occurrences(
    sessions: sessionmaker[Session], settings: Settings, now: datetime
) -> list[tuple[int, FallbackRule]]:
    """Expanded occurrences of channels with a fallback, of campaigns that may still send."""
    with sessions() as session:
        found = session.execute(
            select(Occurrence.id, CampaignChannel.fallback)
            .join(Campaign, Campaign.id == Occurrence.campaign_id)
            .join(
                CampaignChannel,
                and_(CampaignChannel.campaign_id == Campaign.id, CampaignChannel.channel == Occurrence.channel),
            )
            .where(
                CampaignChannel.fallback.is_not(None),
                Occurrence.state == OccurrenceState.EXPANDED,
                Campaign.status.in_(SENDING_STATUSES),
                Campaign.valid_until >= local_day(settings, now),
            )
            .order_by(Occurrence.id)
        ).all()
    return [(occurrence_id, FallbackRule.of(stored)) for occurrence_id, stored in found]


def _due(rule: FallbackRule, now: datetime) -> ColumnElement[bool]:
    """The rows of the first channel whose recipient is due for the fallback now."""
    due: ColumnElement[bool] = Delivery.state.in_(NOT_REACHED)
    if rule.when_unknown:
        unreported = and_(Delivery.state.in_(AWAITING_REPORT), Delivery.done_at < now - rule.wait)
        due = or_(due, Delivery.state == DeliveryState.UNKNOWN, unreported)
    return and_(Delivery.passed_on_at.is_(None), due)


def _hand_on_some(
    session: Session, settings: Settings, occurrence_id: int, rule: FallbackRule, now: datetime, after: int
) -> tuple[int, int]:
    """Mark up to HAND_ON_AT_ONCE due rows after id `after` as handed on and write their fallback rows, in one
    transaction; returns how many, and the last id looked at.

    The rows are marked first (UPDATE … RETURNING): on PostgreSQL a second worker's UPDATE waits for the
    first's and then finds them marked, so neither hands a recipient on twice. The fallback's rows are then
    copied from the marked ones by the database (INSERT … SELECT), one statement.
    """
    picked = (
        select(Delivery.id)
        .where(Delivery.occurrence_id == occurrence_id, Delivery.id > after, _due(rule, now))
        .order_by(Delivery.id)
        .limit(HAND_ON_AT_ONCE)
    )
    if session.get_bind().dialect.name == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    marked = list(
        session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(picked.scalar_subquery()), Delivery.passed_on_at.is_(None))
            .values(passed_on_at=now)
            .returning(Delivery.id)
        )
    )
    if not marked:
        return 0, after
    first = session.get(Occurrence, occurrence_id)
    assert first is not None
    target = _fallback_occurrence(session, first, rule.channel, now)
    timing = first_send(
        settings,
        rule.channel,
        now,
        late=False,
        emergency=first.campaign.priority == Priority.EMERGENCY,
        now=now,
    )
    copied = select(
        literal(target.id),
        literal(rule.channel),
        Delivery.rank,
        Delivery.address,
        Delivery.name,
        Delivery.locale,
        Delivery.details,
        literal(DeliveryState.PENDING.value),
        bindparam("due_at", timing.due, type_=Delivery.due_at.type),
        literal(0),
    ).where(Delivery.id.in_(marked))
    insert = (postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(Delivery)
    # Counted through RETURNING: the row count of this INSERT … SELECT came back as -1 on PostgreSQL.
    statement = insert.from_select(_COPIED, copied).on_conflict_do_nothing().returning(Delivery.id)
    written = len(session.connection().execute(statement).all())
    session.execute(
        update(Occurrence).where(Occurrence.id == target.id).values(recipients=Occurrence.recipients + written)
    )
    return len(marked), max(marked)


def _fallback_occurrence(session: Session, first: Occurrence, channel: str, now: datetime) -> Occurrence:
    """The occurrence holding the fallback's rows for `first`, written the first time it is needed."""
    key = _fallback_key(first)
    insert_ignoring_duplicates(
        session,
        Occurrence,
        [
            {
                "campaign_id": first.campaign_id,
                "channel": channel,
                "rule_key": key,
                "slot": None,
                "fire_at": first.fire_at,
                "state": OccurrenceState.EXPANDED,
                "late": False,
                "bypassed_window": False,
                "recipients": 0,
                "expanded_at": now,
                "content": first.content,  # a test send of a draft falls back to the same draft
            }
        ],
        count=False,
    )
    found = session.scalar(
        select(Occurrence).where(
            Occurrence.campaign_id == first.campaign_id,
            Occurrence.channel == channel,
            Occurrence.rule_key == key,
            Occurrence.fire_at == first.fire_at,
        )
    )
    assert found is not None
    return found
