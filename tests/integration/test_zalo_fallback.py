"""Zalo first, the campaign's SMS for whom Zalo could not reach: a number with no Zalo account, one that cannot
receive ZNS, or a message never reported delivered in time (when the campaign says so). Each recipient is
handed on once, and the campaign's SMS channel sends to nobody else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.accounts import ROLES, Actor
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.store import check_campaign
from broadcaster.clock import FixedClock
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.installation import installation_id
from broadcaster.models import Delivery, Occurrence
from broadcaster.operations.reporting import layout
from broadcaster.operations.results import campaign_results
from broadcaster.reports import apply_reports
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from channels.sms_dialects.base import request_id
from channels.zalo import ZaloChannel
from tests.gateway import Gateway
from tests.scenario import SMS, campaign, local, phones, subscriber_list
from tests.zalo_server import ZaloServer

APP_ID = "4318827446119270000"
TEMPLATES = "Mã mẫu,Tên mẫu,Tham số,Nội dung,OA\n2056446,Cảnh báo,ten:30; noi_dung:400,<ten>: <noi_dung>,139749\n"
ZALO = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
LEADER = Actor("minh", ROLES["approver"])


@pytest.fixture
def clock(settings: Settings) -> FixedClock:
    return FixedClock(settings.clock.now())


@pytest.fixture
def timed(settings: Settings, clock: FixedClock) -> Settings:
    """The settings on the test's clock, with a worker looking for recipients to hand on at every look."""
    return settings.model_copy(update={"fallback_seconds": 0}).with_clock(clock)


@pytest.fixture
def zalo(monkeypatch: pytest.MonkeyPatch) -> Iterator[ZaloServer]:
    with ZaloServer(phones={}) as server:
        access, refresh = server.grant()
        for name, value in {
            "DIALECT": "direct",
            "URL": server.url("/message/template"),
            "OAUTH_URL": server.url("/v4/oa/access_token"),
            "APP_ID": APP_ID,
            "APP_SECRET": server.app_secret,
            "ACCESS_TOKEN": access,
            "REFRESH_TOKEN": refresh,
        }.items():
            monkeypatch.setenv(f"BROADCASTER_ZALO_{name}", value)
        yield server


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    with Gateway() as server:
        monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "generic-json")
        monkeypatch.setenv("BROADCASTER_SMS_URL", server.url)
        yield server


def zalo_campaign(
    sessions: sessionmaker[Session], settings: Settings, folder: Path, numbers: list[str], **fallback: Any
) -> int:
    """Zalo to `numbers` now, falling back to the campaign's SMS; its occurrence created by the timetable."""
    with transaction(sessions) as session:
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))
    subscriber_list(sessions, folder, "dan-cu", numbers)
    now = settings.clock.now()
    channels = {
        "zalo": {
            "to": ["list:dan-cu"],
            **ZALO,
            "schedule": [{"at": local(now, settings)}],
            "fallback": {"channel": "sms", **fallback},
        },
        "sms": SMS,
    }
    campaign_id = campaign(sessions, settings, channels, priority="emergency", sendable_since=now - timedelta(hours=1))
    with transaction(sessions) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    return campaign_id


def delivered(sessions: sessionmaker[Session], settings: Settings, zalo: ZaloServer, numbers: list[str]) -> None:
    """Zalo's webhook says these numbers' messages were received."""
    with transaction(sessions) as session:
        installation = installation_id(session)
        keys = {
            address: f"{installation}.o{occurrence_id}:{address}"
            for address, occurrence_id in session.execute(
                select(Delivery.address, Delivery.occurrence_id).where(Delivery.channel == "zalo")
            )
        }
        reports = []
        for number in numbers:
            event = {
                "app_id": APP_ID,
                "event_name": "user_received_message",
                "message": {"msg_id": "m", "tracking_id": request_id(keys[number]), "delivery_time": "1"},
                "timestamp": "1733536800000",
            }
            reports += ZaloChannel.parse_callback("direct", {}, json.dumps(event).encode())
        apply_reports(session, installation, "direct", reports, settings.clock.now(), channel="zalo")


