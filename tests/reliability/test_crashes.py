"""kill -9 of worker processes in the middle of a fan-out, and a graceful stop with SIGTERM.

Every recipient is delivered in the end. A kill can repeat only the batch whose send was in flight,
and not even that where the gateway honours the idempotency key; a graceful stop repeats nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.models import Delivery, DeliveryState, Occurrence
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.gateway import Faults, Gateway
from tests.helpers import wait_for
from tests.integration.test_delivery_reports import assert_kept_counts_hold
from tests.moment import broadcaster_command, subprocess_environment
from tests.scenario import phones, urgent_sms

# Enough sends for three kills well inside the fan-out; more would only make the test longer.
RECIPIENTS = 1000
BATCH = 25


def fan_out(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    urgent_sms(sessions, settings, tmp_path, phones(RECIPIENTS))


def start(command: str, settings: Settings, gateway: Gateway, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env.update(
        {
            "BROADCASTER_DATABASE_URL": settings.database_url,
            "BROADCASTER_OUTPUT_DIR": str(tmp_path / "out"),
            "BROADCASTER_LEASE_SECONDS": "2",
            "BROADCASTER_POLL_SECONDS": "0.1",
            "BROADCASTER_CLAIM_BATCH": "100",
            "BROADCASTER_RATES": '{"sms": 100000}',
            "BROADCASTER_SMS_DIALECT": "generic-json",
            "BROADCASTER_SMS_URL": gateway.url,
            "BROADCASTER_SMS_BATCH_SIZE": str(BATCH),
        }
    )
    log = (tmp_path / f"{command}-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        broadcaster_command(command, "--channel", "sms"),
        env=subprocess_environment(env),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def unfinished(sessions: sessionmaker[Session]) -> int:
    """Deliveries still to send, plus occurrences whose expansion a kill may have cut short."""
    with sessions() as session:
        unsent = session.scalar(select(func.count()).where(Delivery.state.in_(["pending", "sending"]))) or 0
        return unsent + (session.scalar(select(func.count()).where(Occurrence.state == "pending")) or 0)


def test_kill_9_in_the_middle_of_a_fan_out_loses_nothing_and_repeats_nothing_with_keys(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    kill_workers_during_fan_out(shipped, settings, tmp_path, honour_ids=True)


def test_kill_9_with_a_gateway_that_ignores_keys_repeats_at_most_the_sends_in_flight(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    kill_workers_during_fan_out(shipped, settings, tmp_path, honour_ids=False)


def kill_workers_during_fan_out(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, honour_ids: bool
) -> None:
    fan_out(shipped, settings, tmp_path)
    kills = 0
    with Gateway(Faults(delay=0.02), honour_ids=honour_ids) as gateway:
        for threshold in (150, 450, 750):
            worker = start("worker", settings, gateway, tmp_path)
            wait_for(lambda threshold=threshold: sum(gateway.ledger.received.values()) >= threshold)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            kills += 1
        last = start("worker", settings, gateway, tmp_path)
        wait_for(lambda: unfinished(shipped) == 0, timeout=120)
        last.send_signal(signal.SIGTERM)
        assert last.wait(timeout=30) == 0

    ledger = gateway.ledger
    delivered = ledger.delivered_phones()
    assert len(delivered) == RECIPIENTS, "every recipient got the bulletin"
    resent = sum(count - 1 for count in ledger.received.values())
    in_flight = max(BATCH, Settings().record_every)  # sent, or sent but not yet recorded, at a kill
    assert resent <= kills * in_flight, "only sends in flight at a kill are repeated"
    if honour_ids:
        assert max(delivered.values()) == 1, "with keys the gateway honours, nobody gets it twice"
    else:
        assert sum(delivered.values()) - RECIPIENTS <= kills * in_flight
    with shipped() as session:
        assert session.scalar(select(func.count()).where(Delivery.state == DeliveryState.ACCEPTED)) == RECIPIENTS
    # Leases cut short, taken again after they expired, outcomes written by batch: the kept counts still hold.
    assert_kept_counts_hold(shipped)


def test_two_workers_share_one_fan_out_and_never_lease_the_same_row(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    # On SQLite too: a lease is one UPDATE of the rows it picks, and SQLite runs one writer at a time.
    fan_out(shipped, settings, tmp_path)
    with Gateway(Faults(delay=0.05), honour_ids=False) as gateway:  # a repeat would show in the ledger
        workers = [start("worker", settings, gateway, tmp_path) for _ in range(2)]
        wait_for(lambda: unfinished(shipped) == 0, timeout=120)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        assert [worker.wait(timeout=30) for worker in workers] == [0, 0]
    delivered = gateway.ledger.delivered_phones()
    assert len(delivered) == RECIPIENTS and max(delivered.values()) == 1
    assert_kept_counts_hold(shipped)  # two workers' leases and outcomes, each counting its own batches


def test_sigterm_finishes_in_flight_sends_releases_claims_and_exits_0(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    fan_out(shipped, settings, tmp_path)
    with Gateway(Faults(delay=0.05), honour_ids=False) as gateway:
        service = start("run", settings, gateway, tmp_path)
        wait_for(lambda: sum(gateway.ledger.received.values()) >= 300)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0
        with shipped() as session:
            assert session.scalar(select(func.count()).where(Delivery.state == DeliveryState.SENDING)) == 0
            assert unfinished(shipped) > 0
        quick = settings.model_copy(update={"rates": {"sms": 100_000}})
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BROADCASTER_SMS_DIALECT", "generic-json")
            patch.setenv("BROADCASTER_SMS_URL", gateway.url)
            Worker(shipped, quick, ["sms"], "after-restart").drain(timeout=60)
    delivered = gateway.ledger.delivered_phones()
    assert len(delivered) == RECIPIENTS and max(delivered.values()) == 1, "a graceful stop repeats nothing"
    assert_kept_counts_hold(shipped)  # the claims the stop released are counted back to pending
