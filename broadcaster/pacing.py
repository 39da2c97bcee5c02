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

Keeping the cost small: a reservation is one statement on the pace's own connection, committed on its
own (on PostgreSQL without waiting for the disk: a reservation lost in a crash sent nothing). A worker
reserves 5 ms of messages at a time (one request's at least), so a channel makes at most 200
reservations a second however high its rate; at 200 messages a second or less that is one reservation
a request, which keeps every worker's sends interleaved. Measured (bench/README.md): blocks of a
quarter second lost a fifth of the rate with four workers on a loaded machine, as a worker slowed
mid-block leaves its slots to pass unused; through a session (pool check-out, BEGIN, UPDATE, COMMIT)
four PostgreSQL workers reached only 0.58 R at R = 200, 0.94 to 0.99 R on their own connection. A slot more than
20 ms late is given up rather than sent in a bunch with the next ones, and what is left of a block
when a worker runs out of messages is given back.
"""

from __future__ import annotations

import math
import time as clock
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
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
# A worker that oversleeps its slot this many times in a row sends on the last one all the same.
MAX_OVERSLEEPS = 5


def _reserve_statement(dialect: str) -> Any:
    now = _NOW.get(dialect, _NOW["postgresql"])
    latest = _LATEST.get(dialect, "greatest")
    return text(
        f"UPDATE send_paces SET next_free = {latest}(next_free, {now}) + :seconds "
        f"WHERE name = :name RETURNING next_free, {now}"
    )


_NO_FLUSH_WAIT = text("SET synchronous_commit TO OFF")
_FLUSH_WAIT = text("RESET synchronous_commit")
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
        self._connection: Connection | None = None

    def take(self, count: int) -> None:
        """Wait until `count` messages may go (one provider request), then return."""
        if self.interval == 0.0:
            return
        for _ in range(MAX_OVERSLEEPS):
            now = self._skip_passed()
            if self._left < count:
                self._reserve(max(count, self.block_size))
                now = clock.monotonic()
            if self._next > now:
                self.wait(self._next - now)
                now = clock.monotonic()
            if now - self._next <= LATE_LIMIT or now < self._next:  # on time, or woken early to stop
                break
            # Overslept (a busy machine): sent now, this message would crowd the next ones' second.
        self._left -= count
        self._next += count * self.interval

    def _skip_passed(self) -> float:
        """Give up reserved slots that passed unused: sending them now would bunch the sends."""
        now = clock.monotonic()
        if self._left and self._next < now - LATE_LIMIT:
            passed = min(self._left, math.ceil((now - LATE_LIMIT - self._next) / self.interval))
            self._left -= passed
            self._next += passed * self.interval
        return now

    def give_back(self) -> None:
        """Return the reserved slots this worker will not use (it ran out of messages), when no other
        worker has reserved after them; otherwise they pass unused."""
        if not self._left or self._ends is None:
            return
        seconds = self._left * self.interval
        self._execute(_GIVE_BACK, {"name": self.name, "ends": self._ends, "seconds": seconds})
        self._left, self._ends = 0, None

    def close(self) -> None:
        """Give the connection back (as it was: its commits wait for the disk again)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                if connection.dialect.name == "postgresql":
                    connection.execute(_FLUSH_WAIT)
            finally:
                connection.close()

    def _reserve(self, size: int) -> None:
        self._open()
        parameters = {"name": self.name, "seconds": size * self.interval}
        ends, database_now = self._execute(self._statement, parameters).one()
        self._ends = float(ends)
        starts_in = float(ends) - size * self.interval - float(database_now)
        self._next = clock.monotonic() + starts_in
        self._left = size

    def _execute(self, statement: Any, parameters: dict[str, Any]) -> Any:
        """One statement, committed on its own, on this pace's own connection: a reservation is one round
        trip (no session, no pool check-out, no BEGIN and COMMIT around it)."""
        try:
            return self._open().execute(statement, parameters)
        except DBAPIError:
            self.close()  # a broken connection is opened again at the next reservation
            raise

    def _open(self) -> Connection:
        if self._connection is None:
            engine = self.sessions.kw["bind"]
            with transaction(self.sessions) as session:
                insert_ignoring_duplicates(session, SendPace, [{"name": self.name, "next_free": 0.0}], count=False)
            connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if connection.dialect.name == "postgresql":
                # A reservation lost in a crash costs nothing (its messages were not sent yet): no waiting
                # for the disk at each one. Only this connection, and only while it is the pace's.
                connection.execute(_NO_FLUSH_WAIT)
            self._statement = _reserve_statement(connection.dialect.name)
            self._connection = connection
        return self._connection