def work(sessions: sessionmaker[Session], settings: Settings) -> None:
    Worker(sessions, settings, ["zalo", "sms"], "test-worker").drain(timeout=30)


def e164(numbers: list[str]) -> list[str]:
    return sorted("+84" + number[1:] for number in numbers)


def sms_to(gateway: Gateway) -> list[str]:
    return sorted(gateway.ledger.delivered_phones().elements())


def zalo_to(zalo: ZaloServer) -> list[str]:
    return sorted("+" + message["phone"] for message in zalo.ledger.sent)


def rows(sessions: sessionmaker[Session], channel: str) -> dict[str, tuple[str, datetime | None]]:
    with sessions() as session:
        found = session.execute(
            select(Delivery.address, Delivery.state, Delivery.passed_on_at).where(Delivery.channel == channel)
        )
        return {address: (state, passed_on_at) for address, state, passed_on_at in found}


def test_numbers_zalo_cannot_reach_get_the_sms_once_and_the_others_only_zalo(
    shipped: sessionmaker[Session],
    timed: Settings,
    clock: FixedClock,
    zalo: ZaloServer,
    gateway: Gateway,
    tmp_path: Path,
) -> None:
    numbers = e164(phones(10))
    zalo.phones = {numbers[0][1:]: -118, numbers[1][1:]: -119}  # no Zalo account; cannot receive ZNS
    zalo_campaign(shipped, timed, tmp_path, phones(10))
    work(shipped, timed)
    on_zalo = numbers[2:]
    assert zalo_to(zalo) == on_zalo
    assert sms_to(gateway) == sorted(numbers[:2]), "the SMS went to the two Zalo could not reach, and to nobody else"
    sms = rows(shipped, "sms")
    assert set(sms) == set(numbers[:2]) and {state for state, _ in sms.values()} == {"accepted"}

    delivered(shipped, timed, zalo, on_zalo[:6])  # two never reported
    clock.advance(timedelta(minutes=59))
    work(shipped, timed)
    assert sms_to(gateway) == sorted(numbers[:2]), "within the hour, no report is not yet an unknown outcome"

    clock.advance(timedelta(minutes=2))
    work(shipped, timed)
    assert sms_to(gateway) == sorted(numbers[:2] + on_zalo[6:]), "then the unreported get the SMS too"
    clock.advance(timedelta(hours=5))
    work(shipped, timed)
    assert sms_to(gateway) == sorted(numbers[:2] + on_zalo[6:]), "each is handed on once"
    zalo_rows = rows(shipped, "zalo")
    assert sorted(address for address, (_, passed) in zalo_rows.items() if passed) == sorted(numbers[:2] + on_zalo[6:])

    with shipped() as session:
        results = campaign_results(session, LEADER, timed, "thu-nghiem")
    by_channel = {(item.channel, item.after): item for item in results.channels}
    first, after = by_channel[("zalo", None)], by_channel[("sms", "zalo")]
    assert (first.deliveries.planned, first.deliveries.delivered, first.passed_on) == (10, 6, 4)
    assert (after.deliveries.planned, after.deliveries.sent, after.fires) == (4, 4, 0)
    assert ("sms", None) not in by_channel, "the SMS channel sent nothing of its own"
    shown = layout(results, "vi")  # the page's and every export's tables and sentences
    [by_channel_table] = [table for table in shown.tables if table.key == "by_channel"]
    assert [row[0] for row in by_channel_table.rows] == ["Tin nhắn Zalo", "Tin nhắn SMS gửi thay Zalo"]
    assert "4 người không nhận được tin Zalo được gửi tin SMS thay." in shown.summaries
    assert "4 people Zalo could not reach were sent the SMS instead." in layout(results, "en").summaries


def test_with_unknown_outcomes_left_alone_only_numbers_zalo_refused_get_the_sms(
    shipped: sessionmaker[Session],
    timed: Settings,
    clock: FixedClock,
    zalo: ZaloServer,
    gateway: Gateway,
    tmp_path: Path,
) -> None:
    numbers = e164(phones(4))
    zalo.phones = {numbers[0][1:]: -118}
    zalo_campaign(shipped, timed, tmp_path, phones(4), wait_minutes=30, when_unknown=False)
    work(shipped, timed)
    clock.advance(timedelta(days=1))
    work(shipped, timed)
    assert sms_to(gateway) == [numbers[0]]
    assert zalo_to(zalo) == numbers[1:]
    with shipped() as session:
        [fallback] = session.scalars(select(Occurrence).where(Occurrence.channel == "sms"))
        assert fallback.rule_key.startswith("fallback:") and fallback.recipients == 1


