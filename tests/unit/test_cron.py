"""Cron rules read as crontab(5) reads them, not as APScheduler 3 numbers weekdays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broadcaster.cron import cron_day_of_week, cron_trigger

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def fires(expression: str, start: datetime, count: int) -> list[datetime]:
    trigger, moments, now = cron_trigger(expression, ZONE), [], start
    for _ in range(count):
        moment = trigger.get_next_fire_time(None, now)
        moments.append(moment)
        now = moment.replace(microsecond=1)
    return moments


def test_monday_and_thursday_mean_monday_and_thursday() -> None:
    # APScheduler 3's from_crontab would read "1,4" as Tuesday and Friday.
    moments = fires("0 19 * * 1,4", datetime(2024, 5, 14, tzinfo=ZONE), 4)
    assert [moment.strftime("%a %d %H:%M") for moment in moments] == [
        "Thu 16 19:00",
        "Mon 20 19:00",
        "Thu 23 19:00",
        "Mon 27 19:00",
    ]


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("0,6", "sun,sat"),
        ("mon-fri", "mon-fri"),
        ("*", "*"),
    ],
)
def test_day_of_week_numbers_become_names(field: str, names: str) -> None:
    assert cron_day_of_week(field) == names


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 19 * *", "needs 5 fields"),
        ("0 25 * * *", "not a valid cron"),
        ("0 7 1 * 1", "write two rules"),
        ("0 7 * * 8", "not a day of the week"),
        ("0 7 * * 5-1", "runs backwards"),
    ],
)
def test_bad_cron_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        cron_trigger(expression, ZONE)
