"""Did it go out over the loudspeakers? Stations report each slot's script as aired or not aired.

A slot is one radio delivery: an occurrence's script for one station. A station reaches its slots
through its account or through a secret link the operator can rotate. Reports are append-only: a
correction is a new report and the latest counts. Staff see, per campaign and station, how many slots
aired, did not air, and are still unconfirmed — overdue once a configurable time has passed.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.audit import record
from broadcaster.clock import system_now
from broadcaster.errors import NotFound, UserError
from broadcaster.models import (
    DONE,
    AiringReport,
    Campaign,
    Delivery,
    Occurrence,
    Station,
    StationLink,
)
from broadcaster.settings import Settings

CHANNEL = "radio"
LINK_PREFIX = "dai_"


class NotAiredReason(enum.StrEnum):
    EQUIPMENT = "equipment"
    POWER = "power"
    EMERGENCY = "emergency"
    OTHER = "other"


REASON_WORDS = {
    "vi": {
        NotAiredReason.EQUIPMENT: "Hỏng thiết bị",
        NotAiredReason.POWER: "Mất điện",
        NotAiredReason.EMERGENCY: "Thay bằng bản tin khẩn cấp",
        NotAiredReason.OTHER: "Lý do khác",
    },
    "en": {
        NotAiredReason.EQUIPMENT: "Equipment failure",
        NotAiredReason.POWER: "Power cut",
        NotAiredReason.EMERGENCY: "Replaced by an emergency bulletin",
        NotAiredReason.OTHER: "Other",
    },
}


class Refused(UserError):
    """A report the station may not make (not its slot, not yet aired, outside the campaign's validity).

    `code` and `values` let a page say the same sentence in the station's language."""

    def __init__(self, message: str, code: str | None = None, **values: object) -> None:
        super().__init__(message)
        self.code = code
        self.values = values


class LinkRefused(UserError):
    """A station link that is not (or no longer) valid."""


# ---- secret links ---------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_station(session: Session, slug: str) -> Station:
    station = session.scalar(select(Station).where(Station.slug == slug))
    if station is None:
        raise NotFound(f"there is no station '{slug}'")
    return station


def rotate_link(session: Session, station: Station, actor: str) -> str:
    """A new secret link token for the station; the previous one stops working at once. Shown once."""
    token = LINK_PREFIX + secrets.token_urlsafe(24)
    link = session.get(StationLink, station.id)
    if link is None:
        session.add(StationLink(station_id=station.id, digest=_digest(token), created_by=actor))
    else:
        link.digest, link.created_at, link.created_by = _digest(token), system_now(), actor
    record(session, None, actor, "station-link", station=station.slug, rotated=link is not None)
    return token


def station_for_link(session: Session, token: str) -> Station:
    """The station a link token stands for, or one sentence (a rotated link is simply unknown)."""
    link = session.scalar(select(StationLink).where(StationLink.digest == _digest(token)))
    if link is None:
        raise LinkRefused("this station link is not valid: it may have been replaced by a newer one")
    station = session.get(Station, link.station_id)
    assert station is not None  # the link is deleted with its station
    return station


def link_fingerprint(session: Session, station: Station) -> str | None:
    """A short part of the current link's digest: a cookie made from an older link no longer matches."""
    link = session.get(StationLink, station.id)
    return link.digest[:16] if link is not None else None


def feed_token(session: Session, station: Station, secret: bytes) -> str:
    """The secret of the station's calendar feed: read-only (it opens no portal), made from the current link
    under the signing secret, so rotating the link ends old feeds too; never stored."""
    material = f"station-feed:{station.id}:{link_fingerprint(session, station) or ''}".encode()
    return base64.urlsafe_b64encode(hmac.new(secret, material, hashlib.sha256).digest()[:24]).decode("ascii")


def station_for_feed(session: Session, slug: str, token: str, secret: bytes) -> Station:
    """The station whose calendar feed this is, or one sentence."""
    station = session.scalar(select(Station).where(Station.slug == slug))
    if station is None or not hmac.compare_digest(feed_token(session, station, secret), token):
        raise LinkRefused("this calendar link is not valid: it may have been replaced by a newer one")
    return station


# ---- slots ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One script a station is to read: its delivery, when, which campaign, and what it said about it."""

    delivery_id: int
    key: str
    station: str
    campaign: str
    campaign_subject: str
    campaign_number: str
    priority: str
    slot: str | None
    fire_at: datetime
    file: str | None  # the script's .txt under the radio root, once written
    sent: bool
    report: AiringReport | None
    history: list[AiringReport]
    changed_at: datetime  # when anything about it last changed: fired, written, reported

    @property
    def state(self) -> str:
        if self.report is None:
            return "unconfirmed"
        return "aired" if self.report.aired else "not_aired"


def _slot_rows(session: Session, station: Station) -> Any:
    return (
        select(Delivery, Occurrence, Campaign)
        .join(Occurrence, Delivery.occurrence_id == Occurrence.id)
        .join(Campaign, Occurrence.campaign_id == Campaign.id)
        .where(Delivery.channel == CHANNEL, Delivery.address == station.slug)
    )


def _reports(session: Session, delivery_ids: list[int]) -> dict[int, list[AiringReport]]:
    found: dict[int, list[AiringReport]] = {}
    if delivery_ids:
        query = select(AiringReport).where(AiringReport.delivery_id.in_(delivery_ids)).order_by(AiringReport.id)
        for report in session.scalars(query):
            found.setdefault(report.delivery_id, []).append(report)
    return found


def _slot(delivery: Delivery, occurrence: Occurrence, campaign: Campaign, reports: list[AiringReport]) -> Slot:
    return Slot(
        delivery_id=delivery.id,
        key=delivery.key,
        station=delivery.address,
        campaign=campaign.slug,
        campaign_subject=campaign.subject,
        campaign_number=campaign.number,
        priority=campaign.priority,
        slot=occurrence.slot,
        fire_at=occurrence.fire_at,
        file=delivery.provider_id if delivery.state in DONE else None,
        sent=delivery.state in DONE,
        report=reports[-1] if reports else None,
        history=reports,
        changed_at=max(
            [occurrence.created_at, *([delivery.done_at] if delivery.done_at else []), *(item.at for item in reports)]
        ),
    )


def station_slots(session: Session, station: Station, start: datetime, end: datetime) -> list[Slot]:
    """The station's slots whose time falls in [start, end), earliest first."""
    query = _slot_rows(session, station).where(Occurrence.fire_at >= start, Occurrence.fire_at < end)
    rows = session.execute(query.order_by(Occurrence.fire_at, Campaign.slug)).all()
    reports = _reports(session, [delivery.id for delivery, _, _ in rows])
    return [
        _slot(delivery, occurrence, campaign, reports.get(delivery.id, [])) for delivery, occurrence, campaign in rows
    ]


def station_slot(session: Session, station: Station, delivery_id: int) -> Slot:
    """One of the station's slots; a slot of another station is refused as if it did not exist."""
    row = session.execute(_slot_rows(session, station).where(Delivery.id == delivery_id)).first()
    if row is None:
        raise Refused(
            f"slot {delivery_id} is not one of the slots of station '{station.slug}'",
            "not_your_slot",
            slot=delivery_id,
            station=station.slug,
        )
    delivery, occurrence, campaign = row
    return _slot(delivery, occurrence, campaign, _reports(session, [delivery.id]).get(delivery.id, []))


@dataclass(frozen=True)
class PlannedSlot:
    """A slot still to come: the timetable will send its script at `fire_at`."""

    campaign: str
    campaign_subject: str
    campaign_number: str
    priority: str
    slot: str | None
    fire_at: datetime
    changed_at: datetime  # when the campaign was last approved or resumed


def upcoming_slots(
    session: Session, settings: Settings, station: Station, now: datetime, until: datetime
) -> list[PlannedSlot]:
    """The station's radio slots the timetable will fire after `now` and before `until`."""
    from broadcaster.directory.audience import parse_selector, stations_for
    from broadcaster.timetable import plans_for

    found: list[PlannedSlot] = []
    campaigns: dict[int, Campaign] = {}
    for plan in plans_for(session, settings):
        if plan.channel != CHANNEL:
            continue
        campaign = campaigns.get(plan.campaign_id) or session.get(Campaign, plan.campaign_id)
        assert campaign is not None
        campaigns[plan.campaign_id] = campaign
        channel = next(item for item in campaign.channels if item.channel == CHANNEL)
        selectors = [parse_selector(text) for text in channel.audience]
        if station.slug not in {
            member.slug
            for member in stations_for(session, selectors, channel.areas, now.astimezone(settings.zone).date())
        }:
            continue
        for fire in plan.fires(now, until):
            local = fire.astimezone(settings.zone)
            if plan.slot is not None and station.slots.get(plan.slot) != f"{local:%H:%M}":
                continue  # another station's time for the same slot
            found.append(
                PlannedSlot(
                    campaign.slug,
                    campaign.subject,
                    campaign.number,
                    campaign.priority,
                    plan.slot,
                    fire,
                    # What is planned changes when the campaign is approved or resumed (its status moving on
                    # as it fires does not): the moment it became sendable stamps the planned slots.
                    campaign.sendable_since or campaign.created_at,
                )
            )
    return sorted(found, key=lambda item: (item.fire_at, item.campaign))


# A slot whose time has just passed may not have fired yet (the scheduler's grace): it stays planned this long.
FIRING_LATE = timedelta(hours=1)


def station_schedule(
    session: Session, settings: Settings, station: Station, start: datetime, end: datetime
) -> list[Slot | PlannedSlot]:
    """The station's slots in [start, end): those whose script went out, and those still planned, each once
    (a slot is the same slot before and after it fires), earliest first."""
    fired = station_slots(session, station, start, end)
    taken = {(slot.campaign, slot.fire_at) for slot in fired}
    since = max(start, settings.clock.now() - FIRING_LATE)
    planned = [
        item
        for item in upcoming_slots(session, settings, station, since, end)
        if (item.campaign, item.fire_at) not in taken
    ]
    both: list[Slot | PlannedSlot] = [*fired, *planned]
    return sorted(both, key=lambda item: (item.fire_at, item.campaign))


# ---- reports --------------------------------------------------------------------------------------


def report_airing(
    session: Session,
    station: Station,
    delivery_id: int,
    *,
    aired: bool,
    by: str,
    zone: ZoneInfo,
    now: datetime,
    aired_at: time | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> AiringReport:
    """Record that a slot aired (optionally at what local time) or did not (with a reason); audited.

    Refused with a sentence: a slot of another station, a slot whose time has not come, a slot outside
    its campaign's validity, a time of airing in the future or before the slot, a missing reason.
    """
    slot = station_slot(session, station, delivery_id)
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slot.campaign))
    assert campaign is not None
    local_slot = slot.fire_at.astimezone(zone)
    when = f"{local_slot:%H:%M %d/%m/%Y}"
    if slot.fire_at > now:
        raise Refused(
            f"the slot of {when} has not come yet: confirm it once it has been broadcast", "not_yet", when=when
        )
    if not campaign.valid_from <= local_slot.date() <= campaign.valid_until:
        starts, ends = f"{campaign.valid_from:%d/%m/%Y}", f"{campaign.valid_until:%d/%m/%Y}"
        raise Refused(
            f"the slot of {when} is outside the validity of campaign '{campaign.slug}' ({starts} to {ends})",
            "outside_validity",
            when=when,
            starts=starts,
            ends=ends,
        )
    latest = slot.report
    if aired and aired_at is None and latest is not None and latest.aired:
        # "Đã phát" pressed again says nothing new: the time stated before stands (and so does the report).
        if not note or " ".join(note.split()) == latest.note:
            return latest
        aired_at = latest.aired_at.astimezone(zone).time() if latest.aired_at is not None else None
    moment = _aired_moment(local_slot, aired_at, now, zone) if aired else None
    checked_reason, checked_note = _checked_reason(aired, reason, note)
    report = AiringReport(
        delivery_id=slot.delivery_id,
        station_id=station.id,
        aired=aired,
        aired_at=moment,
        reason=checked_reason,
        note=checked_note,
        by=by,
        at=now,
    )
    session.add(report)
    record(
        session,
        campaign,
        by,
        "aired" if aired else "not-aired",
        station=station.slug,
        slot=slot.slot,
        fire_at=slot.fire_at.isoformat(),
        aired_at=moment.isoformat() if moment else None,
        reason=checked_reason,
        note=checked_note,
        correction=slot.report is not None,
    )
    session.flush()
    return report


