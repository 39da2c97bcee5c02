"""What a campaign (or every campaign in a period) reached, per channel: planned, sent, delivered or not
(SMS), posted (Facebook), letters sent and bounced (e-mail), slots aired, not aired (and why) and overdue
(radio); by area (province → commune, the areas that ended in the 2025 reform folded into their
successors), by station, by subscriber list and by day. The console's results page, the API and the
exported report all read this one function, so every form shows the same numbers.

Totals per channel and per day come from the counts kept per occurrence and state, the breakdown by area
from those kept per occurrence, area and state, the breakdown by list from those kept per occurrence, list
and state (`broadcaster.counts`); the breakdown by station is grouped by the database. No delivery row is
read into Python.
Test sends are never counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.counts import area_counts, counts, list_counts
from broadcaster.errors import UserError
from broadcaster.fallback import first_occurrence_id, is_fallback
from broadcaster.models import (
    DONE,
    AiringReport,
    Area,
    Campaign,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Station,
    SubscriberList,
)
from broadcaster.outbox import TEST_SEND
from broadcaster.settings import Settings
from channels.base import Recipient, RecipientKind, configured_adapter, facts_from_json

FAILED = frozenset({DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED})
WAITING = frozenset({DeliveryState.PENDING, DeliveryState.SENDING})
KINDS = ("email", "sms", "zalo", "facebook", "radio")
NO_AREA = "—"
LONGEST_PERIOD = 366


class BadPeriod(UserError):
    """A period that cannot be reported on (its end before its start, or longer than a year)."""


class Tally(BaseModel):
    """Deliveries by what became of them. `planned` is every delivery written (one per recipient and fire)."""

    planned: int = 0
    sent: int = 0  # went out, or may have: sent, accepted, scheduled, delivered, undelivered, unknown
    delivered: int = 0  # SMS: the telco's report said delivered
    undelivered: int = 0  # SMS: the telco's report said not delivered
    unknown: int = 0  # whether it went out was never settled
    awaiting_report: int = 0  # SMS accepted by the gateway, no report yet
    failed: int = 0  # failed, invalid or rejected: for e-mail, the letters bounced
    skipped: int = 0  # never sent on purpose: opted out, outside the areas, cancelled, expired
    waiting: int = 0  # not sent yet


def tally(states: Mapping[str, int]) -> Tally:
    """The tally of deliveries counted by state."""
    return Tally(
        planned=sum(states.values()),
        sent=sum(number for state, number in states.items() if state in DONE),
        delivered=states.get(DeliveryState.DELIVERED, 0),
        undelivered=states.get(DeliveryState.UNDELIVERED, 0),
        unknown=states.get(DeliveryState.UNKNOWN, 0),
        awaiting_report=states.get(DeliveryState.ACCEPTED, 0),
        failed=sum(number for state, number in states.items() if state in FAILED),
        skipped=states.get(DeliveryState.SKIPPED, 0),
        waiting=sum(number for state, number in states.items() if state in WAITING),
    )


class Airing(BaseModel):
    """Radio slots whose script went out, by what the stations said about them."""

    slots: int = 0
    aired: int = 0
    not_aired: int = 0
    unconfirmed: int = 0
    overdue: int = 0  # of the unconfirmed: still unconfirmed this long after the slot's time
    not_aired_reasons: dict[str, int] = Field(default_factory=dict)  # equipment, power, emergency, other


class ChannelResult(BaseModel):
    channel: str
    kind: str  # email, sms, facebook or radio: which figures mean something for it
    fires: int  # the channel's fire times recorded (sent, missed or cancelled)
    fires_missed: int  # passed beyond the grace while nothing ran: never sent
    deliveries: Tally
    airing: Airing | None = None  # radio only
    # The channel's messages to whom `after` could not reach (its fallback: "SMS after Zalo"), apart from
    # what it sent on its own timetable; None for the latter.
    after: str | None = None
    passed_on: int = 0  # recipients this channel could not reach, handed to its fallback


class AreaResult(BaseModel):
    province: str
    area: str  # the commune, ward or district; an ended area with several successors keeps its own name
    folded_from: list[str] = Field(default_factory=list)  # ended areas whose deliveries are counted here
    channel: str
    deliveries: Tally


class StationResult(BaseModel):
    station: str
    station_name: str
    area: str | None
    airing: Airing


class ListResult(BaseModel):
    list: str
    list_name: str
    deliveries: Tally


class DayResult(BaseModel):
    day: date
    channel: str
    deliveries: Tally


class Results(BaseModel):
    campaign: str | None  # None: every campaign in the period
    subject: str | None
    number: str | None
    start: date | None  # the period's first day, local time (None: from the campaign's first fire)
    end: date | None  # the period's last day
    at: datetime  # when these figures were read
    campaigns: list[str]
    channels: list[ChannelResult]
    areas: list[AreaResult]
    stations: list[StationResult]
    lists: list[ListResult]
    days: list[DayResult]


def channel_kind(channel: str) -> str:
    """A channel's kind: "sms-khan" is an SMS channel."""
    return channel.split("-", 1)[0]


