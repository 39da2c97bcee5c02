"""Radio stations: the portal link, the slots a station sees, its airing reports, and the counts for staff.

A station account (role station) speaks for the stations it is tied to and sees nothing else; a portal
link stands for one station. Both report through `confirm`, so a report made on the portal, through the
API or by a person on a phone is the same audited event, refused for the same reasons in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airing
from broadcaster.accounts import Actor, bind_actor
from broadcaster.errors import NotFound, UserError
from broadcaster.models import AiringReport, Station
from broadcaster.settings import Settings

CONFIRM = "station:confirm"


class NotYourSlot(airing.Refused, NotFound):
    """Another station's slot: refused as if it did not exist (404), in the words the portal translates."""


@dataclass(frozen=True)
class AiringRecord:
    """One report on a slot: aired (at what time) or not aired (why); the latest one counts."""

    aired: bool
    aired_at: datetime | None
    reason: str | None
    note: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class StationSlot:
    """One script a station is to read, and what the station said about it."""

    id: int  # the slot's number: its radio delivery
    station: str
    campaign: str
    subject: str
    number: str
    priority: str
    slot: str | None
    fire_at: datetime
    sent: bool  # the script was written for the station
    state: str  # aired, not_aired or unconfirmed
    report: AiringRecord | None
    history: list[AiringRecord]  # every report, oldest first (a correction is a new report)


def _record(report: AiringReport) -> AiringRecord:
    return AiringRecord(report.aired, report.aired_at, report.reason, report.note, report.by, report.at)


def _slot(slot: airing.Slot) -> StationSlot:
    return StationSlot(
        id=slot.delivery_id,
        station=slot.station,
        campaign=slot.campaign,
        subject=slot.campaign_subject,
        number=slot.campaign_number,
        priority=slot.priority,
        slot=slot.slot,
        fire_at=slot.fire_at,
        sent=slot.sent,
        state=slot.state,
        report=_record(slot.report) if slot.report is not None else None,
        history=[_record(item) for item in slot.history],
    )


def link_actor(station: Station) -> Actor:
    """Whoever holds a station's portal link: that station's confirmations and nothing else."""
    return Actor(login=f"link:{station.slug}", permissions=frozenset({CONFIRM}), station_ids=frozenset({station.id}))


def own_stations(session: Session, actor: Actor, slug: str | None = None) -> list[Station]:
    """The stations the account speaks for (or the one named among them), in slug order."""
    actor.require(CONFIRM)
    query = select(Station).where(Station.id.in_(actor.station_ids)).order_by(Station.slug)
    stations = list(session.scalars(query))
    if slug is None:
        if not stations:
            raise UserError(f"'{actor.login}' speaks for no station: an administrator ties it to one")
        return stations
    chosen = [station for station in stations if station.slug == slug]
    if not chosen:
        raise NotFound(f"'{actor.login}' does not speak for a station '{slug}'")
    return chosen


def slots(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    station: str | None = None,
    days_before: int = 2,
    days_after: int = 7,
) -> list[StationSlot]:
    """The slots of the account's stations from `days_before` days ago to `days_after` days ahead, earliest first."""
    if not (0 <= days_before <= 60 and 0 <= days_after <= 60):
        raise UserError("days before and after today must each be between 0 and 60")
    today = settings.today()
    start, end = airing.days_around(today, settings.zone, days_before, days_after)
    found = [
        _slot(slot)
        for each in own_stations(session, actor, station)
        for slot in airing.station_slots(session, each, start, end)
    ]
    return sorted(found, key=lambda item: (item.fire_at, item.station, item.campaign))


def _owner(session: Session, actor: Actor, slot_id: int) -> Station:
    """The account's station whose slot this is; another station's slot is refused as if it did not exist."""
    stations = own_stations(session, actor)
    for station in stations:
        try:
            airing.station_slot(session, station, slot_id)
        except airing.Refused:
            continue
        return station
    named = ", ".join(f"'{station.slug}'" for station in stations)
    whose = f"station {named}" if len(stations) == 1 else f"the stations {named}"
    raise NotYourSlot(f"slot {slot_id} is not one of the slots of {whose}", "not_your_slot", slot=slot_id)


def confirm(
    session: Session,
    actor: Actor,
    settings: Settings,
    slot_id: int,
    *,
    aired: bool,
    aired_at: time | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> StationSlot:
    """Say a slot aired (optionally at what local time) or did not (with a reason); a second report corrects
    the first and both stay in the history. Audited. Refused with a sentence: a slot not yet come, another
    station's slot, one outside its campaign's validity, a time of airing to come or before the slot."""
    station = _owner(session, actor, slot_id)
    bind_actor(session, actor)
    airing.report_airing(
        session,
        station,
        slot_id,
        aired=aired,
        by=actor.login,
        zone=settings.zone,
        now=settings.clock.now(),
        aired_at=aired_at,
        reason=reason,
        note=note,
    )
    return _slot(airing.station_slot(session, station, slot_id))


# ---- for staff ----------------------------------------------------------------------------------


def rotate_link(session: Session, actor: Actor, slug: str) -> str:
    """A new secret portal link for a station; the previous one stops working at once. Shown once; audited."""
    actor.require("directory:manage")
    station = airing.find_station(session, slug)
    bind_actor(session, actor)
    return airing.rotate_link(session, station, actor.login)


def airing_counts(
    session: Session, actor: Actor, settings: Settings, campaign: str | None = None
) -> list[airing.AiringCount]:
    """Per campaign and station: slots aired, not aired, unconfirmed, and unconfirmed past the overdue time."""
    return airing.count_slots(slot_reports(session, actor, settings, campaign))


def slot_reports(
    session: Session, actor: Actor, settings: Settings, campaign: str | None = None, days: int | None = None
) -> list[airing.SlotReport]:
    """Each slot whose script went out (in the last `days` days, when given), with its station's name and
    what the station said: aired at what time, or not aired, why, and its note."""
    actor.require("campaigns:read")
    if days is not None and not 0 <= days <= 366:
        raise UserError("the number of days must be between 0 and 366")
    overdue = timedelta(hours=settings.airing_overdue_hours)
    since = airing.days_around(settings.today(), settings.zone, days, 0)[0] if days is not None else None
    return airing.slot_reports(session, overdue, settings.clock.now(), campaign, since)
