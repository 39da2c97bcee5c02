"""A station's slots, and a campaign's fires, as iCalendar (RFC 5545) feeds built with the `icalendar` package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from broadcaster.airing import PlannedSlot, Slot, reason_words
from broadcaster.models import Station
from broadcaster.operations.calendar import Fire
from broadcaster.settings import Settings

DEFAULT_LENGTH = timedelta(minutes=5)
SLOT_NAMES = {"morning": "buổi sáng", "noon": "buổi trưa", "evening": "buổi chiều"}


def slot_uid(campaign: str, station: str, local: datetime, installation: str) -> str:
    """One event per campaign, station and slot date and time, from planning to airing: a phone keeps the
    event (and the reminder it set) when the slot fires, is reported, or is corrected."""
    return f"{campaign}.{station}.{local:%Y%m%dT%H%M}@{installation}.broadcaster"


def station_calendar(
    station: Station,
    schedule: list[Slot | PlannedSlot],
    settings: Settings,
    *,
    installation: str,
    remind_minutes: int | None = None,
) -> bytes:
    """The station's slots as RFC 5545 events, each at its local time (with the zone's VTIMEZONE): planned
    and sent ones confirmed, those the station reported not aired cancelled; a display alarm
    `remind_minutes` before each slot still to air, when asked for."""
    calendar = new_calendar(f"Lịch phát: {station.name}", settings)
    for item in schedule:
        calendar.add_component(_slot_event(item, station, settings, installation, remind_minutes))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def _slot_event(
    item: Slot | PlannedSlot, station: Station, settings: Settings, installation: str, remind_minutes: int | None
) -> Event:
    local = item.fire_at.astimezone(settings.zone)
    event = Event()
    event.add("uid", slot_uid(item.campaign, station.slug, local, installation))
    # The last change of what the event says, so the same feed fetched twice says the same thing.
    event.add("dtstamp", item.changed_at.astimezone(UTC))
    event.add("last-modified", item.changed_at.astimezone(UTC))
    event.add("dtstart", local)
    event.add("duration", DEFAULT_LENGTH)
    urgent = {"emergency": "KHẨN CẤP: ", "priority": "Ưu tiên: "}.get(item.priority, "")
    named = SLOT_NAMES.get(item.slot or "", item.slot or "")
    event.add("summary", " ".join(f"{urgent}Phát thanh {named}".split()) + f": {item.campaign_subject}")
    number = f"Công văn số {item.campaign_number.strip()}. " if item.campaign_number.strip() else ""
    if isinstance(item, PlannedSlot):
        event.add("url", f"{settings.public_url}/portal")
        event.add("description", f"{number}Kịch bản có trên trang của đài lúc {local:%H:%M}.")
        event.add("status", "CONFIRMED")
        event.add("sequence", 0)
    else:
        event.add("url", f"{settings.public_url}/portal/slots/{item.delivery_id}")
        event.add("description", number + _report_words(item, settings))
        event.add("status", "CANCELLED" if item.state == "not_aired" else "CONFIRMED")
        event.add("sequence", len(item.history))
    if remind_minutes and not (isinstance(item, Slot) and item.state == "not_aired"):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-remind_minutes))
        alarm.add("description", f"{local:%H:%M} phát thanh: {item.campaign_subject}")
        event.add_component(alarm)
    return event


def _report_words(slot: Slot, settings: Settings) -> str:
    report = slot.report
    if report is None:
        return f"Kịch bản: {settings.public_url}/portal/slots/{slot.delivery_id}"
    if report.aired:
        moment = report.aired_at or slot.fire_at
        return f"Đã phát lúc {moment.astimezone(settings.zone):%H:%M}."
    note = f" — {report.note}" if report.note else ""
    return f"Không phát: {reason_words(report.reason)}{note}."


def new_calendar(name: str, settings: Settings) -> Calendar:
    """An empty feed named `name`, in the issuer's time zone (station and campaign feeds alike)."""
    calendar = Calendar()
    calendar.add("prodid", "-//broadcaster//station portal//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.timezone)
    return calendar


CHANNEL_NAMES = {
    "email": "Công văn",
    "sms": "Tin nhắn SMS",
    "zalo": "Tin nhắn Zalo",
    "facebook": "Trang Facebook",
    "radio": "Phát thanh",
}


def campaign_calendar(number: str, subject: str, fires: list[Fire], settings: Settings, link: str) -> bytes:
    """A campaign's planned fires, one event per channel and time, each linking to the campaign's page."""
    calendar = new_calendar(f"Chiến dịch {number.strip()}: {subject}", settings)
    for fire in fires:
        event = Event()
        event.add("uid", f"{fire.slug}:{fire.channel}:{fire.slot or ''}:{fire.at:%Y%m%dT%H%M%SZ}@broadcaster")
        event.add("dtstamp", settings.clock.now())
        event.add("dtstart", fire.at)
        event.add("duration", DEFAULT_LENGTH)
        named = f" {SLOT_NAMES.get(fire.slot, fire.slot)}" if fire.slot else ""
        event.add("summary", f"{CHANNEL_NAMES.get(fire.channel, fire.channel)}{named}: {subject}")
        event.add("url", link)
        event.add("status", "CONFIRMED" if fire.status in ("approved", "active") else "TENTATIVE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
