"""How a campaign's fields become CAP 1.2 fields and back (DOMAIN §10, §14): pure, no database.

Priority (Circular 39/2020) → urgency, severity, certainty. A scam warning describes something that is
happening (certainty Observed for an emergency, Likely otherwise); the priority says how soon people must
act and how much harm is at stake:

| priority  | urgency   | severity | certainty |
|-----------|-----------|----------|-----------|
| ordinary  | Future    | Minor    | Likely    |
| priority  | Expected  | Moderate | Likely    |
| emergency | Immediate | Severe   | Observed  |

Read back, an alert takes the higher priority its urgency and severity point to, so an alert this
project wrote comes back with the priority it went out with.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
# Which code system an area's geocode is written in: the area codes of this installation's directory.
AREA_CODE_SYSTEM = "broadcaster-area"

RESPONSE = {
    "ordinary": ("Future", "Minor", "Likely"),
    "priority": ("Expected", "Moderate", "Likely"),
    "emergency": ("Immediate", "Severe", "Observed"),
}
_URGENCY = {"Immediate": "emergency", "Expected": "priority"}
_SEVERITY = {"Extreme": "emergency", "Severe": "emergency", "Moderate": "priority"}
_RANK = ("ordinary", "priority", "emergency")

# Language tags of <info> (RFC 3066, as CAP asks) for the project's locales.
LANGUAGE_TAGS = {"vi": "vi-VN", "en": "en-US"}

_FORBIDDEN = re.compile(r"[\s,<&]")


def response_of(priority: str) -> tuple[str, str, str]:
    """(urgency, severity, certainty) for a campaign priority."""
    return RESPONSE[priority]


def priority_of(urgency: str, severity: str, certainty: str) -> str:
    """The campaign priority for an alert's urgency, severity and certainty."""
    del certainty  # how sure the sender is does not change how soon people must act
    candidates = [_URGENCY.get(urgency, "ordinary"), _SEVERITY.get(severity, "ordinary")]
    return max(candidates, key=_RANK.index)


def language_tag(locale: str) -> str:
    return LANGUAGE_TAGS.get(locale, locale)


_OUR_TAGS = {tag.lower(): locale for locale, tag in LANGUAGE_TAGS.items()}


def locale_of(tag: str) -> str:
    """The project's locale for an <info> language: the tags this project writes read back to its own locales
    (vi-VN → vi, en-US → en, absent → CAP's default en-US); any other keeps its region (en-AU, fr-CA), so an
    alert exported again says what it said. ValueError, with the reason, for what is not a language tag."""
    from broadcaster.locales import normalise_locale

    written = (tag or "en-US").strip()
    return _OUR_TAGS.get(written.lower()) or normalise_locale(written)


def cap_time(moment: datetime, zone: ZoneInfo) -> str:
    """A CAP time: seconds, an explicit offset, and UTC written -00:00 (DOMAIN §14)."""
    local = moment.astimezone(zone).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def parse_cap_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def validity_times(starts: date, ends: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """effective / expires: from the first day's start to the end of the last day of the validity window."""
    return datetime.combine(starts, time(0), zone), datetime.combine(ends + timedelta(days=1), time(0), zone)


def validity_dates(effective: datetime, expires: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The validity window (first and last day, local) an alert's effective and expires times cover."""
    last_moment = expires.astimezone(zone) - timedelta(seconds=1)
    return effective.astimezone(zone).date(), max(last_moment.date(), effective.astimezone(zone).date())


def is_cap_name(text: str) -> bool:
    """Whether text may be a CAP identifier or sender: no spaces, commas, '<' or '&' (DOMAIN §14)."""
    return bool(text) and not _FORBIDDEN.search(text)
