"""The one clock. Everything that decides by the time asks a `Clock`, never the system directly.

Production runs on `SystemClock`. Tests and rehearsals give the settings another clock
(`settings.with_clock(...)`): a `FixedClock` that moves only when told, or a `StartedClock` that runs
at the real pace from a chosen moment. This module is the only place in the package that reads the
system's wall clock; `time.monotonic` (timeouts, pacing inside one process) measures durations, not
moments, and stays where it is used.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        ...


def system_now() -> datetime:
    """The system's wall clock in UTC: what `SystemClock` reads, and the stamp rows get by default."""
    return datetime.now(UTC)


class SystemClock:
    """The wall clock of the machine."""

    def now(self) -> datetime:
        return system_now()

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands at one moment until it is moved (tests)."""

    def __init__(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def now(self) -> datetime:
        return self._moment

    def move_to(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        self._moment += delta

    def __repr__(self) -> str:
        return f"FixedClock({self._moment.isoformat()})"


class StartedClock:
    """A clock that starts at a chosen moment and then runs at the real pace (tests that also wait)."""

    def __init__(self, moment: datetime) -> None:
        self._offset = _aware(moment) - system_now()

    def now(self) -> datetime:
        return system_now() + self._offset

    def __repr__(self) -> str:
        return f"StartedClock(offset={self._offset})"


def local_now(clock: Clock, zone: tzinfo) -> datetime:
    """The clock's moment as the wall clock in `zone` shows it."""
    return clock.now().astimezone(zone)


def today(clock: Clock, zone: tzinfo) -> date:
    """The date in `zone` at the clock's moment (a day starts at local midnight, not UTC's)."""
    return local_now(clock, zone).date()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a clock needs an aware moment (with its time zone)")
    return moment.astimezone(UTC)
