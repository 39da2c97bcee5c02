"""A provider batch's outcomes are written by one statement per shared outcome, on both databases: each row
keeps its own message id, a row another worker leased meanwhile is left alone, a delivery report that came
first wins, a failure gets its attempt row, and the kept counts agree with the rows."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.attempts import histories
from broadcaster.clock import system_now
from broadcaster.counts import counts
from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.outbox import expand
from broadcaster.policy import RetryPolicy
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker, claim, outcome_values, record
from channels.base import Bulletin, Outcome, Result
from tests.integration.test_delivery_reports import assert_kept_counts_hold
from tests.scenario import SMS, campaign, local, phones, urgent_sms

NUMBERS = """phone,area,locale,opted_out,opted_out_on
0912000001,go-dau,vi,,
0912000002,go-dau,vi,,
0912000003,go-dau,vi,,
0912000004,go-dau,vi,,
0912000005,go-dau,vi,,
"""


@pytest.fixture
def leased(shipped: sessionmaker[Session], settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    """Five numbers fanned out and leased by worker w1."""
    path = tmp_path / "bulk.csv"
    path.write_text(NUMBERS, encoding="utf-8")
    with transaction(shipped) as session:
        directory.import_subscribers(session, path, "bulk", None)
    now = system_now()
    channel = {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}
    campaign(shipped, settings, {"sms": channel}, priority="emergency", sendable_since=now - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    assert expand(shipped, settings, 1) == 5
    with transaction(shipped) as session:
        assert len(claim(session, "sms", "w1", system_now(), timedelta(minutes=5), 10)) == 5
    return shipped


def test_a_batch_is_written_with_each_rows_own_outcome_and_nothing_of_another_workers(
    leased: sessionmaker[Session], settings: Settings
) -> None:
    now = system_now()
    with transaction(leased) as session:
        rows = {row.address[-1]: row for row in claim(session, "sms", "w1", now + timedelta(hours=1), timedelta(), 10)}
        # Leased again by w1 (their leases ran out): now attempt 2 of each.
        session.execute(update(Delivery).where(Delivery.address == "+84912000004").values(lease_owner="w2"))
        session.execute(update(Delivery).where(Delivery.address == "+84912000002").values(report="delivered"))
    assert len(rows) == 5
    results = {
        "1": Result("k1", Outcome.ACCEPTED, provider_id="m-1"),
        "2": Result("k2", Outcome.ACCEPTED, provider_id="m-2"),
        "3": Result("k3", Outcome.ACCEPTED, provider_id="m-3"),
        "4": Result("k4", Outcome.ACCEPTED, provider_id="m-4"),
        "5": Result.failed("k5", "gateway busy", retryable=True),
    }
    policy = RetryPolicy.of(settings)
    updates = [(rows[d], outcome_values(results[d], rows[d].attempts, policy, now)) for d in sorted(rows)]
    with transaction(leased) as session:
        record(session, "w1", updates, now)

    with leased() as session:
        found = {row.address[-1]: row for row in session.scalars(select(Delivery))}
        kept = counts(session, [1])
        history = histories(session, [found["5"]])[found["5"].id]
    assert {d: (row.state, row.provider_id, row.lease_owner) for d, row in found.items()} == {
        "1": ("accepted", "m-1", None),
        "2": ("delivered", "m-2", None),  # the report that came first wins
        "3": ("accepted", "m-3", None),
        "4": ("sending", None, "w2"),  # another worker's lease: left to it
        "5": ("pending", None, None),
    }
    assert found["5"].due_at > now and found["5"].done_at is None
    assert [(attempt.number, attempt.outcome, attempt.reason) for attempt in history] == [
        (2, "pending", "gateway busy")
    ]
    assert kept == {(1, state): number for state, number in Counter(row.state for row in found.values()).items()}
    assert_kept_counts_hold(leased)  # by area and by list too, written by the lease's and outcomes' own counting


def test_messages_sent_one_request_each_are_written_by_one_statement_each_at_its_own_time(
    leased: sessionmaker[Session], settings: Settings
) -> None:
    """Sent one request each, every outcome has its own time: that must not make a statement per message
    (on PostgreSQL a round trip each, between sends), nor lose a row's own time or attempt count."""
    start = system_now()
    with transaction(leased) as session:
        rows = sorted(claim(session, "sms", "w1", start + timedelta(hours=1), timedelta(minutes=5), 10))
    policy = RetryPolicy.of(settings)
    sent_at = {row.id: start + timedelta(seconds=index) for index, row in enumerate(rows)}
    accepted = [
        (
            row,
            outcome_values(
                Result("k", Outcome.ACCEPTED, provider_id=f"m-{row.id}"), row.attempts, policy, sent_at[row.id]
            ),
        )
        for row in rows[:4]
    ]
    held = {**outcome_values(Result.failed("k", "busy", retryable=True), 1, policy, start), "attempts": 7}
    updates = [*accepted, (rows[4], held)]
    statements: list[str] = []
    engine = leased.kw["bind"]

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with transaction(leased) as session:
            record(session, "w1", updates, start + timedelta(minutes=1))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len([s for s in statements if s.lstrip().startswith("WITH given")]) == 2  # accepted, to be retried
    with leased() as session:
        found = {row.id: row for row in session.scalars(select(Delivery))}
    for row in rows[:4]:
        assert (found[row.id].state, found[row.id].provider_id) == ("accepted", f"m-{row.id}")
        assert found[row.id].done_at == sent_at[row.id] and found[row.id].attempts == row.attempts
    retried = found[rows[4].id]
    assert (retried.state, retried.attempts, retried.done_at, retried.due_at) == ("pending", 7, None, held["due_at"])


def test_a_worker_never_holds_as_many_as_record_every_outcomes_unwritten(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kill can send again is bounded by `record_every`: before each send, the messages already sent
    whose outcome is not yet committed are fewer than `record_every`."""
    every = 6
    settings = settings.model_copy(update={"record_every": every, "send_windows": {}})
    urgent_sms(shipped, settings, tmp_path, phones(40))
    monkeypatch.setenv("BROADCASTER_SMS_BATCH_SIZE", "1")  # one message a request, as most gateways take them
    worker = Worker(shipped, settings, ["sms"], "w")
    adapter = worker.adapters["sms"]
    real_send = adapter.send
    sent, behind = 0, []

    def send(bulletins: list[Bulletin]) -> list[Result]:
        nonlocal sent
        with shipped() as session:
            written = session.scalar(select(func.count()).where(Delivery.done_at.is_not(None))) or 0
        behind.append(sent - written)
        results = real_send(bulletins)
        sent += len(bulletins)
        return results

    adapter.send = send  # type: ignore[method-assign]
    worker.drain()

    assert sent == 40 and len(behind) == 40
    assert max(behind) < every
    with shipped() as session:
        assert session.scalar(select(func.count()).where(Delivery.done_at.is_not(None))) == 40