@pytest.mark.parametrize(
    ("channels", "expected"),
    [
        (
            {"zalo": {"fallback": {"channel": "sms"}}, "sms": {"schedule": "later"}},
            "channels.sms.schedule: sms is zalo's fallback, so it sends only to whom zalo could not reach: leave "
            "its timetable empty (with a timetable of its own, everyone would get both)",
        ),
        (
            {"zalo": {"fallback": {"channel": "sms-khan"}}},
            "channels.zalo.fallback.channel: the campaign has no channel 'sms-khan' to fall back to: add it (its "
            "text is what is sent)",
        ),
        (
            {"zalo": {"fallback": {"channel": "zalo"}}},
            "channels.zalo.fallback.channel: zalo cannot be its own fallback: name another of the campaign's channels",
        ),
        (
            {"zalo": {"to": []}},
            "channels.zalo.to: zalo has no audience: name who receives it",
        ),
        (
            {"zalo": {}, "sms": {}},
            "channels.sms.schedule: sms has no timetable, so it sends nothing: give it one, or make it another "
            "channel's fallback",
        ),
    ],
)
def test_a_fallback_is_checked_with_a_sentence_saying_what_to_change(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, channels: dict[str, Any], expected: str
) -> None:
    with transaction(shipped) as session:
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", TEMPLATES.encode()))
    subscriber_list(shipped, tmp_path, "dan-cu", phones(2))
    later = [{"at": local(settings.clock.now() + timedelta(days=1), settings)}]
    data: dict[str, Any] = {"zalo": {"to": ["list:dan-cu"], **ZALO, "schedule": later}}
    for name, extra in channels.items():
        section = data.setdefault(name, dict(SMS))
        section.update({key: later if value == "later" else value for key, value in extra.items()})
        if name == "sms" and "schedule" in extra:
            section["to"] = ["list:dan-cu"]
    spec = parse_campaign(
        {
            "campaign": "du-phong",
            "issuer": "tay-ninh-stttt",
            "number": "1/STTTT",
            "subject": "thử",
            "valid": {"from": settings.today(), "until": settings.today() + timedelta(days=5)},
            "template": "goi-gia-danh",
            "channels": data,
        },
        "du-phong",
    )
    with shipped() as session:
        assert expected in [str(problem) for problem in check_campaign(session, spec, settings)]


def test_a_fallback_not_sent_yet_is_withdrawn_when_zalo_reports_delivered_after_all(
    shipped: sessionmaker[Session],
    timed: Settings,
    clock: FixedClock,
    zalo: ZaloServer,
    gateway: Gateway,
    tmp_path: Path,
) -> None:
    numbers = e164(phones(3))
    zalo_campaign(shipped, timed, tmp_path, phones(3), wait_minutes=30)
    zalo_only = Worker(shipped, timed, ["zalo"], "zalo-worker")  # the SMS worker is behind (or the window shut)
    zalo_only.drain(timeout=30)
    clock.advance(timedelta(minutes=31))
    Worker(shipped, timed, ["zalo"], "zalo-worker").drain(timeout=30)
    assert {state for state, _ in rows(shipped, "sms").values()} == {"pending"}, "no report: all handed on"

    delivered(shipped, timed, zalo, numbers[:1])  # the report was late, not lost
    Worker(shipped, timed, ["zalo"], "zalo-worker").drain(timeout=30)
    work(shipped, timed)
    assert sms_to(gateway) == numbers[1:]
    with shipped() as session:
        state, reason = session.execute(
            select(Delivery.state, Delivery.reason).where(Delivery.channel == "sms", Delivery.address == numbers[0])
        ).one()
    assert state == "skipped" and reason is not None and "reported delivered" in reason
