"""Each delivery's attempts (DOMAIN §11 retries): the attempts that did not succeed are kept, the last,
successful one is the delivery row; the console's search, the API and the CLI show the same history."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.models import Campaign, Delivery, DeliveryAttempt
from broadcaster.settings import Settings
from tests.conftest import Cli
from tests.gateway import Faults, Gateway
from tests.reliability.test_faulty_gateway import drain_until_done, use_gateway
from tests.scenario import urgent_sms
from tests.web.conftest import person
from tests.web.console_helpers import sign_in, staff

PHONE = "0912000007"


def quick_settings(settings: Settings) -> Settings:
    """Retries within milliseconds, so the test does not wait for real backoff."""
    return settings.model_copy(update={"retry_base_seconds": 0.01, "retry_max_seconds": 0.05, "retry_max_attempts": 5})


@pytest.fixture
def quick(web_settings: Settings) -> Settings:
    return quick_settings(web_settings)


def twice_failed(
    sessions: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """One SMS that the loopback gateway answers HTTP 500 twice, then accepts."""
    with Gateway(Faults(fail_first=2)) as gateway:
        use_gateway(monkeypatch, gateway)
        urgent_sms(sessions, quick, tmp_path, [PHONE])
        drain_until_done(sessions, quick)
    assert gateway.ledger.requests == 3
    with sessions() as session:
        return session.scalars(select(Campaign.slug)).one()


def test_a_delivery_that_failed_twice_then_succeeded_shows_three_attempts_everywhere(
    client: TestClient,
    shipped: sessionmaker[Session],
    quick: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
) -> None:
    sessions = shipped
    slug = twice_failed(sessions, quick, tmp_path, monkeypatch)
    with sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.attempts) == ("accepted", 3)
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 2, "the success is the row"

    reader = person(sessions, "doc", "drafter")
    detail = client.get(f"/api/v1/deliveries/{delivery.id}", headers=reader.headers).json()
    history = detail["history"]
    assert [(item["number"], item["outcome"]) for item in history] == [(1, "pending"), (2, "pending"), (3, "accepted")]
    assert history[0]["reason"] == "the SMS gateway answered HTTP 500" and "internal" in history[0]["response"]
    missing = client.get("/api/v1/deliveries/999999", headers=reader.headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "there is no delivery 999999"

    staff(sessions, "hai", "operator")
    sign_in(client, "hai")
    page = client.get(f"/campaigns/{slug}/deliveries", params={"address": PHONE}).text
    attempts = page.split(f'id="history-{delivery.id}"')[1].split("</ol>")[0]
    assert attempts.count("<li ") == 3
    assert "Lần 1" in attempts and "thất bại, sẽ thử lại" in attempts and "Lần 3" in attempts
    assert "đã gửi, chờ báo cáo" in attempts

    shown = cli("deliveries", slug, "--history", PHONE)
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if line.strip().startswith("attempt")]
    assert len(lines) == 3 and "the SMS gateway answered HTTP 500" in lines[0] and "accepted" in lines[2]


def test_a_delivery_accepted_on_its_first_attempt_writes_no_attempt_row(
    shipped: sessionmaker[Session], quick: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = shipped
    with Gateway() as gateway:
        use_gateway(monkeypatch, gateway)
        urgent_sms(sessions, quick, tmp_path, [PHONE, "0912000008"])
        drain_until_done(sessions, quick)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 0
        assert set(session.scalars(select(Delivery.state))) == {"accepted"}


def test_a_hand_retry_goes_on_numbering_the_attempts_after_those_kept(
    client: TestClient,
    shipped: sessionmaker[Session],
    quick: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A retry by hand gives the delivery its attempts anew; its history keeps the earlier ones, and a
    failure after the retry is attempt 6, not a second attempt 1 (which the history's key refuses)."""
    from broadcaster.interventions import retry_failed

    sessions = shipped
    with Gateway(Faults(fail_first=5)) as gateway:
        use_gateway(monkeypatch, gateway)
        urgent_sms(sessions, quick, tmp_path, [PHONE])
        drain_until_done(sessions, quick)
    with sessions() as session, session.begin():
        assert session.scalars(select(Delivery.state)).one() == "failed"
        campaign = session.scalars(select(Campaign)).one()
        assert retry_failed(session, quick, campaign, "sms", "hai", quick.clock.now()) == 1

    with Gateway(Faults(fail_first=1)) as gateway:
        use_gateway(monkeypatch, gateway)
        drain_until_done(sessions, quick)
    with sessions() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.attempts) == ("accepted", 2)
        kept = session.scalars(select(DeliveryAttempt.number).order_by(DeliveryAttempt.number)).all()
        assert kept == [1, 2, 3, 4, 5, 6]

    reader = person(sessions, "doc", "drafter")
    history = client.get(f"/api/v1/deliveries/{delivery.id}", headers=reader.headers).json()["history"]
    assert [(item["number"], item["outcome"]) for item in history][-3:] == [
        (5, "failed"),
        (6, "pending"),
        (7, "accepted"),
    ]
