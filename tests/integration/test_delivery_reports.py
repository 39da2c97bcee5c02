"""SMS delivery reports end to end (DOMAIN §11): a loopback eSMS stand-in calls the web app back with
GET reports — repeated, early, interim, for ids nobody here sent, or never — and the report pull asks it
about the rest. Every recipient ends delivered, or undelivered with the telco's reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.delivery import Worker
from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Delivery, DeliveryState, UnmatchedReport, utcnow
from broadcaster.reports import pull_reports
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import CONTENT
from tests.esms_gateway import EsmsGateway, Script
from tests.scenario import phones, urgent_sms

API_KEY, SECRET_KEY = "esms-api-key-not-for-logs", "esms-secret-not-for-logs"
NUMBERS = phones(40)


@pytest.fixture
def report_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        output_dir=tmp_path / "out",
        content_dir=CONTENT,
        data_dir=tmp_path / "data",
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        retry_max_attempts=4,
        rates={"sms": 100_000},
        report_pull_after_minutes=0,
    )


@pytest.fixture
def served(report_settings: Settings, shipped: sessionmaker[Session]) -> Iterator[str]:
    """The one web app, served by uvicorn on a loopback port: where the gateway calls back."""
    app: FastAPI = create_app(report_settings, shipped)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)


def use_esms(monkeypatch: pytest.MonkeyPatch, gateway: EsmsGateway) -> None:
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "esms")
    monkeypatch.setenv("BROADCASTER_SMS_URL", gateway.url)
    monkeypatch.setenv("BROADCASTER_SMS_API_KEY", API_KEY)
    monkeypatch.setenv("BROADCASTER_SMS_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("BROADCASTER_SMS_BRANDNAME", "STTTT_TN")
    monkeypatch.setenv("BROADCASTER_SMS_TIMEOUT", "2")


def send_all(sessions: sessionmaker[Session], settings: Settings) -> None:
    worker = Worker(sessions, settings, ["sms"], "test-worker")
    for _ in range(100):
        worker.drain(timeout=5)
        with sessions() as session:
            waiting = session.scalar(select(func.count()).where(Delivery.state.in_(["pending", "sending"])))
        if not waiting:
            return
        time.sleep(0.05)
    raise AssertionError("deliveries still waiting")


def states(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str | None]]:
    """national phone → (state, reason)."""
    with sessions() as session:
        rows = session.execute(select(Delivery.address, Delivery.state, Delivery.reason)).all()
    return {"0" + address[3:]: (state, reason) for address, state, reason in rows}


SCRIPTS = {
    NUMBERS[0]: Script(interim=(1, 2, 7)),
    NUMBERS[1]: Script(interim=(7,), delivered=False),
    NUMBERS[2]: Script(repeats=3),
    NUMBERS[3]: Script(repeats=2, delivered=False),
    NUMBERS[4]: Script(early=True),
    NUMBERS[5]: Script(early=True, delivered=False),
    NUMBERS[6]: Script(report=False),
    NUMBERS[7]: Script(report=False, delivered=False),
    NUMBERS[8]: Script(drop_first=True),  # recorded, unanswered; the retry hears 124: our own, so accepted
    NUMBERS[9]: Script(drop_first=True, fail_after_drop=1, delivered=False),  # its report names the RequestId
    **{number: Script(delivered=index % 5 != 0) for index, number in enumerate(NUMBERS[10:])},
}


def test_every_recipient_ends_delivered_or_undelivered_with_its_reason(
    shipped: sessionmaker[Session],
    report_settings: Settings,
    served: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = report_settings.model_copy(update={"public_url": served})
    with EsmsGateway(API_KEY, SECRET_KEY, SCRIPTS) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, settings, tmp_path, NUMBERS)
        with shipped() as session:
            installation = installation_id(session)
        callback = f"{served}/hooks/sms/{callback_token(settings, installation)}/esms"
        gateway.report_stray(callback, "ffffffff-not-ours", "", "0987654321")
        gateway.report_stray(callback, "eeeeeeee-not-ours", "0badc0ffee00-17-84912000003", "0912000003")
        send_all(shipped, settings)
        gateway.wait_for_callbacks()
        before_pull = states(shipped)
        pull_reports(shipped, settings, installation, utcnow() + timedelta(seconds=1))

    after = states(shipped)
    for number, script in SCRIPTS.items():
        state, reason = after[number]
        if script.delivered:
            assert state == DeliveryState.DELIVERED, (number, script, state, reason)
        else:
            assert state == DeliveryState.UNDELIVERED, (number, script, state, reason)
            assert reason and "did not deliver it" in reason
            assert ("Viettel" in reason) == script.report  # a callback names the telco; the look-up does not
    # Reports that never came were recovered by the pull, and only those were looked up.
    assert before_pull[NUMBERS[6]][0] == before_pull[NUMBERS[7]][0] == DeliveryState.ACCEPTED
    assert gateway.ledger.look_ups == 2
    # The gateway was never given an error: every callback, stray ones included, was answered 200.
    assert set(gateway.ledger.callbacks) == {200} and gateway.ledger.callbacks_failed == 0
    with shipped() as session:
        kept = session.scalars(select(UnmatchedReport.provider_id)).all()
    assert sorted(kept) == ["eeeeeeee-not-ours", "ffffffff-not-ours"]
    assert "matches no delivery" in caplog.text
    assert callback_token(settings, installation) not in caplog.text
