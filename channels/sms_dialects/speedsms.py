"""SpeedSMS: one JSON POST for up to 100 numbers, Basic auth `token:x` (DOMAIN §3).

Success: {"status": "success", "code": "00", "data": {"tranId": …, "invalidPhone": [...]}}.
Delivery reports: a JSON POST {"type": "report", "tranId": …, "phone": "84…", "status": 0} to the URL set
in the SpeedSMS account (DOMAIN §11); status 0 is delivered, any other value (*unverified*) undelivered,
with the value kept. SpeedSMS reports name the transaction and the phone, so they are matched by both.
The request, the success answer and invalidPhone follow SpeedSMS's published examples. The error codes
below (IP blocked, account locked, no permission, low balance, internal error) are *unverified*: the
published examples show the error shape but not a full code list. An unknown code rejects the batch
without a retry, so nothing is resent blindly; the operator sees the gateway's own message.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence

import urllib3

from broadcaster import json_input
from channels.base import Limits, Outcome, PermanentError, Report, ReportStatus, Result, TransientError
from channels.sms_dialects.base import Dialect, SmsMessage, international

DEFAULT_URL = "https://api.speedsms.vn/index.php/sms/send"

STOP_CHANNEL = {
    "007": "SpeedSMS has blocked this server's IP address",
    "008": "the SpeedSMS account is locked",
    "009": "the SpeedSMS account may not use this API or sender",
    "300": "the SpeedSMS account balance is too low; top it up",
}
TRANSIENT = {"500": "SpeedSMS reports an internal error"}


class SpeedSmsDialect(Dialect):
    name = "speedsms"
    limits = Limits(max_batch=100, idempotency_key=False, rate_per_second=100.0, links_allowed=False)

    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        # One request carries one text: messages are grouped by text (they differ by locale or area).
        by_text: dict[tuple[str, bool], list[SmsMessage]] = defaultdict(list)
        for message in messages:
            by_text[(message.text, message.unicode)].append(message)
        results: dict[str, Result] = {}
        for (text, _unicode), group in by_text.items():
            for result in self._send_group(text, group):
                results[result.key] = result
        return [results[message.key] for message in messages]

    def _send_group(self, text: str, group: list[SmsMessage]) -> list[Result]:
        options = self.options
        token = options.api_key.get_secret_value() if options.api_key else ""
        body = {
            "to": [message.international for message in group],
            "content": text,
            "sms_type": int(options.sms_type or 2),
            "sender": options.brandname or "",
        }
        auth = urllib3.util.make_headers(basic_auth=f"{token}:x")
        _, answer = self.post_json(self.url(DEFAULT_URL), body, headers=auth)
        if not isinstance(answer, dict):
            raise TransientError("SpeedSMS answered with something other than a JSON object")
        data = answer.get("data") or {}
        invalid = {str(phone).lstrip("+") for phone in (data.get("invalidPhone") or answer.get("invalidPhone") or [])}
        if answer.get("status") == "success":
            tran_id = str(data.get("tranId", ""))
            return [
                _invalid(m) if m.international in invalid else Result(m.key, Outcome.ACCEPTED, provider_id=tran_id)
                for m in group
            ]
        code, said = str(answer.get("code", "")), str(answer.get("message", ""))
        raw = json.dumps(answer, ensure_ascii=False)[:2000]
        if code in STOP_CHANNEL:
            raise PermanentError(f"{STOP_CHANNEL[code]} (code {code})", response=raw)
        if code in TRANSIENT:
            raise TransientError(f"{TRANSIENT[code]} (code {code})", response=raw)
        reason = f"SpeedSMS code {code or 'missing'}: {said or 'no message'}"
        return [
            _invalid(m) if m.international in invalid else Result(m.key, Outcome.REJECTED, reason=reason, response=raw)
            for m in group
        ]

    @classmethod
    def parse_reports(cls, query: Mapping[str, str], body: bytes) -> list[Report]:
        try:
            sent = json_input.loads(body)
        except json_input.JsonRefused as exc:
            raise ValueError(f"a SpeedSMS report is a JSON object; {exc}") from None
        items = sent if isinstance(sent, list) else [sent]
        reports = []
        for item in items:
            if not isinstance(item, dict) or item.get("type") != "report" or not item.get("tranId"):
                raise ValueError('a SpeedSMS report is {"type": "report", "tranId": …, "phone": …, "status": …}')
            status, phone = str(item.get("status", "")), str(item.get("phone") or "")
            raw = json.dumps(item, ensure_ascii=False)
            address = international(phone) if phone else None
            if status == "0":
                reports.append(Report(ReportStatus.DELIVERED, None, str(item["tranId"]), address, raw=raw))
            else:
                reason = f"SpeedSMS reports status {status or 'missing'} (not delivered)"
                reports.append(Report(ReportStatus.UNDELIVERED, None, str(item["tranId"]), address, reason, raw))
        return reports


def _invalid(message: SmsMessage) -> Result:
    return Result(message.key, Outcome.INVALID_RECIPIENT, reason="SpeedSMS lists the number as invalid")