# A script arrives at its slot's time, so it cannot air before it; a time a little after midnight is taken as
# the next day's for a late slot, as long as that is at most this long after the slot.
PAST_MIDNIGHT = timedelta(hours=6)


def _aired_moment(local_slot: datetime, aired_at: time | None, now: datetime, zone: ZoneInfo) -> datetime:
    if aired_at is None:
        return local_slot
    slot_minute = local_slot.replace(second=0, microsecond=0)
    moment = datetime.combine(local_slot.date(), aired_at, zone)
    if moment < slot_minute and moment + timedelta(days=1) - local_slot <= PAST_MIDNIGHT:
        moment += timedelta(days=1)
    if moment < slot_minute:
        raise Refused(
            f"the time of airing {aired_at:%H:%M} is before the slot ({local_slot:%H:%M})",
            "time_before",
            at=f"{aired_at:%H:%M}",
            slot=f"{local_slot:%H:%M}",
        )
    if moment > now:
        raise Refused(f"the time of airing {aired_at:%H:%M} is still to come", "time_to_come", at=f"{aired_at:%H:%M}")
    return moment


def _checked_reason(aired: bool, reason: str | None, note: str | None) -> tuple[str | None, str | None]:
    note = " ".join((note or "").split())[:500] or None
    if aired:
        return None, note
    if not reason:
        raise Refused(
            "say why the script did not air: equipment failure, power cut, emergency bulletin or other", "no_reason"
        )
    try:
        checked = NotAiredReason(reason)
    except ValueError:
        known = ", ".join(item.value for item in NotAiredReason)
        raise Refused(f"'{reason}' is not a reason (one of {known})", "no_reason") from None
    if checked == NotAiredReason.OTHER and not note:
        raise Refused("with the reason 'other', write what happened", "other_needs_note")
    return checked.value, note


