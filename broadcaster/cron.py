"""Timetable rules as triggers: standard five-field cron, read the way crontab(5) reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# crontab(5) numbers the week from Sunday (0 or 7); APScheduler 3 numbers it from Monday.
# Numbers are rewritten as day names, which both read the same way.
_CRON_DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _day_number(text: str) -> int:
    if not text.isdigit() or int(text) > 7:
        raise ValueError(f"'{text}' is not a day of the week (0-7, 0 and 7 are Sunday, or mon…sun)")
    return int(text)


def _days_of_term(term: str) -> list[str]:
    base, _, step_text = term.partition("/")
    step = int(step_text) if step_text.isdigit() else 1
    if step_text and not step_text.isdigit():
        raise ValueError(f"'{term}' has a step that is not a number")
    if base == "*":
        first, last = 0, 6
    elif "-" in base:
        low, high = base.split("-", 1)
        if not (low.isdigit() and high.isdigit()):
            return [term]  # a range of names: APScheduler reads names as cron does
        first, last = _day_number(low), _day_number(high)
        if last < first:
            raise ValueError(f"'{term}' is a range that runs backwards")
    elif base.isdigit():
        first = last = _day_number(base)
    else:
        return [term]
    return [_CRON_DAY_NAMES[number] for number in range(first, last + 1, step)]


def cron_day_of_week(field: str) -> str:
    """Rewrite a crontab day-of-week field so APScheduler 3 fires on the same days as cron."""
    if field in ("*", "?"):
        return "*"
    names: list[str] = []
    for term in field.split(","):
        for name in _days_of_term(term.strip()):
            if name not in names:
                names.append(name)
    return ",".join(names)


def cron_trigger(expression: str, zone: tzinfo) -> CronTrigger:
    """A trigger for a five-field cron expression; ValueError with the reason when it is not one."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"'{expression}' is not a cron expression: it needs 5 fields, not {len(fields)}")
    minute, hour, day, month, day_of_week = fields
    if day not in ("*", "?") and day_of_week not in ("*", "?"):
        raise ValueError(
            f"'{expression}' limits both the day of the month and the day of the week, which cron and "
            "the scheduler read differently; write two rules instead"
        )
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=cron_day_of_week(day_of_week),
            timezone=zone,
        )
    except ValueError as exc:
        raise ValueError(f"'{expression}' is not a valid cron expression: {exc}") from None


def walk(trigger: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """A trigger's fire times in (after, until].

    Steps are taken in absolute time: wall-clock arithmetic on aware datetimes repeats the same
    instant forever across a DST fall-back. A wall-clock time that the fall-back repeats fires once.
    """
    zone = trigger.timezone
    moment = (after.astimezone(UTC) + timedelta(microseconds=1)).astimezone(zone)
    previous_wall: datetime | None = None
    while True:
        fire: datetime | None = trigger.get_next_fire_time(None, moment)
        if fire is None or fire > until:
            return
        if fire < moment:  # never step backwards, whatever the zone does
            moment = (moment.astimezone(UTC) + timedelta(minutes=1)).astimezone(zone)
            continue
        wall = fire.replace(tzinfo=None)
        if wall != previous_wall:
            yield fire
        previous_wall = wall
        moment = (fire.astimezone(UTC) + timedelta(seconds=1)).astimezone(zone)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A datetime from a campaign file in the configured zone (naive means local time)."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
