"""A gateway that fails a share of requests every way it can: everything is delivered in the end,
permanent refusals are not retried, every attempt is counted."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.models import Campaign, CampaignChannel, Delivery, DeliveryState
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.gateway import Faults, Gateway
from tests.scenario import phones, urgent_sms

NUMBERS = phones(300)


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """Retries within milliseconds, so the test does not wait for real backoff."""
    return settings.model_copy(
        update={
            "retry_base_seconds": 0.01,
            "retry_max_seconds": 0.05,
            "retry_max_attempts": 12,
            "claim_batch": 100,
            "rates": {"sms": 100_000},
        }
    )


def use_gateway(monkeypatch: pytest.MonkeyPatch, gateway: Gateway, batch: int = 20) -> None:
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "generic-json")
    monkeypatch.setenv("BROADCASTER_SMS_URL", gateway.url)
    monkeypatch.setenv("BROADCASTER_SMS_BATCH_SIZE", str(batch))
    monkeypatch.setenv("BROADCASTER_SMS_TIMEOUT", "0.3")


def fan_out(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    urgent_sms(sessions, settings, tmp_path, NUMBERS)


def drain_until_done(sessions: sessionmaker[Session], settings: Settings, rounds: int = 200) -> None:
    worker = Worker(sessions, settings, ["sms"], "test-worker")
    for _ in range(rounds):
        worker.drain(timeout=5)
        with sessions() as session:
            waiting = session.scalar(select(func.count()).where(Delivery.state.in_(["pending", "sending"])))
        if not waiting:
            return
        worker.stop.wait(0.05)


def test_everything_arrives_through_500s_429s_timeouts_and_dropped_connections(
    shipped: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invalid = {f"+84{number[1:]}" for number in NUMBERS[:5]}
    faults = Faults(server_error=0.15, rate_limited=0.1, slow=0.05, dropped=0.1, invalid=invalid)
    with Gateway(faults, slow_seconds=0.6) as gateway:
        use_gateway(monkeypatch, gateway)
        fan_out(shipped, quick, tmp_path)
        drain_until_done(shipped, quick)

    with shipped() as session:
        states = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        invalid_attempts = set(
            session.scalars(select(Delivery.attempts).where(Delivery.state == DeliveryState.INVALID))
        )
        retried = session.scalar(select(func.count()).where(Delivery.attempts > 1))
    assert states == {DeliveryState.ACCEPTED: 295, DeliveryState.INVALID: 5}
    assert invalid_attempts == {1}, "a permanent refusal is never retried"
    assert retried and retried > 0, "attempts are recorded"
    assert set(gateway.ledger.faults) == {"server_error", "rate_limited", "slow", "dropped"}
    delivered = gateway.ledger.delivered_phones()
    assert len(delivered) == 295 and max(delivered.values()) == 1, "the gateway honours keys: nobody twice"


def test_a_429_retry_after_is_honoured(
    shipped: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Retry-After: 60 leaves even a machine busy with other tests (in parallel) time to try all 300 once
    # before the first are due again; the test does not wait for it, since nothing is due meanwhile.
    with Gateway(Faults(rate_limited=1.0, retry_after=60)) as gateway:
        use_gateway(monkeypatch, gateway)
        # Every answer is a 429 here: no request is meant to time out, even with the machine busy with other
        # tests (the short timeout of the other tests would turn a slow 429 into an unanswered request).
        monkeypatch.setenv("BROADCASTER_SMS_TIMEOUT", "10")
        fan_out(shipped, quick, tmp_path)
        started = system_now()
        Worker(shipped, quick, ["sms"], "w").drain(timeout=60)  # returns once nothing is due
    with shipped() as session:
        rows = session.execute(select(Delivery.due_at, Delivery.reason, Delivery.attempts)).all()
    assert all(row.attempts == 1 and row.due_at >= started + timedelta(seconds=60) for row in rows)
    assert Counter(row.reason for row in rows) == {"the SMS gateway answered HTTP 429": 300}


def test_bad_credentials_pause_the_channel_and_say_why_instead_of_burning_through_the_list(
    shipped: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Gateway(Faults(unauthorised=True)) as gateway:
        use_gateway(monkeypatch, gateway)
        fan_out(shipped, quick, tmp_path)
        Worker(shipped, quick, ["sms"], "w").drain(timeout=5)
        assert gateway.ledger.requests == 1

        with shipped() as session:
            channel = session.scalar(select(CampaignChannel).where(CampaignChannel.channel == "sms"))
            assert channel is not None and channel.paused
            assert channel.pause_reason == "the SMS gateway refused our credentials (HTTP 401)"
            assert session.scalar(select(func.count()).where(Delivery.state == DeliveryState.PENDING)) == 300
            assert set(session.scalars(select(Delivery.attempts))) == {0}

        gateway.faults.unauthorised = False  # the operator fixes the key and resumes the channel
        with transaction(shipped) as session:
            channel = session.scalar(select(CampaignChannel).where(CampaignChannel.channel == "sms"))
            assert channel is not None
            channel.paused = False
        drain_until_done(shipped, quick)
    assert len(gateway.ledger.delivered) == 300


def test_a_failed_delivery_gives_up_after_the_last_attempt_with_its_reason(
    shipped: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    few = quick.model_copy(update={"retry_max_attempts": 3})
    with Gateway(Faults(server_error=1.0)) as gateway:
        use_gateway(monkeypatch, gateway)
        fan_out(shipped, few, tmp_path)
        drain_until_done(shipped, few)
    with shipped() as session:
        rows = session.execute(select(Delivery.state, Delivery.attempts, Delivery.reason).distinct()).all()
        assert session.scalar(select(Campaign.status)) == "active"
    assert [tuple(row) for row in rows] == [
        (DeliveryState.FAILED, 3, "the SMS gateway answered HTTP 500 (gave up after 3 attempts)")
    ]
