"""The SMS adapter against a real HTTP server on loopback answering as each gateway documents (DOMAIN §3)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.base import Outcome, PermanentError, RecipientKind, TransientError
from channels.sms import DIALECTS, SmsChannel
from channels.sms_options import DIALECT_NEEDS, SmsOptions
from tests.helpers import bulletin, free_port

API_KEY, SECRET_KEY = "A1B2-api-key-not-for-logs", "S3CR3T-not-for-logs"
WARNING = "So TT&TT Tay Ninh: gia danh lanh dao So goi dien moi lam viec la LUA DAO. Bao tin: 02763631168"


def sms(key: str, phone: str, text: str = WARNING) -> Any:
    return bulletin(key, RecipientKind.SUBSCRIBER, phone, text=text)


def channel(url: str, tmp_path: Path, **options: Any) -> SmsChannel:
    return SmsChannel(SmsOptions(url=url, **options), output_dir=tmp_path)


def esms(httpserver: HTTPServer, tmp_path: Path, **options: Any) -> SmsChannel:
    return channel(
        httpserver.url_for("/MainService.svc/json/SendMultipleMessage_V4_post_json/"),
        tmp_path,
        dialect="esms",
        api_key=API_KEY,
        secret_key=SECRET_KEY,
        brandname="STTTT_TN",
        **options,
    )


ESMS_PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"


class TestEsms:
    def test_sends_the_documented_json_with_the_delivery_key_as_request_id(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        request_id = hashlib.sha256(b"occ-7:sms:+84912345678").hexdigest()[:40]
        httpserver.expect_oneshot_request(
            ESMS_PATH,
            method="POST",
            json={
                "ApiKey": API_KEY,
                "SecretKey": SECRET_KEY,
                "Phone": "0912345678",
                "Content": WARNING,
                "Brandname": "STTTT_TN",
                "SmsType": "2",
                "IsUnicode": "0",
                "Sandbox": "0",
                "RequestId": request_id,
                "CallbackUrl": "https://broadcaster.example/dlr",
            },
        ).respond_with_json({"CodeResult": "100", "CountRegenerate": 0, "SMSID": "f1c2-77"})

        results = esms(httpserver, tmp_path, callback_url="https://broadcaster.example/dlr").send(
            [sms("occ-7:sms:+84912345678", "+84912345678")]
        )

        assert [(r.outcome, r.provider_id) for r in results] == [(Outcome.ACCEPTED, "f1c2-77")]
        assert len(request_id) <= 50  # eSMS caps RequestId at 50 characters
        httpserver.check_assertions()

    def test_text_with_diacritics_is_flagged_unicode(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_json({"CodeResult": "100", "SMSID": "1"})
        esms(httpserver, tmp_path).send([sms("k", "+84912345678", "Cảnh báo lừa đảo")])
        assert httpserver.log[0][0].get_json()["IsUnicode"] == "1"

    @pytest.mark.parametrize(
        ("code", "outcome"),
        [
            ("108", Outcome.INVALID_RECIPIENT),
            ("99", Outcome.INVALID_RECIPIENT),
            ("124", Outcome.REJECTED),
            ("118", Outcome.REJECTED),
        ],
    )
    def test_per_message_codes(self, httpserver: HTTPServer, tmp_path: Path, code: str, outcome: Outcome) -> None:
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_json(
            {"CodeResult": code, "ErrorMessage": "Mô tả lỗi"}
        )
        result = esms(httpserver, tmp_path).send([sms("k", "+84912345678")])[0]
        assert result.outcome == outcome and not result.retryable
        assert result.duplicate == (code == "124")  # whose duplicate it is, the core decides
        assert result.response is not None and "Mô tả lỗi" in result.response  # the raw answer is kept

    @pytest.mark.parametrize(
        ("code", "says"),
        [
            ("101", "check BROADCASTER_SMS_API_KEY"),
            ("103", "balance"),
            ("104", "brandname"),
            ("140", "whitelist"),
            ("146", "template"),
        ],
    )
    def test_codes_no_retry_can_fix_stop_the_channel_without_leaking_secrets(
        self, httpserver: HTTPServer, tmp_path: Path, code: str, says: str
    ) -> None:
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_json({"CodeResult": code, "ErrorMessage": "x"})
        with pytest.raises(PermanentError, match=says) as caught:
            esms(httpserver, tmp_path).send([sms("k", "+84912345678")])
        assert API_KEY not in str(caught.value) and SECRET_KEY not in str(caught.value)

    def test_server_errors_and_rate_limits_are_transient_with_retry_after(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_data("busy", status=503)
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_data(
            "slow down", status=429, headers={"Retry-After": "30"}
        )
        adapter = esms(httpserver, tmp_path)
        with pytest.raises(TransientError, match="HTTP 503"):
            adapter.send([sms("k", "+84912345678")])
        with pytest.raises(TransientError) as caught:
            adapter.send([sms("k", "+84912345678")])
        assert caught.value.retry_after == 30


class TestSpeedSms:
    URL = "/index.php/sms/send"

    def adapter(self, httpserver: HTTPServer, tmp_path: Path) -> SmsChannel:
        return channel(
            httpserver.url_for(self.URL),
            tmp_path,
            dialect="speedsms",
            api_key=API_KEY,
            brandname="STTTT_TN",
            sms_type="3",
        )

    def test_batches_numbers_with_basic_auth_and_maps_invalid_phones(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        token = base64.b64encode(f"{API_KEY}:x".encode()).decode()
        httpserver.expect_oneshot_request(
            self.URL,
            method="POST",
            headers={"Authorization": f"Basic {token}"},
            json={
                "to": ["84912345678", "84987654321", "84339999999"],
                "content": WARNING,
                "sms_type": 3,
                "sender": "STTTT_TN",
            },
        ).respond_with_json(
            {
                "status": "success",
                "code": "00",
                "data": {"tranId": 123456, "totalSMS": 2, "totalPrice": 500, "invalidPhone": ["84339999999"]},
            }
        )

        results = self.adapter(httpserver, tmp_path).send(
            [sms("a", "+84912345678"), sms("b", "+84987654321"), sms("c", "+84339999999")]
        )

        assert [(r.key, r.outcome) for r in results] == [
            ("a", Outcome.ACCEPTED),
            ("b", Outcome.ACCEPTED),
            ("c", Outcome.INVALID_RECIPIENT),
        ]
        assert results[0].provider_id == "123456"
        httpserver.check_assertions()

    def test_one_request_per_distinct_text(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        httpserver.expect_request(self.URL).respond_with_json(
            {"status": "success", "code": "00", "data": {"tranId": 1, "invalidPhone": []}}
        )
        results = self.adapter(httpserver, tmp_path).send(
            [
                sms("vi", "+84912345678"),
                sms("en", "+84987654321", "Scam warning. Report: 02763631168"),
                sms("vi2", "+84981111111"),
            ]
        )
        assert [r.key for r in results] == ["vi", "en", "vi2"]
        assert sorted(len(entry[0].get_json()["to"]) for entry in httpserver.log) == [1, 2]

    def test_a_low_balance_stops_the_channel(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        httpserver.expect_oneshot_request(self.URL).respond_with_json(
            {"status": "error", "code": "300", "message": "not enough balance"}
        )
        with pytest.raises(PermanentError, match="balance is too low"):
            self.adapter(httpserver, tmp_path).send([sms("a", "+84912345678")])


class TestGenericJson:
    def test_posts_ids_with_the_auth_header_and_reads_each_result(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        httpserver.expect_oneshot_request(
            "/send",
            headers={"X-Api-Key": API_KEY},
            json={
                "messages": [
                    {"id": "k1", "to": "+84912345678", "text": WARNING, "unicode": False},
                    {"id": "k2", "to": "+84987654321", "text": WARNING, "unicode": False},
                    {"id": "k3", "to": "+84981111111", "text": WARNING, "unicode": False},
                ]
            },
        ).respond_with_json(
            {
                "results": [
                    {"id": "k1", "status": "accepted", "message_id": "m1"},
                    {"id": "k2", "status": "invalid", "reason": "no such subscriber"},
                    {"id": "k3", "status": "failed", "reason": "operator timeout"},
                ]
            }
        )
        adapter = channel(
            httpserver.url_for("/send"), tmp_path, dialect="generic-json", api_key=API_KEY, auth_header="X-Api-Key"
        )
        results = adapter.send([sms("k1", "+84912345678"), sms("k2", "+84987654321"), sms("k3", "+84981111111")])
        assert [(r.outcome, r.retryable) for r in results] == [
            (Outcome.ACCEPTED, False),
            (Outcome.INVALID_RECIPIENT, False),
            (Outcome.FAILED, True),
        ]
        httpserver.check_assertions()

    def test_a_gateway_that_does_not_answer_in_time_is_transient(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        given_up = threading.Event()  # answered only once the client has stopped waiting

        def slow(request: Request) -> Response:
            given_up.wait(10)
            return Response(json.dumps({"results": []}), content_type="application/json")

        httpserver.expect_oneshot_request("/send").respond_with_handler(slow)
        adapter = channel(httpserver.url_for("/send"), tmp_path, dialect="generic-json", timeout=0.2)
        with pytest.raises(TransientError, match=r"did not answer within 0\.2 s"):
            adapter.send([sms("k", "+84912345678")])
        given_up.set()

    def test_goes_through_the_proxy_the_environment_names(
        self, httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The proxy is the loopback server: the gateway's own name is never resolved or contacted.
        monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        httpserver.expect_oneshot_request("/send", headers={"Host": "sms-gateway.example"}).respond_with_json(
            {"results": [{"id": "k", "status": "accepted"}]}
        )
        adapter = channel("http://sms-gateway.example/send", tmp_path, dialect="generic-json")
        assert [r.outcome for r in adapter.send([sms("k", "+84912345678")])] == [Outcome.ACCEPTED]
        httpserver.check_assertions()

    def test_a_redirect_stops_the_channel_naming_the_address_to_configure(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        httpserver.expect_oneshot_request("/send").respond_with_response(
            Response(status=301, headers={"Location": "https://sms.example/v2/send"})
        )
        adapter = channel(httpserver.url_for("/send"), tmp_path, dialect="generic-json")
        with pytest.raises(
            PermanentError, match=r"HTTP 301, a redirect to https://sms.example/v2/send; set BROADCASTER_SMS_URL"
        ):
            adapter.send([sms("k", "+84912345678")])

    def test_an_unreachable_gateway_is_transient(self, tmp_path: Path) -> None:
        adapter = channel(f"http://127.0.0.1:{free_port()}/send", tmp_path, dialect="generic-json")
        with pytest.raises(TransientError, match="cannot reach the SMS gateway"):
            adapter.send([sms("k", "+84912345678")])


def test_the_file_dialect_appends_json_lines(tmp_path: Path) -> None:
    adapter = SmsChannel(SmsOptions(), output_dir=tmp_path)
    adapter.send([sms("a", "+84912345678"), sms("b", "+84987654321")])
    adapter.send([sms("c", "+84981111111")])
    lines = [json.loads(line) for path in (tmp_path / "sms").glob("*.jsonl") for line in path.read_text().splitlines()]
    assert [line["key"] for line in lines] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"dialect": "twilio"}, "BROADCASTER_SMS_DIALECT 'twilio' is not a known gateway dialect"),
        ({"dialect": "esms", "api_key": "x", "secret_key": "y"}, "BROADCASTER_SMS_BRANDNAME is not set"),
        ({"dialect": "generic-json"}, "BROADCASTER_SMS_URL is not set"),
    ],
)
def test_a_wrong_setting_is_one_sentence_naming_the_variable(
    env: dict[str, str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broadcaster.errors import ConfigurationError
    from broadcaster.settings import channel_settings

    for name, value in env.items():
        monkeypatch.setenv(f"BROADCASTER_SMS_{name.upper()}", value)
    with pytest.raises(ConfigurationError, match=says):
        channel_settings(SmsOptions)


def test_every_dialect_the_settings_name_has_a_class_that_speaks_it() -> None:
    assert sorted(DIALECTS) == sorted(DIALECT_NEEDS)
    assert all(dialect.name == name for name, dialect in DIALECTS.items())