# ---- the loop closed for staff ----------------------------------------------------------------------


@dataclass(frozen=True)
class SlotReport:
    """One slot whose script went out, for staff: the station by name, and the latest thing it said."""

    campaign: str
    station: str  # the station's slug
    station_name: str
    slot: str | None
    fire_at: datetime
    state: str  # aired, not_aired or unconfirmed
    overdue: bool  # unconfirmed for longer than the overdue time
    aired_at: datetime | None
    reason: str | None
    note: str | None
    by: str | None
    reported_at: datetime | None


def slot_reports(
    session: Session,
    overdue_after: timedelta,
    now: datetime,
    campaign: str | None = None,
    since: datetime | None = None,
) -> list[SlotReport]:
    """Every slot whose script went out (since `since`), by campaign, station name and time, with the
    station's latest report on it."""
    latest = (
        select(AiringReport.delivery_id, func.max(AiringReport.id).label("report_id"))
        .group_by(AiringReport.delivery_id)
        .subquery()
    )
    query = (
        select(Campaign.slug, Delivery.address, Station.name, Occurrence.slot, Occurrence.fire_at, AiringReport)
        .join(Occurrence, Delivery.occurrence_id == Occurrence.id)
        .join(Campaign, Occurrence.campaign_id == Campaign.id)
        .outerjoin(Station, Station.slug == Delivery.address)
        .outerjoin(latest, latest.c.delivery_id == Delivery.id)
        .outerjoin(AiringReport, AiringReport.id == latest.c.report_id)
        .where(Delivery.channel == CHANNEL, Delivery.state.in_(list(DONE)))
    )
    if campaign is not None:
        query = query.where(Campaign.slug == campaign)
    if since is not None:
        query = query.where(Occurrence.fire_at >= since)
    found = []
    for slug, station, name, slot, fire_at, report in session.execute(query):
        state = "unconfirmed" if report is None else "aired" if report.aired else "not_aired"
        found.append(
            SlotReport(
                campaign=slug,
                station=station,
                station_name=name or station,  # a station since removed from the directory keeps its slug
                slot=slot,
                fire_at=fire_at,
                state=state,
                overdue=report is None and fire_at + overdue_after < now,
                aired_at=report.aired_at if report is not None else None,
                reason=report.reason if report is not None else None,
                note=report.note if report is not None else None,
                by=report.by if report is not None else None,
                reported_at=report.at if report is not None else None,
            )
        )
    return sorted(found, key=lambda item: (item.campaign, item.station_name, item.fire_at))


