"""Sending outside the timetable, retries, the deliveries (filtered, paged, exported) and the fan-outs running
(the status itself is `operations.monitoring`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from broadcaster import interventions
from broadcaster.accounts import Actor, bind_actor
from broadcaster.attempts import Attempt, histories
from broadcaster.campaigns.store import find_campaign
from broadcaster.directory.audience import audience_size, parse_selector
from broadcaster.errors import NotFound, UserError
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.phones import PhoneError, normalise_mobile
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from channels.base import channel_class


@dataclass(frozen=True)
class SendNowResult:
    slug: str
    channel: str
    at: datetime
    waiting: int  # occurrences waiting to fan out, this one included


@dataclass(frozen=True)
class RetryResult:
    slug: str
    channel: str | None
    requeued: int


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    occurrence: int
    channel: str
    fire_at: datetime
    address: str
    name: str | None
    state: str
    attempts: int
    reason: str | None
    provider_id: str | None
    done_at: datetime | None
    reported_at: datetime | None  # when the delivery report (delivered / undelivered) came
    response: str | None  # the provider's raw answer to a failed attempt, secrets masked


@dataclass(frozen=True)
class DeliveryDetail(DeliveryRow):
    history: list[Attempt]  # every attempt in order, the successful last one included


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[DeliveryRow]
    next_cursor: int | None  # pass as `after` for the next page; None: this was the last


@dataclass(frozen=True)
class FanOut:
    slug: str
    channel: str
    written: int
    total: int


def send_now(
    session: Session, actor: Actor, slug: str, channel: str, settings: Settings, *, test: bool = False
) -> SendNowResult:
    """An extra occurrence now on one channel of an approved campaign; a running worker sends it. Audited.

    With `test`, to the subscriber lists marked as test only, not the audience."""
    actor.require("campaigns:send")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    now = settings.clock.now()
    waiting = interventions.send_now(session, settings, campaign, channel, actor.login, now, test=test)
    return SendNowResult(slug, channel, now, waiting)


def send_draft_test(session: Session, actor: Actor, slug: str, channel: str, settings: Settings) -> SendNowResult:
    """The campaign as it is being written — its draft, or an approved campaign's revision — sent on one
    channel to the test lists only, before anyone approves it; checked first as a submission would be.
    Marked as a test in the text and the records; never counted in totals or caps. Audited."""
    from broadcaster.campaigns.file import parse_campaign
    from broadcaster.campaigns.store import check_campaign, find_issuer
    from broadcaster.campaigns.versions import content_of_spec

    actor.require("campaigns:draft")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    written = campaign.revision or campaign
    spec = parse_campaign(written.spec, campaign.slug)
    problems = check_campaign(session, spec, settings, written.texts)
    if problems:
        raise InvalidInput(f"campaign '{slug}' as it would be sent", problems)
    issuer = find_issuer(session, spec.issuer)
    assert issuer is not None  # checked above
    now = settings.clock.now()
    content = content_of_spec(spec, written.texts, issuer)
    waiting = interventions.send_draft_test(session, campaign, channel, actor.login, now, content)
    return SendNowResult(slug, channel, now, waiting)


def find_deliveries(session: Session, actor: Actor, slug: str, address: str, limit: int = 200) -> list[DeliveryDetail]:
    """Every delivery of the campaign to one address (each occurrence it was sent in), newest first.

    The address is matched exactly (a phone number as the outbox writes it, +84…, whichever way it is
    typed), so the search is an index lookup per occurrence, never a scan of the outbox."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    wanted = address.strip()
    if not wanted:
        raise UserError("type an address to search for: an e-mail address, a phone number or a station or page key")
    candidates = {wanted, wanted.lower()}
    with suppress(PhoneError):  # not a phone number: searched as typed
        candidates.add(normalise_mobile(wanted).e164)
    query = (
        select(Delivery, Occurrence)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .where(Occurrence.campaign_id == campaign.id, Delivery.address.in_(sorted(candidates)))
        .order_by(Occurrence.fire_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    return _details(session, [(delivery, occurrence) for delivery, occurrence in session.execute(query)])


def delivery_detail(session: Session, actor: Actor, delivery_id: int) -> DeliveryDetail:
    """One delivery with the history of its attempts."""
    actor.require("campaigns:read")
    query = (
        select(Delivery, Occurrence)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .where(Delivery.id == delivery_id)
    )
    found = [(delivery, occurrence) for delivery, occurrence in session.execute(query)]
    if not found:
        raise NotFound(f"there is no delivery {delivery_id}")
    return _details(session, found)[0]


def _details(session: Session, found: list[tuple[Delivery, Occurrence]]) -> list[DeliveryDetail]:
    history = histories(session, (delivery for delivery, _ in found))
    return [
        DeliveryDetail(**vars(_row(delivery, occurrence)), history=history[delivery.id])
        for delivery, occurrence in found
    ]


def retry_failed(session: Session, actor: Actor, slug: str, channel: str | None, settings: Settings) -> RetryResult:
    """Re-queue failed deliveries; they keep their idempotency keys, so a provider that saw one drops it."""
    actor.require("campaigns:send")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    count = interventions.retry_failed(session, settings, campaign, channel, actor.login, settings.clock.now())
    return RetryResult(slug, channel, count)


# ---- deliveries ---------------------------------------------------------------------------------


def _deliveries_query(
    session: Session, slug: str, state: str | None, channel: str | None
) -> Select[Delivery, Occurrence]:
    if state is not None and state not in set(DeliveryState):
        raise UserError(f"'{state}' is not a delivery state ({', '.join(DeliveryState)})")
    campaign = find_campaign(session, slug)
    query = (
        select(Delivery, Occurrence)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .where(Occurrence.campaign_id == campaign.id)
        .order_by(Delivery.id)
    )
    if state is not None:
        query = query.where(Delivery.state == state)
    if channel is not None:
        query = query.where(Occurrence.channel == channel)
    return query


def _row(delivery: Delivery, occurrence: Occurrence) -> DeliveryRow:
    return DeliveryRow(
        id=delivery.id,
        occurrence=occurrence.id,
        channel=occurrence.channel,
        fire_at=occurrence.fire_at,
        address=delivery.address,
        name=delivery.name,
        state=delivery.state,
        attempts=delivery.attempts,
        reason=delivery.reason,
        provider_id=delivery.provider_id,
        done_at=delivery.done_at,
        reported_at=delivery.reported_at,
        response=delivery.response,
    )


def deliveries(
    session: Session,
    actor: Actor,
    slug: str,
    *,
    state: str | None = None,
    channel: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> DeliveryPage:
    """One page of a campaign's deliveries in id order; `after` is the cursor the previous page returned."""
    actor.require("campaigns:read")
    if not 1 <= limit <= 1000:
        raise UserError("limit must be between 1 and 1000")
    query = _deliveries_query(session, slug, state, channel)
    if after is not None:
        query = query.where(Delivery.id > after)
    rows = [_row(delivery, occurrence) for delivery, occurrence in session.execute(query.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    return DeliveryPage(rows, rows[-1].id if more else None)


def all_deliveries(
    session: Session, actor: Actor, slug: str, *, state: str | None = None, channel: str | None = None
) -> Iterator[DeliveryRow]:
    """Every delivery, streamed (for exports)."""
    actor.require("campaigns:read")
    query = _deliveries_query(session, slug, state, channel).execution_options(yield_per=5000)
    for delivery, occurrence in session.execute(query):
        yield _row(delivery, occurrence)


CSV_HEADER = [
    "occurrence",
    "channel",
    "fire time",
    "recipient",
    "name",
    "state",
    "attempts",
    "reason",
    "provider id",
    "done at",
    "reported at",
    "provider answer",
]


def csv_cells(row: DeliveryRow, settings: Settings) -> list[str]:
    zone = settings.zone

    def moment(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""

    values = [
        str(row.occurrence),
        row.channel,
        moment(row.fire_at),
        row.address,
        row.name or "",
        row.state,
        str(row.attempts),
        row.reason or "",
        row.provider_id or "",
        moment(row.done_at),
        moment(row.reported_at),
        row.response or "",
    ]
    return values


# ---- fan-outs running ---------------------------------------------------------------------------


def fan_outs(session: Session, actor: Actor) -> list[FanOut]:
    """Occurrences being expanded right now, with how many deliveries are written of how many."""
    actor.require("campaigns:read")
    progress = []
    for occurrence, written in _expanding(session):
        campaign = occurrence.campaign
        channel = next(c for c in campaign.channels if c.channel == occurrence.channel)
        selectors = [parse_selector(text) for text in channel.audience]
        kind = channel_class(channel.channel).recipient_kind
        total = audience_size(session, kind, selectors, occurrence.fire_at.date())
        progress.append(FanOut(campaign.slug, occurrence.channel, written, total))
    return progress


def _expanding(session: Session) -> list[tuple[Occurrence, int]]:
    """Occurrences being fanned out now, with how many rows they have so far."""
    leased = select(Occurrence).where(Occurrence.state == OccurrenceState.PENDING, Occurrence.lease_owner.is_not(None))
    return [
        (occurrence, session.scalar(select(func.count()).where(Delivery.occurrence_id == occurrence.id)) or 0)
        for occurrence in session.scalars(leased)
    ]
