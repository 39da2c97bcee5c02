"""Send rates shared by every worker of a channel, in every process and on every machine.

The choice: one row per channel (or per provider account that several channels share) holding the
instant, on the database's clock, at which the next message may go. A worker reserves a block of
messages with one atomic statement,

    UPDATE send_paces SET next_free = max(next_free, <database now>) + count / rate RETURNING next_free, now

and sends them at `1 / rate` intervals from the block's start. This is a token bucket one message deep
(the "virtual scheduling" form of GCRA): every message of every worker has its own instant, so any
one-second window sees at most `rate + 1` of them, and a worker that waits measures its wait against the
database's `now` the same statement returned, so machines whose clocks differ agree.

Why not the alternatives:
- A deeper token bucket saves up a burst while idle: after a quiet minute, all its tokens go at once,
  and a gateway's per-second limit is exceeded exactly when an emergency starts.
- Leased send slots (rows claimed with SKIP LOCKED) need a table of future slots, a job to make and
  clean them, and a worker holding one it does not use wastes it for the whole lease.
- An advisory lock held while sending serialises the workers' HTTP requests, so a slow gateway
  answer slows everyone, and SQLite has no such lock.

Blocks keep the cost small where the rate is high: a worker reserves 5 ms of messages at a time (one
request's at least), so a channel makes at most 200 reservations a second however high its rate; at
200 messages a second or less that is one reservation a request, which keeps every worker's sends
interleaved. Measured (bench/README.md): blocks of a quarter second lost a fifth of the rate with four
workers on a loaded machine, as a worker slowed mid-block leaves its slots to pass unused; with one
request a reservation the four kept the rate within 1 %. A slot more than 20 ms late is given up
rather than sent in a bunch with the next ones, and what is left of a block when a worker runs out of
messages is given back.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import insert_ignoring_duplicates, transaction
from broadcaster.models import SendPace

# The database's clock in seconds since the epoch; SQLite's 'now' is fixed within one statement.
_NOW = {
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
    "postgresql": "extract(epoch from clock_timestamp())",
}
_LATEST = {"sqlite": "max", "postgresql": "greatest"}
# A worker reserves this much sending time at once: at most 200 reservations a second per channel.
BLOCK_SECONDS = 0.005
# A reserved slot this late is given up: sent now, it would crowd the next second's (R × 1.02 at most).
LATE_LIMIT = 0.02


def _reserve_statement(dialect: str) -> Any:
    now = _NOW.get(dialect, _NOW["postgresql"])
    latest = _LATEST.get(dialect, "greatest")
    return text(
        f"UPDATE send_paces SET next_free = {latest}(next_free, {now}) + :seconds "
        f"WHERE name = :name RETURNING next_free, {now}"
    )


_GIVE_BACK = text("UPDATE send_paces SET next_free = next_free - :seconds WHERE name = :name AND next_free = :ends")


class SharedPace:
    """At most `rate` messages per second for `name`, counted over every worker that uses the same name."""

    def __init__(self, sessions: sessionmaker[Session], name: str, rate: float, wait: Callable[[float], Any]) -> None:
        self.sessions = sessions
        self.name = name
        self.rate = rate
        self.wait = wait
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.block_size = max(1, math.floor(rate * BLOCK_SECONDS)) if rate > 0 else 0
        self._next = 0.0  # this process's monotonic clock: the next reserved slot
        self._left = 0  # reserved slots not used yet
        self._ends: float | None = None  # the end of this worker's last block, on the database's clock
        self._statement: Any = None

    def take(self, count: int) -> None:
        """Wait until `count` messages may go (one provider request), then return."""
        if self.interval == 0.0:
            return
        now = clock.monotonic()
        if self._left and self._next < now - LATE_LIMIT:
            # Slots that passed unused: sending them now would bunch the sends.
            passed = min(self._left, math.ceil((now - LATE_LIMIT - self._next) / self.interval))
            self._left -= passed
            self._next += passed * self.interval
        if self._left < count:
            self._reserve(max(count, self.block_size))
            now = clock.monotonic()
        if self._next > now:
            self.wait(self._next - now)
        self._left -= count
        self._next += count * self.interval

    def give_back(self) -> None:
        """Return the reserved slots this worker will not use (it ran out of messages), when no other
        worker has reserved after them; otherwise they pass unused."""
        if not self._left or self._ends is None:
            return
        with transaction(self.sessions) as session:
            session.connection().execute(
                _GIVE_BACK, {"name": self.name, "ends": self._ends, "seconds": self._left * self.interval}
            )
        self._left, self._ends = 0, None

    def _reserve(self, size: int) -> None:
        with transaction(self.sessions) as session:
            if self._statement is None:
                self._statement = _reserve_statement(session.get_bind().dialect.name)
                insert_ignoring_duplicates(session, SendPace, [{"name": self.name, "next_free": 0.0}], count=False)
            ends, database_now = (
                session.connection()
                .execute(self._statement, {"name": self.name, "seconds": size * self.interval})
                .one()
            )
        self._ends = float(ends)
        starts_in = float(ends) - size * self.interval - float(database_now)
        self._next = clock.monotonic() + starts_in
        self._left = size