@dataclass
class AiringCount:
    campaign: str
    station: str
    station_name: str
    aired: int = 0
    not_aired: int = 0
    unconfirmed: int = 0
    overdue: int = 0

    @property
    def slots(self) -> int:
        return self.aired + self.not_aired + self.unconfirmed


def airing_counts(
    session: Session, overdue_after: timedelta, now: datetime, campaign: str | None = None
) -> list[AiringCount]:
    """Per campaign and station (by name), the slots whose script went out: aired, not aired, unconfirmed,
    and of the unconfirmed those whose time is more than `overdue_after` ago."""
    return count_slots(slot_reports(session, overdue_after, now, campaign))


def count_slots(reports: list[SlotReport]) -> list[AiringCount]:
    counts: dict[tuple[str, str], AiringCount] = {}
    for item in reports:
        count = counts.setdefault(
            (item.campaign, item.station), AiringCount(item.campaign, item.station, item.station_name)
        )
        if item.state == "unconfirmed":
            count.unconfirmed += 1
            count.overdue += item.overdue
        elif item.state == "aired":
            count.aired += 1
        else:
            count.not_aired += 1
    return list(counts.values())


def reason_words(reason: str | None, lang: str = "vi") -> str:
    """A reason for not airing as people say it ("Mất điện"), in `lang`."""
    if reason is None:
        return ""
    words: dict[str, str] = {str(key): value for key, value in REASON_WORDS.get(lang, REASON_WORDS["vi"]).items()}
    return words.get(reason, reason)


