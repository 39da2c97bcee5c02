"""Zalo delivery reports through the web app's hook, the way SMS reports come (DOMAIN §11): Zalo's signed
webhook and eSMS's callback settle Zalo deliveries; a repeat changes nothing; a call not signed with the
OA's secret key is refused with a sentence and changes nothing; SMS deliveries are never touched."""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState, UnmatchedReport
from broadcaster.reports import pull_reports
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from channels.sms_dialects.base import request_id
from tests.conftest import CONTENT, Cli, serving
from tests.scenario import SMS, campaign, subscriber_list

APP_ID, OA_SECRET = "4318827446119270000", "oa-secret-not-for-logs"
NUMBERS = ["+84912345601", "+84912345602", "+84912345603", "+84912345604"]


@pytest.fixture
def report_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, output_dir=tmp_path / "out", content_dir=CONTENT, data_dir=tmp_path)


@pytest.fixture
def served(report_settings: Settings, shipped: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("BROADCASTER_ZALO_APP_ID", APP_ID)
    monkeypatch.setenv("BROADCASTER_ZALO_OA_SECRET_KEY", OA_SECRET)
    app: FastAPI = create_app(report_settings, shipped)
    with serving(app) as address:
        yield address


def deliveries(sessions: sessionmaker[Session], settings: Settings, folder: Path) -> dict[str, str]:
    """Accepted Zalo deliveries to NUMBERS and an accepted SMS to the first: address → delivery key."""
    subscriber_list(sessions, folder, "bao-zalo", ["0" + number[3:] for number in NUMBERS])
    now = settings.clock.now()
    later = [{"at": (now + timedelta(days=5)).astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")}]
    channels = {"sms": {"to": ["list:bao-zalo"], **SMS, "schedule": later}}
    campaign_id = campaign(sessions, settings, channels, slug="bao-zalo", sendable_since=now - timedelta(days=1))
    with transaction(sessions) as session:
        installation = installation_id(session)
        keys = {}
        for channel in ("zalo", "sms"):
            occurrence = Occurrence(
                campaign_id=campaign_id, channel=channel, rule_key="0", fire_at=now, state=OccurrenceState.EXPANDED
            )
            session.add(occurrence)
            session.flush()
            for index, number in enumerate(NUMBERS if channel == "zalo" else NUMBERS[:1]):
                session.add(
                    Delivery(
                        occurrence_id=occurrence.id,
                        channel=channel,
                        rank=1,
                        address=number,
                        state=DeliveryState.ACCEPTED,
                        provider_id=f"{channel}-msg-{index}",
                        due_at=now - timedelta(minutes=1),
                        done_at=now - timedelta(minutes=1),
                    )
                )
                if channel == "zalo":
                    keys[number] = f"{installation}.o{occurrence.id}:{number}"
    return keys


def received(key: str, msg_id: str, timestamp: str = "1733536800000") -> bytes:
    """Zalo's user_received_message event for one ZNS message, as its webhook sends it."""
    event = {
        "app_id": APP_ID,
        "oa_id": "1397492183140006179",
        "user_id_by_app": "552177279717587730",
        "event_name": "user_received_message",
        "message": {"msg_id": msg_id, "tracking_id": request_id(key), "delivery_time": timestamp},
        "timestamp": timestamp,
    }
    return json.dumps(event).encode()


def signed(body: bytes, secret: str = OA_SECRET) -> str:
    timestamp = json.loads(body)["timestamp"]
    return "mac=" + hashlib.sha256(APP_ID.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def state(sessions: sessionmaker[Session], channel: str, address: str) -> tuple[str, str | None, str | None]:
    with sessions() as session:
        row = session.execute(
            select(Delivery.state, Delivery.report, Delivery.reason).where(
                Delivery.channel == channel, Delivery.address == address
            )
        ).one()
    return str(row[0]), row[1], row[2]


def test_zalo_reports_settle_zalo_deliveries_once_and_only_when_signed(
    shipped: sessionmaker[Session], report_settings: Settings, served: str, tmp_path: Path
) -> None:
    keys = deliveries(shipped, report_settings, tmp_path)
    with shipped() as session:
        token = callback_token(report_settings, installation_id(session))
    hook = f"{served}/hooks/zalo/{token}"

    body = received(keys[NUMBERS[0]], "zalo-msg-0")
    assert call(f"{hook}/direct", body, {"X-ZEvent-Signature": signed(body)}) == (200, {"received": 1, "recorded": 1})
    assert state(shipped, "zalo", NUMBERS[0])[:2] == ("delivered", "delivered")
    assert state(shipped, "sms", NUMBERS[0])[0] == "accepted"  # the same number's SMS is another delivery
    # Zalo calls again (it does, for 12 hours, when an answer is late): nothing changes.
    assert call(f"{hook}/direct", body, {"X-ZEvent-Signature": signed(body)}) == (200, {"received": 1, "recorded": 0})

    forged = received(keys[NUMBERS[1]], "zalo-msg-1")
    status, problem = call(f"{hook}/direct", forged, {"X-ZEvent-Signature": signed(forged, "guessed-secret")})
    assert status == 403 and "signature is wrong" in problem["detail"]
    status, problem = call(f"{hook}/direct", forged)
    assert status == 403 and "X-ZEvent-Signature" in problem["detail"]
    assert state(shipped, "zalo", NUMBERS[1])[0] == "accepted"

    # Other events (a user follows the OA…) are answered 200 and change nothing.
    follow = json.dumps({"app_id": APP_ID, "event_name": "follow", "timestamp": "1733536800001"}).encode()
    assert call(f"{hook}/direct", follow, {"X-ZEvent-Signature": signed(follow)}) == (
        200,
        {"received": 0, "recorded": 0},
    )

    # eSMS's callback for a ZNS message Zalo could not deliver: the number has no Zalo account.
    query = {
        "SMSID": "esms-zns-1",
        "SendFailed": "1",
        "SendStatus": "5",
        "SendSuccess": "0",
        "RequestId": request_id(keys[NUMBERS[2]]),
        "TypeId": "25",
        "phonenumber": "0" + NUMBERS[2][3:],
        "error_info": json.dumps({"error": -118, "message": "Zalo account not existed"}),
    }
    assert call(f"{hook}/esms?{urlencode(query)}") == (200, {"received": 1, "recorded": 1})
    settled, report, reason = state(shipped, "zalo", NUMBERS[2])
    assert (settled, report) == ("undelivered", "undelivered")
    assert reason is not None and reason.startswith("cannot receive Zalo messages")


def test_a_zalo_report_nothing_matches_is_kept_under_its_channel(
    shipped: sessionmaker[Session], report_settings: Settings, served: str
) -> None:
    with shipped() as session:
        installation = installation_id(session)
        token = callback_token(report_settings, installation)
    body = received(f"{installation}.o999:+84912345699", "zalo-msg-stray")
    answer = call(f"{served}/hooks/zalo/{token}/direct", body, {"X-ZEvent-Signature": signed(body)})
    assert answer == (200, {"received": 1, "recorded": 0})
    with shipped() as session:
        assert list(session.scalars(select(UnmatchedReport.dialect))) == ["zalo.direct"]


def test_an_operator_gets_the_zalo_webhook_address(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    run = cli("channels", "report-url", "direct", "--channel", "zalo")
    assert run.exit_code == 0, run.output
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/hooks/zalo/[0-9a-f]{32}/direct", run.stdout.strip())
    wrong = cli("channels", "report-url", "file", "--channel", "zalo")
    assert wrong.exit_code == 1 and "(direct, esms)" in wrong.stderr


def test_a_zalo_report_that_came_early_is_taken_up_by_the_report_pull(
    shipped: sessionmaker[Session], report_settings: Settings, served: str, tmp_path: Path
) -> None:
    keys = deliveries(shipped, report_settings, tmp_path)
    with shipped() as session:
        installation = installation_id(session)
        token = callback_token(report_settings, installation)
    # Zalo's webhook names only its msg_id, which the send outcome has not recorded yet on the delivery.
    event = json.loads(received(keys[NUMBERS[3]], "zalo-msg-late"))
    event["message"]["tracking_id"] = ""
    body = json.dumps(event).encode()
    answer = call(f"{served}/hooks/zalo/{token}/direct", body, {"X-ZEvent-Signature": signed(body)})
    assert answer == (200, {"received": 1, "recorded": 0})
    with transaction(shipped) as session:
        for channel in ("zalo", "sms"):  # the SMS to the first number has the same id: it must stay as it is
            address = NUMBERS[3] if channel == "zalo" else NUMBERS[0]
            row = session.execute(
                select(Delivery).where(Delivery.channel == channel, Delivery.address == address)
            ).scalar_one()
            row.provider_id = "zalo-msg-late"
    assert pull_reports(shipped, report_settings, installation, report_settings.clock.now()).applied == 1
    assert state(shipped, "zalo", NUMBERS[3])[:2] == ("delivered", "delivered")
    assert state(shipped, "sms", NUMBERS[0])[0] == "accepted"
    with shipped() as session:
        assert list(session.scalars(select(UnmatchedReport.dialect))) == []


def test_a_zalo_message_without_a_report_in_time_ends_unknown(
    shipped: sessionmaker[Session], report_settings: Settings, tmp_path: Path
) -> None:
    deliveries(shipped, report_settings, tmp_path)
    now = report_settings.clock.now()
    with transaction(shipped) as session:
        installation = installation_id(session)
        old = now - timedelta(hours=report_settings.report_pull_valid_hours + 1)
        for row in session.scalars(select(Delivery).where(Delivery.address == NUMBERS[0])):
            row.done_at = old  # the Zalo message and the SMS alike
    pull_reports(shipped, report_settings, installation, now)
    settled, _, reason = state(shipped, "zalo", NUMBERS[0])
    assert settled == "unknown" and reason is not None and "no delivery report within" in reason
    assert state(shipped, "zalo", NUMBERS[1])[0] == "accepted"  # accepted a minute ago: still waiting
