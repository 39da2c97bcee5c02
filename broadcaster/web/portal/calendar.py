"""A station's slots as an iCalendar (RFC 5545) feed, built with the `icalendar` package."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from broadcaster.airing import PlannedSlot, Slot
from broadcaster.models import Station
from broadcaster.operations.calendar import Fire
from broadcaster.settings import Settings

DEFAULT_LENGTH = timedelta(minutes=5)
SLOT_NAMES = {"morning": "buổi sáng", "noon": "buổi trưa", "evening": "buổi chiều"}


def station_calendar(
    station: Station, slots: list[Slot], upcoming: list[PlannedSlot], settings: Settings, link: str
) -> bytes:
    """One event per script at its slot time, linking to the station's portal; planned slots included."""
    calendar = new_calendar(f"Lịch phát: {station.name}", settings)
    stamp = settings.clock.now()
    for slot in slots:
        event = _event(
            f"{slot.key}@{station.slug}", slot.campaign_subject, slot.priority, slot.slot, slot.fire_at, stamp
        )
        event.add("url", f"{link}#slot-{slot.delivery_id}")
        event.add("description", f"Chiến dịch {slot.campaign}, số {slot.campaign_number.strip()}. Kịch bản: {link}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    for planned in upcoming:
        uid = f"{planned.campaign}:{planned.fire_at:%Y%m%dT%H%M%SZ}@{station.slug}"
        event = _event(uid, planned.campaign_subject, planned.priority, planned.slot, planned.fire_at, stamp)
        event.add("url", link)
        event.add("description", f"Chiến dịch {planned.campaign}: kịch bản có khi đến giờ phát. {link}")
        event.add("status", "TENTATIVE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def new_calendar(name: str, settings: Settings) -> Calendar:
    """An empty feed named `name`, in the issuer's time zone (station and campaign feeds alike)."""
    calendar = Calendar()
    calendar.add("prodid", "-//broadcaster//station portal//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.timezone)
    return calendar


CHANNEL_NAMES = {"email": "Công văn", "sms": "Tin nhắn SMS", "facebook": "Trang Facebook", "radio": "Phát thanh"}


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


def _event(uid: str, subject: str, priority: str, slot: str | None, fire_at: object, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", fire_at)
    event.add("duration", DEFAULT_LENGTH)
    urgent = {"emergency": "KHẨN CẤP: ", "priority": "Ưu tiên: "}.get(priority, "")
    named = SLOT_NAMES.get(slot or "", slot or "")
    event.add("summary", " ".join(f"{urgent}Phát thanh {named}".split()) + f": {subject}")
    return event
