"""Zalo to 1,000 subscribers with the SMS as fallback, through worker processes killed with kill -9 in the
middle of the fan-out, against the loopback Zalo (direct and through eSMS) and SMS gateways.

30 % of the numbers cannot get Zalo messages; of the others, most reports come during the fan-out, some only
after it, some never. Every subscriber is reached on one channel; the SMS goes once to each number Zalo could
not reach and to nobody else; the numbers whose Zalo message was never reported get the SMS once the wait is
over (the campaign sends the fallback when Zalo's outcome is unknown); the results count all of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.accounts import ROLES, Actor
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Delivery, DeliveryState, Occurrence
from broadcaster.operations.results import campaign_results
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.web.app import create_app
from channels.sms_dialects.base import request_id
from tests.conftest import serving
from tests.gateway import Gateway
from tests.helpers import wait_for
from tests.moment import SHIFT, broadcaster_command, subprocess_environment
from tests.scenario import SMS, campaign, local, phones, subscriber_list
from tests.zalo_server import ZaloServer

RECIPIENTS = 1000
APP_ID, OA_SECRET = "4318827446119270000", "oa-secret-not-for-logs"
TEMPLATES = "Mã mẫu,Tên mẫu,Tham số,Nội dung,OA\n2056446,Cảnh báo,ten:30; noi_dung:400,<ten>: <noi_dung>,139749\n"
ZALO = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
WAIT_MINUTES = 60


def national(number: str) -> str:
    return "0" + number[3:]


class World:
    """The subscribers, who among them Zalo cannot reach, and whose reports come when."""

    def __init__(self) -> None:
        self.numbers = ["+84" + number[1:] for number in phones(RECIPIENTS)]
        self.without_zalo = set(self.numbers[::10] + self.numbers[1::10] + self.numbers[2::10])  # 30 %
        on_zalo = [number for number in self.numbers if number not in self.without_zalo]
        self.reported_late = set(on_zalo[::7])  # reported only after the fan-out
        self.never_reported = set(on_zalo[1::7])
        self.reported_during = set(on_zalo) - self.reported_late - self.never_reported


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with Gateway() as server:  # honours the idempotency key: an SMS sent twice would show as delivered twice
        yield server


def start(
    settings: Settings,
    zalo: ZaloServer,
    gateway: Gateway,
    dialect: str,
    tmp_path: Path,
    grant: tuple[str, str],
    ahead: timedelta = timedelta(0),
) -> subprocess.Popen[bytes]:
    """A worker process for Zalo and SMS; `ahead`: its clock that much later than the suite's."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env.update(
        {
            "BROADCASTER_DATABASE_URL": settings.database_url,
            "BROADCASTER_OUTPUT_DIR": str(tmp_path / "out"),
            "BROADCASTER_LEASE_SECONDS": "2",
            "BROADCASTER_POLL_SECONDS": "0.1",
            "BROADCASTER_FALLBACK_SECONDS": "0.5",
            "BROADCASTER_RATES": '{"sms": 100000, "zalo": 100000}',
            "BROADCASTER_SMS_DIALECT": "generic-json",
            "BROADCASTER_SMS_URL": gateway.url,
            "BROADCASTER_ZALO_DIALECT": dialect,
        }
    )
    if dialect == "direct":
        env.update(
            {
                "BROADCASTER_ZALO_URL": zalo.url("/message/template"),
                "BROADCASTER_ZALO_OAUTH_URL": zalo.url("/v4/oa/access_token"),
                "BROADCASTER_ZALO_APP_ID": APP_ID,
                "BROADCASTER_ZALO_APP_SECRET": zalo.app_secret,
                "BROADCASTER_ZALO_ACCESS_TOKEN": grant[0],
                "BROADCASTER_ZALO_REFRESH_TOKEN": grant[1],
            }
        )
    else:
        env.update(
            {
                "BROADCASTER_ZALO_URL": zalo.url("/MainService.svc/json/SendZaloMessage_V4_post_json/"),
                "BROADCASTER_ZALO_API_KEY": zalo.esms_keys[0],
                "BROADCASTER_ZALO_SECRET_KEY": zalo.esms_keys[1],
                "BROADCASTER_ZALO_OA_ID": zalo.esms_oa,
            }
        )
    environment = subprocess_environment(env)
    environment[SHIFT] = str(float(environment.get(SHIFT, "0")) + ahead.total_seconds())
    log = (tmp_path / f"worker-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(
        broadcaster_command("worker", "--channel", "zalo", "--channel", "sms"),
        env=environment,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


class Reports:
    """Zalo's reports for the numbers `world` says, posted to the web app's hook as Zalo or eSMS sends them."""

    def __init__(self, hook: str, dialect: str, sessions: sessionmaker[Session]) -> None:
        self.hook, self.dialect, self.sessions = hook, dialect, sessions
        self.sent: set[str] = set()

    def keys(self) -> dict[str, str]:
        with self.sessions() as session:
            installation = installation_id(session)
            found = session.execute(
                select(Delivery.address, Delivery.occurrence_id, Delivery.provider_id).where(
                    Delivery.channel == "zalo", Delivery.state == DeliveryState.ACCEPTED
                )
            ).all()
        return {address: f"{installation}.o{occurrence}:{address}" for address, occurrence, _ in found}

    def post(self, numbers: set[str], *, received: bool) -> int:
        """Report the accepted messages to these numbers not reported yet; returns how many were posted."""
        posted = 0
        for address, key in self.keys().items():
            if address in numbers and address not in self.sent:
                self._one(address, key, received=received)
                self.sent.add(address)
                posted += 1
        return posted

    def _one(self, address: str, key: str, *, received: bool) -> None:
        if self.dialect == "direct":
            event = {
                "app_id": APP_ID,
                "event_name": "user_received_message",
                "message": {"msg_id": f"m{address}", "tracking_id": request_id(key), "delivery_time": "1"},
                "timestamp": "1733536800000",
            }
            body = json.dumps(event).encode()
            mac = hashlib.sha256(APP_ID.encode() + body + b"1733536800000" + OA_SECRET.encode()).hexdigest()
            request = urllib.request.Request(
                f"{self.hook}/direct", data=body, headers={"X-ZEvent-Signature": f"mac={mac}"}
            )
        else:
            query = {
                "RequestId": request_id(key),
                "TypeId": "25",
                "phonenumber": national(address),
                "SendStatus": "5",
                "SendSuccess": "1" if received else "0",
                "SendFailed": "0" if received else "1",
            }
            if not received:
                query["error_info"] = json.dumps({"error": -118, "message": "Zalo account not existed"})
            request = urllib.request.Request(f"{self.hook}/esms?{urlencode(query)}")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["recorded"] == 1


def requests(zalo: ZaloServer) -> int:
    """ZNS requests the stand-in took, either way."""
    return sum(zalo.ledger.tried.values()) + len(zalo.ledger.esms)


def left(sessions: sessionmaker[Session], channel: str) -> int:
    """Deliveries of a channel still to send, plus occurrences not expanded yet."""
    with sessions() as session:
        unsent = session.scalar(
            select(func.count()).where(Delivery.channel == channel, Delivery.state.in_(["pending", "sending"]))
        )
        unexpanded = session.scalar(select(func.count()).where(Occurrence.state == "pending"))
        return (unsent or 0) + (unexpanded or 0)


@pytest.mark.parametrize("dialect", ["direct", "esms"])
def test_kill_9_during_a_zalo_fan_out_with_sms_fallback_reaches_everyone_on_one_channel(
    shipped: sessionmaker[Session],
    settings: Settings,
    gateway: Gateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dialect: str,
) -> None:
    world = World()
    # Zalo itself answers that the number cannot get ZNS (direct); through eSMS, its callback says so later.
    refusals = {number[1:]: -118 if index % 2 else -119 for index, number in enumerate(sorted(world.without_zalo))}
    with ZaloServer(phones=refusals if dialect == "direct" else {}, daily_quota=10 * RECIPIENTS) as zalo:
        grant = zalo.grant()
        with transaction(shipped) as session:
            directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))
        subscriber_list(shipped, tmp_path, "dan-cu", [national(number) for number in world.numbers])
        now = settings.clock.now()
        zalo_section = {"to": ["list:dan-cu"], **ZALO, "schedule": [{"at": local(now, settings)}]}
        zalo_section["fallback"] = {"channel": "sms", "wait_minutes": WAIT_MINUTES, "when_unknown": True}
        campaign(
            shipped,
            settings,
            {"zalo": zalo_section, "sms": SMS},
            priority="emergency",
            sendable_since=now - timedelta(hours=1),
        )
        with transaction(shipped) as session:
            catch_up(session, settings, now + timedelta(seconds=1))
            token = callback_token(settings, installation_id(session))

        monkeypatch.setenv("BROADCASTER_ZALO_APP_ID", APP_ID)
        monkeypatch.setenv("BROADCASTER_ZALO_OA_SECRET_KEY", OA_SECRET)
        with serving(create_app(settings, shipped)) as served:
            reports = Reports(f"{served}/hooks/zalo/{token}", dialect, shipped)
            stop_reporting = threading.Event()

            def report_as_zalo_answers() -> None:
                """Reports come while the fan-out goes on, for the messages already accepted."""
                while not stop_reporting.wait(0.05):
                    reports.post(world.reported_during, received=True)
                    if dialect == "esms":
                        reports.post(world.without_zalo, received=False)

            reporter = threading.Thread(target=report_as_zalo_answers, daemon=True)
            reporter.start()
            kills = 0
            try:
                for threshold in (200, 500):
                    worker = start(settings, zalo, gateway, dialect, tmp_path, grant)
                    wait_for(lambda threshold=threshold: requests(zalo) >= threshold, 60, "Zalo sends")
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
                    kills += 1
                last = start(settings, zalo, gateway, dialect, tmp_path, grant)
                wait_for(lambda: left(shipped, "zalo") == 0, 120, "the Zalo fan-out to finish")
                stop_reporting.set()
                reporter.join(timeout=30)
                reports.post(world.reported_during, received=True)
                if dialect == "esms":
                    reports.post(world.without_zalo, received=False)
                wait_for(lambda: len(gateway.ledger.delivered_phones()) >= len(world.without_zalo), 60, "the SMS")
                wait_for(lambda: left(shipped, "sms") == 0, 60, "the SMS to finish")
                reports.post(world.reported_late, received=True)  # after the fan-out, within the wait
                last.send_signal(signal.SIGTERM)
                assert last.wait(timeout=30) == 0
            finally:
                stop_reporting.set()

            sms = gateway.ledger.delivered_phones()
            assert set(sms) == world.without_zalo, "the SMS went to every number Zalo could not reach, and no other"
            assert max(sms.values()) == 1, "and once to each"
            zalo_sent = Counter("+" + str(message["phone"]) for message in zalo.ledger.sent)
            if dialect == "esms":
                zalo_sent = Counter("+84" + str(message["Phone"])[1:] for message in zalo.ledger.esms)
                assert max(zalo_sent.values()) == 1, "eSMS refuses a RequestId twice: no Zalo message went twice"
            else:
                assert not set(zalo_sent) & world.without_zalo
                in_flight = Settings().record_every  # sent but not yet recorded when a worker was killed
                assert sum(zalo_sent.values()) - len(zalo_sent) <= kills * in_flight
            assert set(zalo_sent) >= set(world.numbers) - world.without_zalo

            # The wait is over: the messages never reported have an unknown fate, and get the SMS too.
            later = start(settings, zalo, gateway, dialect, tmp_path, grant, ahead=timedelta(minutes=WAIT_MINUTES + 5))
            expected = world.without_zalo | world.never_reported
            wait_for(lambda: set(gateway.ledger.delivered_phones()) == expected, 60, "the fallback of the unreported")
            wait_for(lambda: left(shipped, "sms") == 0, 60, "the SMS to finish")
            later.send_signal(signal.SIGTERM)
            assert later.wait(timeout=30) == 0

    sms = gateway.ledger.delivered_phones()
    assert set(sms) == expected and max(sms.values()) == 1
    with shipped() as session:
        results = campaign_results(session, Actor("minh", ROLES["approver"]), settings, "thu-nghiem")
        by_channel = {(item.channel, item.after): item for item in results.channels}
        first, after = by_channel[("zalo", None)], by_channel[("sms", "zalo")]
        assert first.deliveries.planned == RECIPIENTS and first.passed_on == len(expected)
        assert first.deliveries.delivered == len(world.reported_during) + len(world.reported_late)
        assert (after.deliveries.planned, after.deliveries.sent) == (len(expected), len(expected))
        handed_on = session.scalar(select(func.count()).where(Delivery.passed_on_at.is_not(None)))
        assert handed_on == len(expected)
