"""What SMS gateways send back: delivery reports as each dialect's gateway writes them (DOMAIN §11), the
eSMS look-up for reports that never came, request ids that read back to their delivery, and whether an
unanswered request may have been taken."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.base import ReportStatus, TransientError
from channels.sms import SmsChannel
from channels.sms_dialects.base import key_of_request, request_id
from channels.sms_dialects.esms import EsmsDialect
from channels.sms_dialects.generic_json import GenericJsonDialect
from channels.sms_dialects.speedsms import SpeedSmsDialect
from channels.sms_options import SmsOptions
from tests.helpers import free_port
from tests.protocol.test_sms_gateways import API_KEY, ESMS_PATH, SECRET_KEY, esms, sms

# eSMS's own sample callback for a customer-care SMS, as its documentation prints it.
DOCUMENTED_CALLBACK = (
    "SMSID=dc712784-9c5f-4c69-b9a8-ea69d56adc9a87&SendFailed=2&SendStatus=5&SendSuccess=0&TotalPrice=0.0000"
    "&TotalReceiver=2&TotalSent=2&RequestId=&TypeId=2&telcoid=1&phonenumber=0901888484&switchsmsid="
)


def query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True))


class TestEsmsCallbacks:
    def test_the_documented_sample_is_an_undelivered_report_from_viettel(self) -> None:
        (report,) = EsmsDialect.parse_reports(query(DOCUMENTED_CALLBACK), b"")
        assert report.status == ReportStatus.UNDELIVERED
        assert report.provider_id == "dc712784-9c5f-4c69-b9a8-ea69d56adc9a87"
        assert report.address == "+84901888484"
        assert report.key is None  # sent without a RequestId
        assert "Viettel" in report.reason and "SendStatus 5" in report.reason

    @pytest.mark.parametrize(
        ("status", "success", "failed", "expected"),
        [
            ("5", "1", "0", ReportStatus.DELIVERED),
            ("4", "0", "1", ReportStatus.UNDELIVERED),
            ("1", "0", "0", ReportStatus.INTERIM),
            ("2", "0", "0", ReportStatus.INTERIM),
            ("7", "0", "0", ReportStatus.INTERIM),
        ],
    )
    def test_send_status_decides(self, status: str, success: str, failed: str, expected: ReportStatus) -> None:
        values = {"SMSID": "s1", "SendStatus": status, "SendSuccess": success, "SendFailed": failed}
        assert EsmsDialect.parse_reports(values, b"")[0].status == expected

    def test_the_request_id_reads_back_to_the_delivery_key(self) -> None:
        key = "a1b2c3d4e5f6.o1234567:+84912345678"
        sent = request_id(key)
        assert len(sent) <= 50 and sent.replace("-", "").isalnum()  # eSMS caps it at 50; it travels in a URL
        assert key_of_request(sent) == key
        values = {"SMSID": "s1", "RequestId": sent, "SendStatus": "5", "SendSuccess": "1", "phonenumber": "0912345678"}
        assert EsmsDialect.parse_reports(values, b"")[0].key == key

    def test_a_callback_without_ids_is_not_a_report(self) -> None:
        with pytest.raises(ValueError, match="SMSID or RequestId"):
            EsmsDialect.parse_reports({"SendStatus": "5"}, b"")

    def test_each_message_names_the_callback_address_of_its_dialect(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_json({"CodeResult": "100", "SMSID": "1"})
        adapter = esms(httpserver, tmp_path)
        adapter.report_url = "https://canhbao.example/hooks/sms/t0k3n"
        adapter.send([sms("k", "+84912345678")])
        assert httpserver.log[0][0].get_json()["CallbackUrl"] == "https://canhbao.example/hooks/sms/t0k3n/esms"


class TestEsmsLookUp:
    STATUS = "/MainService.svc/json/GetSendStatus"

    def test_asks_get_send_status_by_smsid_and_reads_the_documented_answer(
        self, httpserver: HTTPServer, tmp_path: Path
    ) -> None:
        httpserver.expect_oneshot_request(
            self.STATUS,
            method="GET",
            query_string={"RefId": "434a124c-7818", "ApiKey": API_KEY, "SecretKey": SECRET_KEY},
        ).respond_with_json(
            {
                "CodeResponse": "100",
                "SMSID": "434a124c-7818",
                "SendFailed": 0,
                "SendStatus": 5,
                "SendSuccess": 1,
                "TotalPrice": 850.0,
                "TotalReceiver": 1,
                "TotalSent": 1,
            }
        )
        report = esms(httpserver, tmp_path).look_up_report("434a124c-7818", "+84912345678")
        assert report is not None and report.status == ReportStatus.DELIVERED
        assert report.address == "+84912345678" and report.provider_id == "434a124c-7818"
        assert API_KEY not in report.raw and SECRET_KEY not in report.raw
        httpserver.check_assertions()

    def test_a_message_the_gateway_does_not_know_tells_nothing(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        httpserver.expect_oneshot_request(self.STATUS).respond_with_json({"CodeResponse": "99", "SMSID": "x"})
        assert esms(httpserver, tmp_path).look_up_report("x", "+84912345678") is None

    def test_an_unreachable_gateway_names_no_secret(self, tmp_path: Path) -> None:
        url = f"http://127.0.0.1:{free_port()}{ESMS_PATH}"
        adapter = SmsChannel(
            SmsOptions(url=url, dialect="esms", api_key=API_KEY, secret_key=SECRET_KEY, brandname="B"),
            output_dir=tmp_path,
        )
        with pytest.raises(TransientError) as caught:
            adapter.look_up_report("x", "+84912345678")
        assert API_KEY not in str(caught.value) and SECRET_KEY not in str(caught.value)


class TestUnanswered:
    def test_a_timeout_after_sending_may_have_been_taken(self, httpserver: HTTPServer, tmp_path: Path) -> None:
        given_up = threading.Event()  # answered only once the client has stopped waiting

        def slow(request: Request) -> Response:
            given_up.wait(10)
            return Response(json.dumps({"CodeResult": "100"}), content_type="application/json")

        httpserver.expect_oneshot_request(ESMS_PATH).respond_with_handler(slow)
        with pytest.raises(TransientError) as caught:
            esms(httpserver, tmp_path, timeout=0.2).send([sms("k", "+84912345678")])
        given_up.set()
        assert caught.value.ambiguous and "may have been taken" in caught.value.reason

    def test_a_refused_connection_was_never_taken(self, tmp_path: Path) -> None:
        url = f"http://127.0.0.1:{free_port()}{ESMS_PATH}"
        adapter = SmsChannel(
            SmsOptions(url=url, dialect="esms", api_key=API_KEY, secret_key=SECRET_KEY, brandname="B"),
            output_dir=tmp_path,
        )
        with pytest.raises(TransientError) as caught:
            adapter.send([sms("k", "+84912345678")])
        assert not caught.value.ambiguous


class TestOtherDialects:
    def test_speedsms_reports_are_matched_by_transaction_and_phone(self) -> None:
        body: dict[str, Any] = {"type": "report", "tranId": 123456, "phone": "84912345678", "status": 0}
        (delivered,) = SpeedSmsDialect.parse_reports({}, json.dumps(body).encode())
        assert (delivered.status, delivered.provider_id, delivered.address) == (
            ReportStatus.DELIVERED,
            "123456",
            "+84912345678",
        )
        (failed,) = SpeedSmsDialect.parse_reports({}, json.dumps({**body, "status": 3}).encode())
        assert failed.status == ReportStatus.UNDELIVERED and "status 3" in failed.reason

    def test_generic_json_reports_follow_the_documented_shape(self) -> None:
        body = {
            "reports": [
                {"id": "k1", "message_id": "m1", "status": "delivered"},
                {"id": "k2", "status": "undelivered", "reason": "subscriber unreachable"},
                {"id": "k3", "status": "pending"},
            ]
        }
        reports = GenericJsonDialect.parse_reports({}, json.dumps(body).encode())
        assert [(r.key, r.status, r.reason) for r in reports] == [
            ("k1", ReportStatus.DELIVERED, ""),
            ("k2", ReportStatus.UNDELIVERED, "subscriber unreachable"),
            ("k3", ReportStatus.INTERIM, ""),
        ]

    def test_something_else_is_not_a_report(self) -> None:
        with pytest.raises(ValueError, match="reports"):
            GenericJsonDialect.parse_reports({}, b'{"hello": 1}')
        with pytest.raises(ValueError, match="tranId"):
            SpeedSmsDialect.parse_reports({}, b'{"type": "mo"}')
