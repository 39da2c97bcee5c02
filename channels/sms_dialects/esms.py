"""eSMS.vn: one JSON POST per message, RequestId as idempotency key (DOMAIN §3); delivery reports by
callback and by look-up (DOMAIN §11).

Endpoint SendMultipleMessage_V4_post_json; success is CodeResult "100" (accepted, not yet delivered).
Each message names a CallbackUrl: eSMS calls it with an HTTP GET once the telco reports (SMSID,
RequestId, phonenumber, SendStatus, SendSuccess, SendFailed, TotalSent, TotalPrice, TypeId, telcoid),
and GetSendStatus?RefId=<SMSID> answers the same for the last 7 days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from broadcaster.masking import mask_secrets
from channels.base import Limits, Outcome, PermanentError, Report, ReportStatus, Result, TransientError
from channels.http import Unanswered
from channels.sms_dialects.base import Dialect, SmsMessage, international, key_of_request, unanswered

DEFAULT_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"
SEND_PATH = "SendMultipleMessage_V4_post_json/"
STATUS_PATH = "GetSendStatus"

ACCEPTED = "100"
DUPLICATE_REQUEST = "124"  # this RequestId was used earlier today: ours (an unanswered attempt) or a collision
INVALID_RECIPIENT = {"99": "the number is blocked or cannot receive", "108": "the phone number format is wrong"}
# Codes that no retry can fix and that would fail every other message too: the channel must stop.
STOP_CHANNEL = {
    "101": "eSMS refused the API key or secret key; check BROADCASTER_SMS_API_KEY and BROADCASTER_SMS_SECRET_KEY",
    "103": "the eSMS account balance is too low; top it up",
    "104": "eSMS does not know the brandname; check BROADCASTER_SMS_BRANDNAME (it must be registered)",
    "140": "eSMS refused this server's IP address; add it to the account's whitelist",
    "146": "eSMS says the content does not match a registered template for this brandname",
}
# SendStatus in callbacks and GetSendStatus: 1 pending approval, 2 waiting to send, 7 sent to the telco and
# awaiting its report; 5 sent (delivered), 4 rejected.
INTERIM = {"1": "pending approval", "2": "waiting to send", "7": "sent to the telco, awaiting its report"}
DELIVERED, REFUSED = "5", "4"
TELCOS = {
    "1": "Viettel",
    "2": "MobiFone",
    "3": "VinaPhone",
    "4": "Vietnamobile",
    "5": "Gtel",
    "6": "Itel",
    "7": "Reddi",
}


class EsmsDialect(Dialect):
    name = "esms"
    names_report_url = True
    looks_up = True
    limits = Limits(max_batch=1, max_length=None, idempotency_key=True, rate_per_second=30.0, links_allowed=False)

    def body(self, message: SmsMessage) -> dict[str, Any]:
        options = self.options
        body: dict[str, Any] = {
            "ApiKey": options.api_key.get_secret_value() if options.api_key else "",
            "SecretKey": options.secret_key.get_secret_value() if options.secret_key else "",
            "Phone": message.national,
            "Content": message.text,
            "Brandname": options.brandname or "",
            "SmsType": options.sms_type or "2",
            "IsUnicode": "1" if message.unicode else "0",
            "Sandbox": "1" if options.sandbox else "0",
            "RequestId": message.request_id,
        }
        callback = options.callback_url or self.report_url
        if callback:
            body["CallbackUrl"] = callback
        return body

    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        return [self._send_one(message) for message in messages]

    def _send_one(self, message: SmsMessage) -> Result:
        _, answer = self.post_json(self.url(DEFAULT_URL), self.body(message))
        code = str(answer.get("CodeResult", "")) if isinstance(answer, dict) else ""
        said = str(answer.get("ErrorMessage") or "") if isinstance(answer, dict) else ""
        raw = json.dumps(answer, ensure_ascii=False)[:2000]
        if code == ACCEPTED:
            return Result(message.key, Outcome.ACCEPTED, provider_id=str(answer.get("SMSID") or ""))
        if code == DUPLICATE_REQUEST:
            # The core accepts this only where an earlier attempt of the same delivery went unanswered.
            reason = "eSMS code 124: this RequestId was already used today"
            return Result(message.key, Outcome.REJECTED, reason=reason, duplicate=True, response=raw)
        if code in STOP_CHANNEL:
            raise PermanentError(f"{STOP_CHANNEL[code]} (code {code})", response=raw)
        if code in INVALID_RECIPIENT:
            reason = f"{INVALID_RECIPIENT[code]} (eSMS code {code})"
            return Result(message.key, Outcome.INVALID_RECIPIENT, reason=reason, response=raw)
        reason = f"eSMS code {code or 'missing'}: {said or 'no message'}"
        return Result(message.key, Outcome.REJECTED, reason=reason, response=raw)

    @classmethod
    def parse_reports(cls, query: Mapping[str, str], body: bytes) -> list[Report]:
        if not query.get("SMSID") and not query.get("RequestId"):
            raise ValueError("an eSMS callback names SMSID or RequestId")
        key = key_of_request(query.get("RequestId") or "")
        phone = query.get("phonenumber") or ""
        address = international(phone) if phone else None
        return [_report(query, key=key, provider_id=query.get("SMSID") or None, address=address)]

    def look_up(self, provider_id: str, phone: str) -> Report | None:
        options = self.options
        query = urlencode(
            {
                "RefId": provider_id,
                "ApiKey": options.api_key.get_secret_value() if options.api_key else "",
                "SecretKey": options.secret_key.get_secret_value() if options.secret_key else "",
            }
        )
        url = f"{self._status_url()}?{query}"
        try:
            answer = self.http.get(url)
        except Unanswered as exc:
            raise unanswered(exc, url, options.timeout) from None
        if answer.status == 429 or answer.status >= 500:
            raise TransientError(f"the SMS gateway answered HTTP {answer.status}", response=answer.text[:500])
        try:
            found = answer.json()
        except ValueError:
            raise TransientError("eSMS answered GetSendStatus without JSON", response=answer.text[:500]) from None
        code = str(found.get("CodeResponse", "")) if isinstance(found, dict) else ""
        if code in STOP_CHANNEL:
            raise PermanentError(f"{STOP_CHANNEL[code]} (code {code})", response=mask_secrets(answer.text[:500]))
        if code != ACCEPTED:
            return None  # unknown to eSMS (older than 7 days, say): nothing to learn
        values = {name: str(value) for name, value in found.items()}
        return _report(values, key=None, provider_id=provider_id, address=phone)

    def _status_url(self) -> str:
        url = self.url(DEFAULT_URL)
        if SEND_PATH in url:
            return url.replace(SEND_PATH, STATUS_PATH)
        return DEFAULT_URL.replace(SEND_PATH, STATUS_PATH)


def _report(values: Mapping[str, str], *, key: str | None, provider_id: str | None, address: str | None) -> Report:
    """One eSMS report (a callback's query or GetSendStatus's answer) as a Report."""
    status = str(values.get("SendStatus", "")).strip()
    raw = "&".join(f"{name}={value}" for name, value in values.items())  # masked where it is kept
    telco = TELCOS.get(str(values.get("telcoid", "")), "")
    failed, succeeded = _count(values.get("SendFailed")), _count(values.get("SendSuccess"))
    if status == DELIVERED and not (failed and not succeeded):
        return Report(ReportStatus.DELIVERED, key, provider_id, address, raw=raw)
    if status in (DELIVERED, REFUSED):
        by = f"the telco ({telco})" if telco else "the telco"
        detail = f"; {values['error_info']}" if values.get("error_info") else ""
        reason = f"{by} did not deliver it (eSMS SendStatus {status}, SendFailed {failed}){detail}"
        return Report(ReportStatus.UNDELIVERED, key, provider_id, address, reason=reason, raw=raw)
    said = INTERIM.get(status, f"SendStatus {status or 'missing'}")
    return Report(ReportStatus.INTERIM, key, provider_id, address, reason=said, raw=raw)


def _count(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0
