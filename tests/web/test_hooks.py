"""The callback endpoint: only this installation's token opens it, each dialect's report is read and
recorded, and the token never reaches the access log (DOMAIN §11)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Delivery, DeliveryState, Occurrence, UnmatchedReport
from broadcaster.outbox import expand
from broadcaster.settings import Settings
from broadcaster.web.hooks import install
from tests.scenario import urgent_sms


@pytest.fixture
def token(sessions: sessionmaker[Session], web_settings: Settings) -> str:
    with sessions() as session:
        return callback_token(web_settings, installation_id(session))


def test_a_wrong_token_or_dialect_is_not_found(client: TestClient, token: str) -> None:
    assert client.get("/hooks/sms/0123456789abcdef0123456789abcdef/esms?SMSID=1&SendStatus=5").status_code == 404
    assert client.get(f"/hooks/sms/{token}/twilio?SMSID=1&SendStatus=5").status_code == 404
    assert client.get(f"/hooks/sms/{token}/file?SMSID=1").status_code == 404  # no gateway calls back
    assert client.get(f"/hooks/email/{token}/esms?SMSID=1&SendStatus=5").status_code == 404  # reads no callbacks
    assert client.get(f"/hooks/viber/{token}/esms?SMSID=1&SendStatus=5").status_code == 404  # no such channel
    assert client.get(f"/hooks/zalo/{token}/file?SMSID=1").status_code == 404  # Zalo's file dialect calls nothing


def test_something_that_is_not_a_report_is_a_problem_saying_why(client: TestClient, token: str) -> None:
    answer = client.get(f"/hooks/sms/{token}/esms?SendStatus=5")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert "SMSID or RequestId" in answer.json()["detail"]


def test_an_oversize_callback_is_refused_before_it_is_read(client: TestClient, token: str) -> None:
    declared = client.post(f"/hooks/sms/{token}/generic-json", content=b"x" * 200_001)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert declared.json()["detail"] == "the request body is larger than the limit of 200 kB"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(3):
            yield b"x" * 100_000

    streamed = client.post(f"/hooks/sms/{token}/generic-json", content=chunks())
    assert streamed.status_code == 413 and streamed.json()["detail"] == declared.json()["detail"]


def test_another_method_is_refused_without_naming_the_token(client: TestClient, token: str) -> None:
    answer = client.put(f"/hooks/sms/{token}/esms?SMSID=1&SendStatus=5")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST"
    assert token not in answer.text and answer.json()["detail"] == "PUT is not allowed on /hooks/sms/***/esms"


def test_an_unknown_id_is_answered_200_and_kept(
    client: TestClient, token: str, sessions: sessionmaker[Session]
) -> None:
    answer = client.get(f"/hooks/sms/{token}/esms?SMSID=not-ours&SendStatus=5&SendSuccess=1&phonenumber=0912345678")
    assert answer.status_code == 200 and answer.json() == {"received": 1, "recorded": 0}
    with sessions() as session:
        assert session.scalars(select(UnmatchedReport.provider_id)).all() == ["not-ours"]


def test_speedsms_and_generic_json_reports_update_their_deliveries(
    client: TestClient,
    token: str,
    shipped: sessionmaker[Session],
    web_settings: Settings,
    tmp_path: Path,
) -> None:
    urgent_sms(shipped, web_settings, tmp_path, ["0912000001", "0912000002"])
    with shipped() as session:
        occurrence = session.scalars(select(Occurrence.id)).one()
        installation = installation_id(session)
    expand(shipped, web_settings, occurrence)
    with transaction(shipped) as session:  # as the worker records them: both accepted, one with its tranId
        session.execute(update(Delivery).values(state=DeliveryState.ACCEPTED, done_at=Delivery.due_at))
        session.execute(update(Delivery).where(Delivery.address == "+84912000001").values(provider_id="778899"))

    speedsms = {"type": "report", "tranId": 778899, "phone": "84912000001", "status": 0}
    assert client.post(f"/hooks/sms/{token}/speedsms", content=json.dumps(speedsms)).json()["recorded"] == 1
    key = f"{installation}.o{occurrence}:+84912000002"
    generic = {"reports": [{"id": key, "status": "undelivered", "reason": "subscriber unreachable"}]}
    for _ in range(3):  # repeats change nothing
        assert client.post(f"/hooks/sms/{token}/generic-json", json=generic).status_code == 200

    with shipped() as session:
        rows = {row.address: (row.state, row.reason) for row in session.scalars(select(Delivery))}
    assert rows == {
        "+84912000001": (DeliveryState.DELIVERED, None),
        "+84912000002": (DeliveryState.UNDELIVERED, "subscriber unreachable"),
    }


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/hooks/sms/{token}/esms?SMSID=1", "/hooks/sms/***/esms?SMSID=1"),
        ("/feeds/campaigns/canh-bao/{token}.ics", "/feeds/campaigns/canh-bao/***"),
        ("/portal/link/{token}/scripts/12.docx", "/portal/link/***/scripts/12.docx"),
        ("/portal/calendar/dtt-go-dau/{token}.ics?remind=15", "/portal/calendar/dtt-go-dau/***?remind=15"),
    ],
    ids=["sms-callback", "campaign-calendar", "station-portal", "station-calendar"],
)
def test_the_token_never_reaches_the_access_log(token: str, path: str, shown: str) -> None:
    install(FastAPI())  # the filter sits on uvicorn's access logger
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path.format(token=token), "1.1", 200),
        None,
    )
    for item in logging.getLogger("uvicorn.access").filters:
        assert not isinstance(item, logging.Filter) or item.filter(record)
    assert token not in record.getMessage() and shown in record.getMessage()


def test_a_report_before_its_message_id_was_recorded_is_matched_by_the_report_pull(
    client: TestClient, token: str, shipped: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    """SpeedSMS names only its transaction: a report that outruns the worker's record matches nothing yet,
    is kept, and the timetable's report pull matches it once the transaction id is on the row."""
    from broadcaster.reports import pull_reports

    urgent_sms(shipped, web_settings, tmp_path, ["0912000001"])
    with shipped() as session:
        occurrence = session.scalars(select(Occurrence.id)).one()
        installation = installation_id(session)
    expand(shipped, web_settings, occurrence)
    early = {"type": "report", "tranId": 5150, "phone": "84912000001", "status": 7}
    assert client.post(f"/hooks/sms/{token}/speedsms", content=json.dumps(early)).json() == {
        "received": 1,
        "recorded": 0,
    }
    with transaction(shipped) as session:  # the worker records the send now
        session.execute(
            update(Delivery).values(state=DeliveryState.ACCEPTED, done_at=Delivery.due_at, provider_id="5150")
        )

    found = pull_reports(shipped, web_settings, installation, web_settings.clock.now())

    assert found.applied == 1
    with shipped() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.reason) == (
            DeliveryState.UNDELIVERED,
            "SpeedSMS reports status 7 (not delivered)",
        )
        assert session.scalars(select(UnmatchedReport)).all() == []