STATE_WORDS = {
    "vi": {"aired": "Đã phát", "not_aired": "Không phát", "unconfirmed": "Chưa xác nhận"},
    "en": {"aired": "Aired", "not_aired": "Not aired", "unconfirmed": "Unconfirmed"},
}
OVERDUE_WORDS = {"vi": "quá hạn", "en": "overdue"}
AIRING_CSV_HEADER = (
    "campaign",
    "station",
    "station name",
    "slot",
    "slot time",
    "report",
    "time aired",
    "reason",
    "note",
    "reported by",
    "reported at",
    "overdue",
)


def airing_csv_rows(reports: list[SlotReport], zone: ZoneInfo, lang: str = "vi") -> list[tuple[object, ...]]:
    """One row per slot: its station by name, the report in words, local times."""

    def moment(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value is not None else ""

    return [
        (
            item.campaign,
            item.station,
            item.station_name,
            item.slot or "",
            moment(item.fire_at),
            STATE_WORDS[lang][item.state],
            moment(item.aired_at),
            reason_words(item.reason, lang),
            item.note or "",
            item.by or "",
            moment(item.reported_at),
            OVERDUE_WORDS[lang] if item.overdue else "",
        )
        for item in reports
    ]


def days_around(day: date, zone: ZoneInfo, before: int, after: int) -> tuple[datetime, datetime]:
    """From the start of `before` days before `day` to the end of `after` days after it, local time."""
    start = datetime.combine(day - timedelta(days=before), time(0), zone)
    return start, datetime.combine(day + timedelta(days=after + 1), time(0), zone)
