"""Timetable rules as people choose them, and as they read them back.

A drafting officer does not write cron: they choose "once, at a date and time", "every Thứ Hai and
Thứ Năm at 19:00 between two dates" or "the stations' morning and evening slots between two dates".
Each choice becomes the rule a campaign file holds, and each rule of a file becomes a choice again —
a cron expression that is not a plain weekly one stays as it was written (`kind="cron"`), so nothing
a file says is lost or changed by passing through the form.

Weekdays are numbered as Python numbers them (0 = Monday … 6 = Sunday) and written out as cron
numbers them (crontab(5): 1 = Monday … 6 = Saturday, 0 = Sunday): the conversion is made here, once,
so that "Thứ Hai và Thứ Năm" can never again fire on Tuesday and Friday (`2,5` did).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

Kind = Literal["once", "weekly", "slots", "cron"]
KINDS: tuple[Kind, ...] = ("once", "weekly", "slots", "cron")

WEEKDAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
SLOT_WORDS = {
    "vi": {"morning": "sáng", "noon": "trưa", "evening": "chiều"},
    "en": {"morning": "morning", "noon": "noon", "evening": "evening"},
}
_PLAIN_WEEKLY = re.compile(r"^(\d{1,2}) (\d{1,2}) \* \* ([0-7](?:,[0-7])*)$")


def _language(locale: str) -> str:
    return "en" if locale.lower().startswith("en") else "vi"


def weekday_name(day: date | datetime, locale: str = "vi") -> str:
    return WEEKDAYS[_language(locale)][day.weekday()]


def slot_word(slot: str, locale: str = "vi") -> str:
    return SLOT_WORDS[_language(locale)].get(slot, slot)


def cron_weekday(weekday: int) -> int:
    """Python's weekday (0 = Monday) as crontab numbers it (0 = Sunday)."""
    return (weekday + 1) % 7


@dataclass
class RuleChoice:
    """One timetable rule as the form shows it; fields a kind does not use stay empty."""

    kind: Kind
    on: date | None = None  # once: the day
    at: time | None = None  # once and weekly: the time of day
    weekdays: list[int] = field(default_factory=list)  # weekly: 0 = Monday … 6 = Sunday
    slots: list[str] = field(default_factory=list)  # slots: the stations' slot names
    starts: date | None = None  # weekly, slots, cron: first day (empty: the validity window's)
    ends: date | None = None  # weekly, slots, cron: last day (empty: the validity window's)
    cron: str = ""  # cron: the expression as a file wrote it

    def rule(self) -> dict[str, Any]:
        """The rule as a campaign file writes it (ValueError with a sentence when a choice is incomplete)."""
        if self.kind == "once":
            if self.on is None or self.at is None:
                raise ValueError("choose the day and the time it is sent")
            return {"at": datetime.combine(self.on, self.at).isoformat()}
        if self.kind == "weekly":
            if not self.weekdays or self.at is None:
                raise ValueError("choose at least one weekday and the time it is sent")
            days = sorted({cron_weekday(day) for day in self.weekdays})
            expression = f"{self.at.minute} {self.at.hour} * * {','.join(str(day) for day in days)}"
            return {"cron": expression, **self._dates()}
        if self.kind == "slots":
            if not self.slots:
                raise ValueError("choose at least one of the stations' slots")
            return {"slots": list(self.slots), **self._dates()}
        if not self.cron.strip():
            raise ValueError("write the cron expression")
        return {"cron": self.cron.strip(), **self._dates()}

    def _dates(self) -> dict[str, str]:
        dates = {}
        if self.starts is not None:
            dates["from"] = self.starts.isoformat()
        if self.ends is not None:
            dates["until"] = self.ends.isoformat()
        return dates


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def choice_of_rule(rule: Mapping[str, Any]) -> RuleChoice:
    """A rule of a campaign file (as parsed data) as the form's choice."""
    starts, ends = _day(rule.get("from", rule.get("starts"))), _day(rule.get("until", rule.get("ends")))
    if "at" in rule:
        moment = rule["at"] if isinstance(rule["at"], datetime) else datetime.fromisoformat(str(rule["at"]))
        return RuleChoice("once", on=moment.date(), at=moment.timetz())  # seconds and an offset, if written, kept
    if "slots" in rule:
        return RuleChoice("slots", slots=list(rule["slots"]), starts=starts, ends=ends)
    expression = str(rule["cron"])
    weekly = _weekly(expression, starts, ends)
    return weekly or RuleChoice("cron", cron=expression, starts=starts, ends=ends)


def _weekly(expression: str, starts: date | None, ends: date | None) -> RuleChoice | None:
    """A cron expression that is a plain "these weekdays at this time", when writing it back gives it unchanged."""
    matched = _PLAIN_WEEKLY.match(expression)
    if matched is None or int(matched[1]) > 59 or int(matched[2]) > 23:
        return None
    days = [(int(day) + 6) % 7 for day in matched[3].split(",")]  # crontab 1 = Monday → 0; 0 and 7 → 6
    choice = RuleChoice("weekly", at=time(int(matched[2]), int(matched[1])), weekdays=sorted(set(days)))
    choice.starts, choice.ends = starts, ends
    return choice if choice.rule()["cron"] == expression else None


def _date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _joined(words: Sequence[str], locale: str) -> str:
    conjunction = " and " if _language(locale) == "en" else " và "
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + conjunction + words[-1]


def describe(choice: RuleChoice, valid: tuple[date, date], locale: str = "vi") -> str:
    """The choice as one sentence, in the interface language, dates as 14/05/2024."""
    english = _language(locale) == "en"
    first, last = choice.starts or valid[0], choice.ends or valid[1]
    between = (
        f", from {_date(first)} to {_date(last)}" if english else f", từ ngày {_date(first)} đến ngày {_date(last)}"
    )
    if choice.kind == "once" and choice.on is not None and choice.at is not None:
        day = f"{weekday_name(choice.on, locale)} {_date(choice.on)}"
        return f"Once, at {choice.at:%H:%M} on {day}." if english else f"Một lần, lúc {choice.at:%H:%M} {day}."
    if choice.kind == "weekly" and choice.at is not None:
        days = _joined([WEEKDAYS[_language(locale)][day] for day in sorted(choice.weekdays)], locale)
        if english:
            return f"Every {days} at {choice.at:%H:%M}{between}."
        return f"{days} hằng tuần, lúc {choice.at:%H:%M}{between}."
    if choice.kind == "slots":
        slots = _joined([slot_word(slot, locale) for slot in choice.slots], locale)
        if english:
            return f"In each station's {slots} slot{'s' if len(choice.slots) > 1 else ''}{between}."
        return f"Vào khung giờ {slots} của từng đài{between}."
    if english:
        return f"By the cron expression '{choice.cron}' (crontab: 0 and 7 are Sunday){between}."
    return f"Theo biểu thức cron '{choice.cron}' (0 và 7 là Chủ Nhật){between}."
