"""On PostgreSQL two transactions that lock the same rows in opposite orders deadlock, and the server ends one
of them; `db.retrying` runs the one ended again, so both writes land and nobody sees an error."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from broadcaster.db import make_engine, make_sessions, retrying

pytestmark = pytest.mark.postgresql


def test_a_transaction_ended_by_a_deadlock_is_run_again(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counters (id integer PRIMARY KEY, value integer NOT NULL)"))
        connection.execute(text("INSERT INTO counters VALUES (1, 0), (2, 0)"))
    sessions = make_sessions(engine)
    both_hold_their_first_row = threading.Barrier(2, timeout=30)
    attempts = {"first": 0, "second": 0}
    errors: list[BaseException] = []

    def add(name: str, order: tuple[int, int]) -> None:
        def transaction_once() -> None:
            attempts[name] += 1
            with sessions() as session, session.begin():
                session.execute(text("UPDATE counters SET value = value + 1 WHERE id = :id"), {"id": order[0]})
                if attempts[name] == 1:
                    both_hold_their_first_row.wait()  # now each asks for the row the other holds: a deadlock
                session.execute(text("UPDATE counters SET value = value + 1 WHERE id = :id"), {"id": order[1]})

        try:
            retrying(transaction_once)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=add, args=("first", (1, 2))),
        threading.Thread(target=add, args=("second", (2, 1))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    # The server ended one of them (now and then, on a busy machine, both, each checking at once) and it ran again.
    assert max(attempts.values()) == 2
    with engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counters ORDER BY id")).scalars().all() == [2, 2]
    engine.dispose()
