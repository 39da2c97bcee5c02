"""Secrets inside ordinary strings (URLs, assignments) are masked wherever text is shown or kept."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from broadcaster.masking import JsonMaskingFormatter, MaskingFormatter, mask_secrets, mask_values


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://broadcaster:S3cret@db.example:5432/bc", "postgresql://broadcaster:***@db.example:5432/bc"),
        ("postgresql://postgres@127.0.0.1/test?password=S3cret", "postgresql://postgres@127.0.0.1/test?password=***"),
        (
            "https://sms:p%40ss@gw.example/send?apikey=A1&to=84912&api_key=B2&Token=C3",
            "https://sms:***@gw.example/send?apikey=***&to=84912&api_key=***&Token=***",
        ),
        ("a redirect to /v2/send?key=K1&secret=S2", "a redirect to /v2/send?key=***&secret=***"),
        ("https://graph.example/feed?access_token=EAAB", "https://graph.example/feed?access_token=***"),
        ("next=https%3A%2F%2Fx%2Fy%3Faccess_token%3DEAAB", "next=https%3A%2F%2Fx%2Fy%3Faccess_token%3D***"),
        ("BROADCASTER_SMS_API_KEY=abc was refused", "BROADCASTER_SMS_API_KEY=*** was refused"),
        ("password=hunter2; pwd=x", "password=***; pwd=***"),
    ],
)
def test_credentials_in_urls_and_assignments_are_masked(text: str, shown: str) -> None:
    assert mask_secrets(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "the SMTP server 127.0.0.1:25 refused the login of 'vanthu'",
        "sent to soyte@tayninh.gov.vn",
        "monkey=1, keyboard=2, turnkey=3",
        "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
        "Đề nghị nâng cao cảnh giác",
    ],
)
def test_text_without_a_credential_is_left_as_it_is(text: str) -> None:
    assert mask_secrets(text) == text


def test_audit_details_are_masked_at_every_depth() -> None:
    details = {"reason": "redirect to https://x/?apikey=K", "urls": ["https://u:pw@h/"], "count": 3}
    assert mask_values(details) == {
        "reason": "redirect to https://x/?apikey=***",
        "urls": ["https://u:***@h/"],
        "count": 3,
    }


def test_log_lines_and_their_tracebacks_carry_no_secret() -> None:
    formatter = MaskingFormatter("%(levelname)s %(message)s")
    try:
        raise ConnectionError("cannot reach https://gw.example/send?apikey=K9")
    except ConnectionError:
        record = logging.LogRecord(
            "broadcaster", logging.ERROR, __file__, 1, "gateway %s failed", ("https://u:pw@gw/",), sys.exc_info()
        )
    line = formatter.format(record)
    assert "K9" not in line and ":pw@" not in line
    assert "apikey=***" in line and "https://u:***@gw/" in line and "Traceback" in line


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('{"ApiKey": "A1", "SecretKey":"S\\"2", "To": "0912"}', '{"ApiKey": "***", "SecretKey":"***", "To": "0912"}'),
        ("/x?%7B%22ApiKey%22%3A%22A1%22%2C%22To%22%7D", "/x?%7B%22ApiKey%22%3A%22***%22%2C%22To%22%7D"),
        ("postgresql//u:S3cret@db/bc", "postgresql//u:***@db/bc"),
        ("postgresql:u:S3cret@db/bc", "postgresql:u:***@db/bc"),
    ],
)
def test_credentials_in_json_members_and_misspelt_urls_are_masked(text: str, shown: str) -> None:
    assert mask_secrets(text) == shown


def test_the_json_log_format_is_one_object_a_line_without_secrets() -> None:
    try:
        raise RuntimeError("gateway https://user:hunter2@sms.example/send failed")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "broadcaster.workers", logging.WARNING, __file__, 1, "sent to %s", ("https://x:pw@h/?apikey=K1",), exc_info
    )
    record.action = "send"
    line = JsonMaskingFormatter().format(record)
    assert "\n" not in line and "hunter2" not in line and "K1" not in line and ":pw@" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "broadcaster.workers" and entry["action"] == "send"
    assert entry["message"].startswith("sent to ") and "RuntimeError" in entry["exception"]
