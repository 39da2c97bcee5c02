"""The Zalo adapter against a loopback Zalo that answers as the ZNS, OAuth and eSMS documentation says."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from broadcaster.clock import FixedClock
from channels.base import (
    Credential,
    KeepsCredentials,
    MemoryCredentials,
    Outcome,
    PermanentError,
    RecipientKind,
    ReportStatus,
)
from channels.zalo import (
    CANNOT_RECEIVE,
    DIALECT_NEEDS,
    DIALECTS,
    ZaloCampaignOptions,
    ZaloChannel,
    ZaloOptions,
    webhook_signature_problem,
)
from tests.helpers import bulletin
from tests.zalo_server import ESMS_PATH, OAUTH_PATH, TEMPLATE_PATH, ZaloServer

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
KEY = "a1b2c3d4.o17:+84912345678"
TEXT = "Giả danh lãnh đạo Sở gọi điện mời làm việc là LỪA ĐẢO"
OPTIONS = ZaloCampaignOptions(template_id="2056446", params={"ten": "Sở TT&TT Tây Ninh"}, text_param="noi_dung")


def zns(key: str = KEY, phone: str = "+84912345678", options: ZaloCampaignOptions = OPTIONS) -> Any:
    return bulletin(key, RecipientKind.SUBSCRIBER, phone, text=TEXT, options=options)


@pytest.fixture
def zalo() -> Iterator[ZaloServer]:
    with ZaloServer(phones={"84911111118": -118, "84911111119": -119}) as server:
        yield server


def direct(server: ZaloServer, tmp_path: Path, clock: FixedClock | None = None, **options: Any) -> ZaloChannel:
    access, refresh = options.pop("grant", None) or server.grant()
    settings = ZaloOptions(
        dialect="direct",
        url=server.url(TEMPLATE_PATH),
        oauth_url=server.url(OAUTH_PATH),
        app_id=server.app_id,
        app_secret=server.app_secret,
        access_token=access,
        refresh_token=refresh,
        **options,
    )
    return ZaloChannel(settings, output_dir=tmp_path, clock=clock or FixedClock(NOW))


class TestDirect:
    def test_sends_the_documented_template_request_and_is_accepted(self, zalo: ZaloServer, tmp_path: Path) -> None:
        with direct(zalo, tmp_path) as channel:
            [result] = channel.send([zns()])
        assert result.outcome is Outcome.ACCEPTED and result.provider_id
        [sent] = zalo.ledger.sent
        assert sent == {
            "phone": "84912345678",
            "template_id": "2056446",
            "template_data": {"ten": "Sở TT&TT Tây Ninh", "noi_dung": TEXT},
            "tracking_id": "a1b2c3d4-17-84912345678",  # the delivery key, installation id included
        }

    @pytest.mark.parametrize(("phone", "code"), [("+84911111118", -118), ("+84911111119", -119)])
    def test_a_number_without_zalo_is_an_invalid_recipient_that_says_so(
        self, zalo: ZaloServer, tmp_path: Path, phone: str, code: int
    ) -> None:
        with direct(zalo, tmp_path) as channel:
            [result] = channel.send([zns(phone=phone)])
        assert result.outcome is Outcome.INVALID_RECIPIENT
        assert result.reason.startswith(CANNOT_RECEIVE) and f"Zalo {code}" in result.reason

    def test_a_phone_zalo_cannot_read_is_an_invalid_recipient(self, zalo: ZaloServer, tmp_path: Path) -> None:
        with direct(zalo, tmp_path) as channel:
            [result] = channel.send([zns(phone="+1415555")])
        assert result.outcome is Outcome.INVALID_RECIPIENT and "Zalo -108" in result.reason
        assert not result.reason.startswith(CANNOT_RECEIVE)

    def test_template_data_over_its_length_is_rejected(self, zalo: ZaloServer, tmp_path: Path) -> None:
        options = OPTIONS.model_copy(update={"params": {"ten": "x" * 31}})
        with direct(zalo, tmp_path) as channel:
            [result] = channel.send([zns(options=options)])
        assert result.outcome is Outcome.REJECTED and "Zalo -112" in result.reason

    def test_an_unknown_template_stops_the_channel_with_a_sentence(self, zalo: ZaloServer, tmp_path: Path) -> None:
        options = OPTIONS.model_copy(update={"template_id": "999"})
        with direct(zalo, tmp_path) as channel, pytest.raises(PermanentError, match="template id") as raised:
            channel.send([zns(options=options)])
        assert "-109" in raised.value.reason

    def test_the_daily_quota_fails_retryably_until_vietnams_midnight(self, tmp_path: Path) -> None:
        with ZaloServer(daily_quota=1) as zalo, direct(zalo, tmp_path) as channel:
            first, second = channel.send([zns()]), channel.send([zns("a1b2c3d4.o17:+84987654321", "+84987654321")])
        assert first[0].outcome is Outcome.ACCEPTED
        [result] = second
        assert result.outcome is Outcome.FAILED and result.retryable
        assert "quota" in result.reason and "resumes tomorrow" in result.reason
        assert result.retry_after == pytest.approx(15 * 3600)  # 09:00 in Vietnam → midnight

    def test_after_the_daily_quota_nothing_is_asked_until_vietnams_midnight(self, tmp_path: Path) -> None:
        clock = FixedClock(NOW)
        with ZaloServer(daily_quota=0) as zalo, direct(zalo, tmp_path, clock) as channel:
            for index in range(3):
                [result] = channel.send([zns(f"a1b2c3d4.o{index}:+84912345678")])
                assert result.outcome is Outcome.FAILED and "resumes tomorrow" in result.reason
            assert zalo.ledger.tried["84912345678"] == 1  # only the first asked
            clock.advance(timedelta(hours=15))  # midnight in Vietnam: the quota starts again
            zalo.daily_quota = 1
            [result] = channel.send([zns("a1b2c3d4.o9:+84912345678")])
        assert result.outcome is Outcome.ACCEPTED

    def test_an_expired_access_token_is_renewed_once_and_the_message_sent(
        self, zalo: ZaloServer, tmp_path: Path
    ) -> None:
        with direct(zalo, tmp_path) as channel:
            zalo.expire_access_tokens()
            [result] = channel.send([zns()])
            [again] = channel.send([zns("a1b2c3d4.o17:+84987654321", "+84987654321")])
        assert result.outcome is Outcome.ACCEPTED and again.outcome is Outcome.ACCEPTED
        assert zalo.ledger.refreshes == 1 and zalo.ledger.tried["84912345678"] == 2

    def test_the_token_is_renewed_before_it_expires(self, zalo: ZaloServer, tmp_path: Path) -> None:
        clock = FixedClock(NOW)
        with direct(zalo, tmp_path, clock) as channel:
            zalo.expire_access_tokens()
            channel.send([zns()])  # renewed on -124: it now lasts 25 hours
            clock.advance(timedelta(hours=24, minutes=56))  # within 5 minutes of its end
            [result] = channel.send([zns("a1b2c3d4.o17:+84987654321", "+84987654321")])
        assert result.outcome is Outcome.ACCEPTED
        assert zalo.ledger.refreshes == 2 and zalo.ledger.tried["84987654321"] == 1  # renewed before sending

    def test_a_refused_refresh_token_stops_the_channel_without_showing_it(
        self, zalo: ZaloServer, tmp_path: Path
    ) -> None:
        access, _ = zalo.grant()
        with direct(zalo, tmp_path, grant=(access, "rt-never-issued")) as channel:
            zalo.expire_access_tokens()
            with pytest.raises(PermanentError, match="refused to renew") as raised:
                channel.send([zns()])
        assert "rt-never-issued" not in str(raised.value) and "grant the app access" in raised.value.reason

    def test_without_a_template_the_message_is_refused_with_a_sentence(self, zalo: ZaloServer, tmp_path: Path) -> None:
        with direct(zalo, tmp_path) as channel:
            [result] = channel.send([zns(options=ZaloCampaignOptions())])
        assert result.outcome is Outcome.REJECTED and "template" in result.reason
        assert ZaloChannel.check_content({"txt": TEXT}, ZaloCampaignOptions()) != []
        assert not zalo.ledger.tried

    def test_workers_sharing_a_store_renew_once(self, zalo: ZaloServer, tmp_path: Path) -> None:
        store = MemoryCredentials()
        access, refresh = zalo.grant()
        channels = [direct(zalo, tmp_path, grant=(access, refresh)) for _ in range(4)]
        for channel in channels:
            assert isinstance(channel, KeepsCredentials)
            channel.credentials = store
        zalo.expire_access_tokens()
        zalo.delay = 0.2  # the token endpoint is slow: every worker meets the -124 while one renews
        results: list[Any] = []
        threads = [
            threading.Thread(target=lambda c=c, i=i: results.extend(c.send([zns(f"a1b2c3d4.o{i}:+84912345678")])))
            for i, c in enumerate(channels)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 4
        assert zalo.ledger.refreshes == 1 and zalo.ledger.refused_refreshes == 0
        kept = store.current(channels[0].dialect.credential_name)  # type: ignore[attr-defined]
        assert kept is not None and kept.refresh_token in zalo.refresh_tokens


class TestEsms:
    def esms(self, server: ZaloServer, tmp_path: Path, **options: Any) -> ZaloChannel:
        api_key, secret_key = server.esms_keys
        given = {"api_key": api_key, "secret_key": secret_key, "oa_id": server.esms_oa, **options}
        settings = ZaloOptions(dialect="esms", url=server.url(ESMS_PATH), **given)
        return ZaloChannel(settings, output_dir=tmp_path, clock=FixedClock(NOW))

    def test_sends_the_documented_json_with_params_in_the_templates_order(
        self, zalo: ZaloServer, tmp_path: Path
    ) -> None:
        channel = self.esms(zalo, tmp_path)
        channel.report_url = "https://canhbao.example/hooks/zalo/t0k3n"
        with channel:
            [result] = channel.send([zns()])
        assert result.outcome is Outcome.ACCEPTED and result.provider_id
        [sent] = zalo.ledger.esms
        assert sent == {
            "ApiKey": "esms-api-key",
            "SecretKey": "esms-secret-key",
            "Phone": "0912345678",
            "Params": ["Sở TT&TT Tây Ninh", TEXT],
            "TempID": "2056446",
            "OAID": zalo.esms_oa,
            "Sandbox": "0",
            "RequestId": "a1b2c3d4-17-84912345678",
            "CallbackUrl": "https://canhbao.example/hooks/zalo/t0k3n/esms",
        }
        assert channel.reports_delivery

    def test_a_repeated_request_id_is_a_duplicate_for_the_core_to_judge(self, zalo: ZaloServer, tmp_path: Path) -> None:
        with self.esms(zalo, tmp_path) as channel:
            channel.send([zns()])
            [result] = channel.send([zns()])
        assert result.outcome is Outcome.REJECTED and result.duplicate

    def test_wrong_keys_stop_the_channel_without_showing_them(self, zalo: ZaloServer, tmp_path: Path) -> None:
        channel = self.esms(zalo, tmp_path, secret_key="wrong-secret")
        with channel, pytest.raises(PermanentError, match="BROADCASTER_ZALO_SECRET_KEY") as raised:
            channel.send([zns()])
        assert "wrong-secret" not in str(raised.value)

    def test_a_template_not_set_up_for_the_oa_stops_the_channel(self, zalo: ZaloServer, tmp_path: Path) -> None:
        options = OPTIONS.model_copy(update={"template_id": "42"})
        with self.esms(zalo, tmp_path) as channel, pytest.raises(PermanentError, match="template"):
            channel.send([zns(options=options)])

    def test_a_zalo_callback_from_esms_reads_as_a_report(self) -> None:
        # eSMS's documented Zalo callback: SendStatus 5 with SendFailed 1, Zalo's own answer in error_info.
        query = {
            "SMSID": "f66545d2-c7e2-4603-984e-d2238c363c8292",
            "SendFailed": "1",
            "SendStatus": "5",
            "SendSuccess": "0",
            "TotalPrice": "0.0000",
            "TotalReceiver": "1",
            "TotalSent": "0",
            "RequestId": "a1b2c3d4-17-84912345678",
            "TypeId": "25",
            "telcoid": "2",
            "phonenumber": "0912345678",
            "partnerids": "",
            "error_info": json.dumps({"error": -114, "message": "User is inactive"}),
            "oaid": "1397492183140006179",
            "tempid": "2056446",
        }
        [report] = ZaloChannel.parse_callback("esms", query, b"")
        assert report.status is ReportStatus.UNDELIVERED and report.key == KEY
        assert report.address == "+84912345678" and report.reason.startswith(CANNOT_RECEIVE)
        assert "-114" in report.reason


class TestFile:
    def test_the_embedded_default_writes_one_line_a_message(self, tmp_path: Path) -> None:
        channel = ZaloChannel(ZaloOptions(), output_dir=tmp_path, clock=FixedClock(NOW))
        with channel:
            results = channel.send([zns(), zns("a1b2c3d4.o17:+84987654321", "+84987654321")])
        assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
        lines = (tmp_path / "zalo" / "2026-12-07.jsonl").read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[0]) == {
            "key": KEY,
            "to": "+84912345678",
            "template_id": "2056446",
            "template_data": {"ten": "Sở TT&TT Tây Ninh", "noi_dung": TEXT},
        }


class TestSettings:
    def test_each_dialect_has_a_class_and_its_needs(self) -> None:
        assert set(DIALECTS) == set(DIALECT_NEEDS)

    @pytest.mark.parametrize(("dialect", "missing"), [("direct", "APP_ID"), ("esms", "API_KEY")])
    def test_a_dialect_without_what_it_needs_is_one_sentence(self, dialect: str, missing: str) -> None:
        with pytest.raises(ValidationError, match=f"BROADCASTER_ZALO_{missing} is not set"):
            ZaloOptions(dialect=dialect)

    def test_an_unknown_dialect_names_the_known_ones(self) -> None:
        with pytest.raises(ValidationError, match="direct, esms"):
            ZaloOptions(dialect="zns")

    def test_a_credential_never_shows_its_tokens(self) -> None:
        credential = Credential("at-secret", "rt-secret", NOW)
        assert "secret" not in repr(credential) and "secret" not in str(credential)


class TestWebhook:
    APP, SECRET = "4318827446119270000", "oa-secret"

    def event(self, name: str = "user_received_message", **message: str) -> bytes:
        body = {"app_id": self.APP, "event_name": name, "timestamp": "1733536800000", "message": message}
        return json.dumps(body).encode()

    def mac(self, body: bytes, secret: str = SECRET) -> str:
        return hashlib.sha256(self.APP.encode() + body + b"1733536800000" + secret.encode()).hexdigest()

    def test_a_received_message_is_delivered_and_finds_its_delivery_by_tracking_id(self) -> None:
        body = self.event(msg_id="5c4ee6a", tracking_id="a1b2c3d4-17-84912345678")
        [report] = ZaloChannel.parse_callback("direct", {}, body)
        assert (report.status, report.key, report.provider_id) == (ReportStatus.DELIVERED, KEY, "5c4ee6a")

    def test_other_events_are_no_reports_and_garbage_is_a_sentence(self) -> None:
        assert ZaloChannel.parse_callback("direct", {}, self.event("follow")) == []
        with pytest.raises(ValueError, match="JSON object"):
            ZaloChannel.parse_callback("direct", {}, b"<xml/>")
        with pytest.raises(ValueError, match=r"msg_id or message\.tracking_id"):
            ZaloChannel.parse_callback("direct", {}, self.event())

    def test_the_signature_is_checked_as_zalo_makes_it(self) -> None:
        body = self.event(msg_id="5c4ee6a")
        assert (
            webhook_signature_problem({"x-zevent-signature": f"mac={self.mac(body)}"}, body, self.APP, self.SECRET)
            is None
        )
        assert webhook_signature_problem({"x-zevent-signature": self.mac(body)}, body, self.APP, self.SECRET) is None
        wrong = webhook_signature_problem({"x-zevent-signature": self.mac(body, "x")}, body, self.APP, self.SECRET)
        assert wrong is not None and "signature is wrong" in wrong
        assert "another app" in str(webhook_signature_problem({"x-zevent-signature": "mac=0"}, body, "1", self.SECRET))
        assert "X-ZEvent-Signature" in str(webhook_signature_problem({}, body, self.APP, self.SECRET))

    def test_without_the_oa_secret_key_no_call_is_taken(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("BROADCASTER_ZALO_OA_SECRET_KEY", raising=False)
        problem = ZaloChannel.check_signature("direct", {}, self.event(msg_id="1"))
        assert problem is not None and "BROADCASTER_ZALO_OA_SECRET_KEY" in problem
        assert ZaloChannel.check_signature("esms", {}, b"") is None  # eSMS signs nothing
