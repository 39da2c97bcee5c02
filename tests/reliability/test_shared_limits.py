"""Limits shared by every worker: the per-number daily cap holds with several worker processes
(DOMAIN §5: at most 3 SMS to one number in 24 hours), on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.models import DONE, Delivery, DeliveryState
from broadcaster.pacing import SharedPace
from broadcaster.policy import HELD_BY_CAP, Pace, pace_for
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from tests.gateway import Faults, Gateway
from tests.helpers import wait_for
from tests.moment import broadcaster_command, subprocess_environment
from tests.scenario import SMS, campaign, local, phones, subscriber_list

NUMBERS = 3
CAMPAIGNS = 8
WORKERS = 4


def start_worker(settings: Settings, gateway: Gateway, tmp_path: Path, index: int) -> subprocess.Popen[bytes]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env.update(
        {
            "BROADCASTER_DATABASE_URL": settings.database_url,
            "BROADCASTER_OUTPUT_DIR": str(tmp_path / "out"),
            "BROADCASTER_LEASE_SECONDS": "60",  # no lease runs out on a busy machine: the cap, not a resend, is tested
            "BROADCASTER_POLL_SECONDS": "0.05",
            "BROADCASTER_CLAIM_BATCH": "5",
            "BROADCASTER_RECORD_EVERY": "1",
            "BROADCASTER_SEND_WINDOWS": "{}",
            "BROADCASTER_DAILY_CAPS": '{"sms": 3}',
            "BROADCASTER_RATES": '{"sms": 100000}',
            "BROADCASTER_SMS_DIALECT": "generic-json",
            "BROADCASTER_SMS_URL": gateway.url,
            "BROADCASTER_SMS_BATCH_SIZE": "1",
        }
    )
    log = (tmp_path / f"worker-{index}.log").open("wb")
    command = broadcaster_command("worker", "--channel", "sms")
    return subprocess.Popen(
        command, env=subprocess_environment(env), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
    )


def working(tmp_path: Path, index: int) -> bool:
    return "working on sms" in (tmp_path / f"worker-{index}.log").read_text(encoding="utf-8", errors="replace")


def settled(sessions: sessionmaker[Session]) -> bool:
    """Every delivery sent, or held by the cap until tomorrow."""
    tomorrow = system_now() + timedelta(hours=12)
    with sessions() as session:
        unsettled = select(func.count()).where(
            or_(
                Delivery.state == DeliveryState.SENDING,
                (Delivery.state == DeliveryState.PENDING) & (Delivery.due_at < tomorrow),
            )
        )
        total = session.scalar(select(func.count()).select_from(Delivery)) or 0
        return total == NUMBERS * CAMPAIGNS and session.scalar(unsettled) == 0


def test_four_worker_processes_send_no_number_more_than_its_daily_cap(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    numbers = phones(NUMBERS)
    subscriber_list(shipped, tmp_path, "bulk", numbers)
    now = system_now()
    sms = {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}
    for index in range(CAMPAIGNS):
        campaign(shipped, settings, {"sms": sms}, slug=f"nhac-lan-{index}", sendable_since=now - timedelta(hours=1))

    # Three numbers, eight campaigns: concurrent claims hold rows for the same number (without counting
    # other workers' claims in flight, one number got 7); a slow gateway keeps them in flight.
    with Gateway(Faults(delay=0.05), honour_ids=False) as gateway:
        workers = [start_worker(settings, gateway, tmp_path, index) for index in range(WORKERS)]
        try:
            # Every worker is at work before the deliveries exist, so all four compete for them.
            wait_for(lambda: all(working(tmp_path, index) for index in range(WORKERS)), 120, "the workers to start")
            with transaction(shipped) as session:
                catch_up(session, settings, now + timedelta(seconds=1))
            wait_for(lambda: settled(shipped), 120, "the workers to settle every delivery")
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
        assert [worker.wait(timeout=30) for worker in workers] == [0] * WORKERS

    delivered = gateway.ledger.delivered_phones()
    assert len(delivered) == NUMBERS
    assert max(delivered.values()) == 3, "no number got a fourth SMS the same day"
    assert min(delivered.values()) == 3, "every number got its three"
    with shipped() as session:
        sent = session.scalar(select(func.count()).where(Delivery.state.in_(DONE)))
        held = session.scalar(select(func.count()).where(Delivery.reason.startswith(HELD_BY_CAP)))
    assert (sent, held) == (3 * NUMBERS, (CAMPAIGNS - 3) * NUMBERS)


def test_workers_pacing_one_channel_each_get_their_own_instant_one_interval_apart(
    sessions: sessionmaker[Session],
) -> None:
    """Three workers (as three paces over the same row) asking at once are given instants 1/rate apart
    on the database's clock, whichever process or machine they run in."""
    instants: list[float] = []
    waited: list[float] = []
    workers = [SharedPace(sessions, "sms", 4.0, waited.append) for _ in range(3)]  # 4 a second, blocks of 1
    for worker in workers:
        waited.clear()
        worker.take(1)
        instants.append(time.monotonic() + sum(waited))  # when this worker's message may go
        worker.close()
    gaps = [later - earlier for earlier, later in pairwise(instants)]
    # Never sooner than one interval; a busy machine can only add its own delay after the given instant.
    assert all(0.23 < gap < 0.4 for gap in gaps), gaps


def test_channels_that_share_a_provider_account_share_its_rate() -> None:
    settings = Settings(rates={"sms": 30, "bulk": 50}, rate_accounts={"sms": "esms-so", "sms-khan": "esms-so"})
    assert pace_for(settings, "sms", 30) == Pace("account:esms-so", 30)
    assert pace_for(settings, "sms-khan", 10) == Pace("account:esms-so", 10)
    assert pace_for(settings, "bulk", 20) == Pace("bulk", 50)
