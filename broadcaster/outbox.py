"""The outbox: an occurrence expanded to one delivery row per recipient.

Rows are written in streaming batches (a province's million numbers are never in memory at once)
with INSERT … ON CONFLICT DO NOTHING on (occurrence, recipient), so an expansion that was cut off
is simply run again. Opted-out numbers and numbers outside the campaign's areas are written as
skipped, with the reason. Send windows are applied here (`policy.first_send`): a row due outside its channel's window
waits for the window to open; an emergency campaign bypasses the window, and that is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, sessionmaker

from broadcaster import audit
from broadcaster.db import insert_ignoring_duplicates, transaction
from broadcaster.directory import areas_within
from broadcaster.directory.audience import (
    SubscriberFilter,
    parse_selector,
    recipient_locale,
    recipients,
    subscriber_conditions,
)
from broadcaster.models import (
    Area,
    Campaign,
    CampaignChannel,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Priority,
    Subscriber,
    SubscriberList,
)
from broadcaster.policy import first_send, hand_over_ahead, local_day, may_send
from broadcaster.settings import Settings
from channels.base import Recipient, RecipientKind, channel_class, facts_to_json

RANKS = {Priority.EMERGENCY: 0, Priority.PRIORITY: 1, Priority.ORDINARY: 2}
WORKER = "worker"


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


TEST_SEND = "test:"  # the rule key's prefix of an occurrence sent to the test lists only
# Test sends go first, are exempt from the daily caps and are never counted in them (`workers`).
TEST_RANK = -1


def is_test_send(occurrence: Occurrence) -> bool:
    return occurrence.rule_key.startswith(TEST_SEND)


def test_audience(session: Session) -> list[str]:
    """The selectors of every subscriber list marked as test."""
    slugs = session.scalars(
        select(SubscriberList.slug).where(SubscriberList.is_test.is_(True)).order_by(SubscriberList.slug)
    )
    return [f"list:{slug}" for slug in slugs]


def expand(sessions: sessionmaker[Session], settings: Settings, occurrence_id: int) -> int:
    """Write the occurrence's delivery rows; returns how many recipients it has. Safe to run again."""
    with transaction(sessions) as session:
        occurrence = session.get(Occurrence, occurrence_id)
        if occurrence is None or occurrence.state != OccurrenceState.PENDING:
            return 0
        campaign = occurrence.campaign
        channel = next((c for c in campaign.channels if c.channel == occurrence.channel), None)
        # A test send of a draft goes to staff phones whatever the campaign's status and validity.
        refusal = None if occurrence.content is not None else may_send(settings, campaign, channel, occurrence.fire_at)
        if refusal is not None or channel is None:
            occurrence.state, occurrence.reason = OccurrenceState.CANCELLED, refusal
            return 0
        plan = _RowPlan.build(session, settings, occurrence, campaign, channel)
    if plan.kind == RecipientKind.SUBSCRIBER:
        plan.write_subscribers(sessions, settings)
    else:
        plan.write_rows(sessions, settings)
    with transaction(sessions) as session:
        occurrence = session.get(Occurrence, occurrence_id)
        assert occurrence is not None
        written = session.scalar(select(func.count()).where(Delivery.occurrence_id == occurrence_id)) or 0
        occurrence.state, occurrence.recipients = OccurrenceState.EXPANDED, written
        occurrence.expanded_at, occurrence.lease_owner, occurrence.lease_until = settings.clock.now(), None, None
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
        timing = first_send(
            settings,
            channel.channel,
            occurrence.fire_at,
            late=occurrence.late,
            emergency=campaign.priority == Priority.EMERGENCY,
            now=settings.clock.now(),
            ahead=hand_over_ahead(settings, channel.channel, channel.options),
        )
        if timing.bypassed_window:
            occurrence.bypassed_window = True
            audit.record(
                session,
                campaign,
                WORKER,
                "bypass-window",
                channel=channel.channel,
                fire_at=occurrence.fire_at.isoformat(),
                window=settings.send_windows.get(channel.channel),
            )
        return cls(
            occurrence_id=occurrence.id,
            channel=channel.channel,
            kind=channel_class(channel.channel).recipient_kind,
            # A send to the test list goes to the lists marked as test, wherever their numbers are.
            audience=test_audience(session) if is_test_send(occurrence) else list(channel.audience),
            areas=[] if is_test_send(occurrence) else list(channel.areas),
            rank=TEST_RANK if is_test_send(occurrence) else RANKS[Priority(campaign.priority)],
            due=timing.due,
            slot=occurrence.slot,
            fire_local=occurrence.fire_at.astimezone(settings.zone).strftime("%H:%M"),
            default_locale=campaign.locales[0] if campaign.locales else campaign.issuer.default_locale,
        )

    def write_rows(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        """Agencies, stations and pages: few, read through the directory and written in batches."""
        with sessions() as session:
            selectors = [parse_selector(text) for text in self.audience]
            found = recipients(session, self.kind, selectors, self.areas, settings.today())
            stream = (self._row(recipient) for recipient in self._on_air(found))
            for batch in iter(lambda: list(islice(stream, settings.expand_batch)), []):
                with transaction(sessions) as writer:
                    insert_ignoring_duplicates(writer, Delivery, batch, count=False)

    def _on_air(self, found: Iterable[Recipient]) -> Iterator[Recipient]:
        """For a slot occurrence, the stations whose slot is at this occurrence's time."""
        for recipient in found:
            if self.slot is None or recipient.slots.get(self.slot) == self.fire_local:
                yield recipient

    def _row(self, recipient: Recipient) -> dict[str, Any]:
        details = facts_to_json(recipient.facts)
        return {
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

    def write_subscribers(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        """Subscribers — up to a province's million numbers — are copied by the database itself,
        INSERT … SELECT over consecutive id ranges, each range its own short transaction.

        Opted-out numbers and numbers outside the campaign's areas are written as skipped, with the
        reason, so the outbox accounts for everyone the audience names.
        """
        selectors = [parse_selector(text) for text in self.audience]
        wanted = SubscriberFilter(None, True, True)
        with sessions() as session:
            area_ids = areas_within(session, self.areas, settings.today()) if self.areas else None
            dialect = session.get_bind().dialect.name
            first, last = session.execute(
                select(func.min(Subscriber.id), func.max(Subscriber.id)).where(
                    *subscriber_conditions(selectors, wanted)
                )
            ).one()
        if first is None:
            return
        rows = self._subscriber_rows(area_ids, dialect, settings.clock.now())
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Delivery)
        for after in range(first - 1, last, settings.expand_batch):
            in_range = subscriber_conditions(selectors, wanted, ids=(after, after + settings.expand_batch))
            insert = statement.from_select(list(_SUBSCRIBER_COLUMNS), rows.where(*in_range).order_by(Subscriber.id))
            with transaction(sessions) as session:
                session.connection().execute(insert.on_conflict_do_nothing(index_elements=_ONE_PER_RECIPIENT))

    def _subscriber_rows(self, area_ids: set[int] | None, dialect: str, now: datetime) -> Select[Any]:
        """One delivery row per subscriber row, in the order of `_SUBSCRIBER_COLUMNS`."""
        opted_out = Subscriber.opted_out.is_(True)
        outside: ColumnElement[bool] = (
            or_(Subscriber.area_id.is_(None), Subscriber.area_id.not_in(area_ids)) if area_ids is not None else false()
        )
        skipped = or_(opted_out, outside)
        build_object = func.jsonb_build_object if dialect == "postgresql" else func.json_object
        # The lists the number is on, recorded for the results' breakdown by list (kept counts, migration 0027).
        entries = aliased(Subscriber)
        if dialect == "postgresql":
            lists: ColumnElement[Any] = (
                select(func.jsonb_agg(entries.list_id)).where(entries.phone == Subscriber.phone).scalar_subquery()
            )
        else:
            lists = func.json(
                select(func.json_group_array(entries.list_id))
                .where(entries.phone == Subscriber.phone)
                .scalar_subquery()
            )
        when = bindparam("done_at", now, type_=Delivery.done_at.type)
        return (
            select(
                literal(self.occurrence_id),
                literal(self.channel),
                literal(self.rank),
                Subscriber.phone,
                null(),
                func.coalesce(func.nullif(Subscriber.locale, ""), self.default_locale),
                case(
                    (Area.name.is_(None), build_object("lists", lists)),
                    else_=build_object("area", Area.name, "lists", lists),
                ),
                case((skipped, DeliveryState.SKIPPED.value), else_=DeliveryState.PENDING.value),
                bindparam("due_at", self.due, type_=Delivery.due_at.type),
                literal(0),
                case(
                    (and_(opted_out, Subscriber.opted_out_on.is_(None)), "opted out"),
                    (opted_out, "opted out on " + cast(Subscriber.opted_out_on, String)),
                    (outside, "outside the campaign's areas"),
                    else_=null(),
                ),
                case((skipped, when), else_=null()),
            )
            .select_from(Subscriber)
            .outerjoin(Area, Area.id == Subscriber.area_id)
        )


# The key that makes a number one delivery of its occurrence, however many lists it is on and however often an
# expansion is run again. Named as the conflict's target, PostgreSQL checks only this index before each row
# instead of every unique index (the primary key too, which a new id from its sequence never breaks).
_ONE_PER_RECIPIENT = ("occurrence_id", "address")

_SUBSCRIBER_COLUMNS = (
    "occurrence_id",
    "channel",
    "rank",
    "address",
    "name",
    "locale",
    "details",
    "state",
    "due_at",
    "attempts",
    "reason",
    "done_at",
)


def skip_expired(session: Session, settings: Settings, now: datetime) -> int:
    """Deliveries still waiting when their campaign's validity has ended are skipped: nothing goes out late."""
    expired = select(Occurrence.id).join(Campaign, Campaign.id == Occurrence.campaign_id)
    # `validity_over` as a query: valid until a day before today.
    expired = expired.where(Campaign.valid_until < local_day(settings, now))
    result = session.execute(
        update(Delivery)
        .where(Delivery.occurrence_id.in_(expired), and_(Delivery.state == DeliveryState.PENDING))
        .values(state=DeliveryState.SKIPPED, reason="the campaign's validity window ended first", done_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