def campaign_results(
    session: Session,
    actor: Actor,
    settings: Settings,
    slug: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Results:
    """The results of one campaign (all of its fires, or those in the period) or of every campaign whose
    fires fall in the period from `start` to `end` (local days, both included)."""
    actor.require("campaigns:read")
    if slug is None and (start is None or end is None):
        raise BadPeriod("a report without a campaign needs a period: its first and last day")
    if start is not None and end is not None:
        if end < start:
            raise BadPeriod(f"the period ends ({end}) before it starts ({start})")
        if (end - start).days >= LONGEST_PERIOD:
            raise BadPeriod(f"a period is at most {LONGEST_PERIOD} days; report a longer time year by year")
    campaign = find_campaign(session, slug) if slug is not None else None
    where = _occurrences_where(settings, campaign, start, end)
    occurrences = session.execute(
        select(
            Occurrence.id,
            Occurrence.channel,
            Occurrence.fire_at,
            Occurrence.state,
            Occurrence.rule_key,
            Occurrence.recipients,
            Campaign.slug,
        )
        .join(Campaign, Campaign.id == Occurrence.campaign_id)
        .where(*where)
    ).all()
    kept = counts(session, [row.id for row in occurrences if row.state == OccurrenceState.EXPANDED])
    now = settings.clock.now()
    overdue_before = now - timedelta(hours=settings.airing_overdue_hours)
    radio = [row.id for row in occurrences if row.channel.startswith("radio")]
    stations = _stations(session, radio, overdue_before)
    return Results(
        campaign=campaign.slug if campaign is not None else None,
        subject=campaign.subject if campaign is not None else None,
        number=campaign.number if campaign is not None else None,
        start=start,
        end=end,
        at=now,
        campaigns=sorted({row.slug for row in occurrences}),
        channels=_channels(occurrences, kept, stations),
        areas=_areas(session, occurrences, settings.today()),
        stations=stations,
        lists=_lists(session, occurrences),
        days=_days(occurrences, kept, settings),
    )


def _occurrences_where(
    settings: Settings, campaign: Campaign | None, start: date | None, end: date | None
) -> list[Any]:
    where: list[Any] = [~Occurrence.rule_key.startswith(TEST_SEND)]
    if campaign is not None:
        where.append(Occurrence.campaign_id == campaign.id)
    if start is not None:
        where.append(Occurrence.fire_at >= datetime.combine(start, time(0), settings.zone))
    if end is not None:
        where.append(Occurrence.fire_at < datetime.combine(end + timedelta(days=1), time(0), settings.zone))
    return where


def _channels(
    occurrences: Sequence[Any], kept: dict[tuple[int, str], int], stations: list[StationResult]
) -> list[ChannelResult]:
    """One result per channel, and one per fallback ("sms" after "zalo"), whose rows are counted apart."""
    channel_of = {row.id: row.channel for row in occurrences}
    fires: Counter[tuple[str, str | None]] = Counter()
    missed: Counter[tuple[str, str | None]] = Counter()
    passed_on: Counter[str] = Counter()
    counted: dict[int, tuple[str, str | None]] = {}
    for row in occurrences:
        if is_fallback(row.rule_key):
            after = channel_of.get(first_occurrence_id(row.rule_key), "?")
            counted[row.id] = (row.channel, after)
            fires[counted[row.id]] += 0  # not a fire of its own: its rows follow the first channel's fires
            passed_on[after] += row.recipients
            continue
        counted[row.id] = (row.channel, None)
        fires[counted[row.id]] += 1
        missed[counted[row.id]] += row.state == OccurrenceState.MISSED
    states: dict[tuple[str, str | None], Counter[str]] = {key: Counter() for key in fires}
    for (occurrence_id, state), number in kept.items():
        states[counted[occurrence_id]][state] += number
    found = []
    # A fallback's row right after the channel it stood in for.
    for channel, after in sorted(fires, key=lambda key: (_channel_order(key[1] or key[0]), key[1] is not None, key[0])):
        result = ChannelResult(
            channel=channel,
            kind=channel_kind(channel),
            fires=fires[channel, after],
            fires_missed=missed[channel, after],
            deliveries=tally(states[channel, after]),
            after=after,
            passed_on=passed_on[channel] if after is None else 0,
        )
        if result.kind == "radio":
            result.airing = _sum_airing(item.airing for item in stations)
        found.append(result)
    return found


def _channel_order(channel: str) -> tuple[int, str]:
    kind = channel_kind(channel)
    return (KINDS.index(kind) if kind in KINDS else len(KINDS), channel)


def _days(occurrences: Iterable[Any], kept: dict[tuple[int, str], int], settings: Settings) -> list[DayResult]:
    day_of = {row.id: (row.fire_at.astimezone(settings.zone).date(), row.channel) for row in occurrences}
    states: dict[tuple[date, str], Counter[str]] = {}
    for (occurrence_id, state), number in kept.items():
        states.setdefault(day_of[occurrence_id], Counter())[state] += number
    return [
        DayResult(day=day, channel=channel, deliveries=tally(states[(day, channel)]))
        for day, channel in sorted(states, key=lambda key: (key[0], _channel_order(key[1])))
    ]


def _areas(session: Session, occurrences: Iterable[Any], today: date) -> list[AreaResult]:
    """Deliveries by the recipient's area as it was written on the delivery, placed in today's map."""
    channel_of = {row.id: row.channel for row in occurrences}
    kept = area_counts(session, channel_of)
    places = _AreaMap(session, today)
    states: dict[tuple[str, str, str], Counter[str]] = {}
    folded: dict[tuple[str, str, str], set[str]] = {}
    for (occurrence_id, name, state), number in kept.items():
        province, area, former = places.place(name)
        key = (province, area, channel_of[occurrence_id])
        states.setdefault(key, Counter())[state] += number
        folded.setdefault(key, set()).update(former)
    return [
        AreaResult(
            province=province,
            area=area,
            folded_from=sorted(folded[(province, area, channel)]),
            channel=channel,
            deliveries=tally(states[(province, area, channel)]),
        )
        for province, area, channel in sorted(states, key=lambda key: (key[0], key[1], _channel_order(key[2])))
    ]


class _AreaMap:
    """Where an area named on a delivery stands today: its province and itself, or, when it has ended, the
    one area that replaced it (or, when several did, its successors' province, under its own name)."""

    def __init__(self, session: Session, today: date) -> None:
        self.today = today
        self.areas = {area.id: area for area in session.scalars(select(Area).order_by(Area.code))}
        self.by_name: dict[str, Area] = {}
        for area in self.areas.values():
            known = self.by_name.get(area.name)
            # Two areas may share a name (the reform reuses old names): the one still in use wins.
            if known is None or (known.ended(today) and not area.ended(today)):
                self.by_name[area.name] = area

    def province(self, area: Area) -> Area:
        while area.parent_id is not None and area.kind not in ("province", "city"):
            area = self.areas[area.parent_id]
        return area

    def place(self, name: str | None) -> tuple[str, str, list[str]]:
        area = self.by_name.get(name) if name else None
        if area is None:
            return (NO_AREA, name or NO_AREA, [])
        if not area.ended(self.today) or not area.successors:
            return (self.province(area).name, area.name, [])
        current = [successor for successor in area.successors if not successor.ended(self.today)] or area.successors
        if len(current) == 1:
            return (self.province(current[0]).name, current[0].name, [area.name])
        return (self.province(current[0]).name, area.name, [area.name])


def _lists(session: Session, occurrences: Iterable[Any]) -> list[ListResult]:
    """SMS deliveries by the subscriber list their number was on when the fan-out wrote them (a number on two
    lists is one delivery, counted in both); test lists and lists since removed are left out."""
    sms = [row.id for row in occurrences if row.channel.startswith("sms") and row.state == OccurrenceState.EXPANDED]
    kept = list_counts(session, sms)
    names = {
        row.id: (row.slug, row.name)
        for row in session.execute(
            select(SubscriberList.id, SubscriberList.slug, SubscriberList.name).where(
                SubscriberList.id.in_({list_id for _, list_id, _ in kept}), SubscriberList.is_test.is_(False)
            )
        )
    }
    states: dict[tuple[str, str], Counter[str]] = {}
    for (_, list_id, state), number in kept.items():
        if list_id in names:
            states.setdefault(names[list_id], Counter())[state] += number
    return [
        ListResult(list=slug, list_name=name, deliveries=tally(states[(slug, name)])) for slug, name in sorted(states)
    ]


def _stations(session: Session, radio: list[int], overdue_before: datetime) -> list[StationResult]:
    """Radio slots whose script went out, per station, by the station's latest report on each, of these
    radio occurrences."""
    if not radio:
        return []
    latest = (
        select(AiringReport.delivery_id, func.max(AiringReport.id).label("report_id"))
        .group_by(AiringReport.delivery_id)
        .subquery()
    )
    overdue = and_(latest.c.report_id.is_(None), Occurrence.fire_at < overdue_before)
    is_overdue = case((overdue, 1), else_=0).label("overdue")
    query = (
        select(Delivery.address, AiringReport.aired, AiringReport.reason, is_overdue, func.count())
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .outerjoin(latest, latest.c.delivery_id == Delivery.id)
        .outerjoin(AiringReport, AiringReport.id == latest.c.report_id)
        # The radio fires named by their ids: PostgreSQL then finds their deliveries through the (occurrence,
        # state) index; told only "the campaign's radio fires", it expected a third of the outbox and read it all.
        .where(Delivery.occurrence_id.in_(radio), Delivery.state.in_(list(DONE)))
        .group_by(Delivery.address, AiringReport.aired, AiringReport.reason, is_overdue)
    )
    found: dict[str, Airing] = {}
    for address, aired, reason, late, number in session.execute(query):
        airing = found.setdefault(address, Airing())
        airing.slots += number
        if aired is None:
            airing.unconfirmed += number
            airing.overdue += number if late else 0
        elif aired:
            airing.aired += number
        else:
            airing.not_aired += number
            key = reason or "other"
            airing.not_aired_reasons[key] = airing.not_aired_reasons.get(key, 0) + number
    names = {
        row.slug: (row.name, row.area)
        for row in session.execute(
            select(Station.slug, Station.name, Area.name.label("area"))
            .outerjoin(Area, Area.id == Station.area_id)
            .where(Station.slug.in_(list(found)))
        )
    }
    return [
        StationResult(
            station=slug,
            station_name=names.get(slug, (slug, None))[0],  # a station since removed keeps its slug
            area=names.get(slug, (slug, None))[1],
            airing=found[slug],
        )
        for slug in sorted(found, key=lambda slug: names.get(slug, (slug, None))[0])
    ]


def _sum_airing(items: Iterable[Airing]) -> Airing:
    total = Airing()
    reasons: Counter[str] = Counter()
    for item in items:
        total.slots += item.slots
        total.aired += item.aired
        total.not_aired += item.not_aired
        total.unconfirmed += item.unconfirmed
        total.overdue += item.overdue
        reasons.update(item.not_aired_reasons)
    total.not_aired_reasons = dict(sorted(reasons.items()))
    return total


# ---- Facebook reach ------------------------------------------------------------------------------------

REACH_POSTS = 100  # the latest posts asked about, one request pair each


class PostReach(BaseModel):
    """What one published post reached, or why that is not available."""

    page: str
    page_name: str | None
    post_id: str
    fire_at: datetime
    impressions: int | None = None
    reach: int | None = None
    reactions: int | None = None
    shares: int | None = None
    unavailable: str | None = None


def facebook_reach(session: Session, actor: Actor, settings: Settings, slug: str) -> list[PostReach]:
    """The campaign's published posts (the latest `REACH_POSTS`) with what each reached, asked of the
    channel that posted them now: each answer needs the page token's insights permission."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    rows = session.execute(
        select(Delivery.channel, Delivery.address, Delivery.name, Delivery.details, Delivery.provider_id)
        .add_columns(Occurrence.fire_at)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .where(Occurrence.campaign_id == campaign.id, Occurrence.channel.startswith("facebook"))
        .where(~Occurrence.rule_key.startswith(TEST_SEND), Delivery.state == DeliveryState.SENT)
        .where(Delivery.provider_id.is_not(None))
        .order_by(Occurrence.fire_at.desc())
        .limit(REACH_POSTS)
    ).all()
    adapters: dict[str, Any] = {}
    found = []
    for channel, address, name, details, post_id, fire_at in rows:
        if channel not in adapters:
            adapters[channel] = configured_adapter(channel, settings.output_dir, settings.clock)
        recipient = Recipient(address, facts_from_json(RecipientKind.PAGE, details), name or address)
        asked = getattr(adapters[channel], "reach", None)
        if asked is None:
            found.append(
                PostReach(
                    page=address,
                    page_name=name,
                    post_id=post_id,
                    fire_at=fire_at,
                    unavailable="this channel tells no reach",
                )
            )
            continue
        reached = asked(post_id, recipient)
        found.append(
            PostReach(
                page=address,
                page_name=name,
                post_id=post_id,
                fire_at=fire_at,
                impressions=reached.impressions,
                reach=reached.reach,
                reactions=reached.reactions,
                shares=reached.shares,
                unavailable=reached.unavailable,
            )
        )
    return found
