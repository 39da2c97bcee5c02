"""eSMS.vn: one JSON POST per message, RequestId as idempotency key (DOMAIN §3).

Endpoint SendMultipleMessage_V4_post_json; success is CodeResult "100" (accepted, not yet delivered).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from channels.base import Limits, Outcome, PermanentError, Result
from channels.sms_dialects.base import Dialect, SmsMessage

DEFAULT_URL = "https://rest.esms.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/"

ACCEPTED = "100"
DUPLICATE_REQUEST = "124"  # this RequestId was accepted earlier today: the message already went out
INVALID_RECIPIENT = {"99": "the number is blocked or cannot receive", "108": "the phone number format is wrong"}
# Codes that no retry can fix and that would fail every other message too: the channel must stop.
STOP_CHANNEL = {
    "101": "eSMS refused the API key or secret key; check BROADCASTER_SMS_API_KEY and BROADCASTER_SMS_SECRET_KEY",
    "103": "the eSMS account balance is too low; top it up",
    "104": "eSMS does not know the brandname; check BROADCASTER_SMS_BRANDNAME (it must be registered)",
    "140": "eSMS refused this server's IP address; add it to the account's whitelist",
    "146": "eSMS says the content does not match a registered template for this brandname",
}


class EsmsDialect(Dialect):
    name = "esms"
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
        if options.callback_url:
            body["CallbackUrl"] = options.callback_url
        return body

    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        return [self._send_one(message) for message in messages]

    def _send_one(self, message: SmsMessage) -> Result:
        _, answer = self.post_json(self.url(DEFAULT_URL), self.body(message))
        code = str(answer.get("CodeResult", "")) if isinstance(answer, dict) else ""
        said = str(answer.get("ErrorMessage") or "") if isinstance(answer, dict) else ""
        if code == ACCEPTED:
            return Result(message.key, Outcome.ACCEPTED, provider_id=str(answer.get("SMSID") or ""))
        if code == DUPLICATE_REQUEST:
            return Result(
                message.key, Outcome.ACCEPTED, reason="eSMS had already accepted this message (same RequestId)"
            )
        if code in STOP_CHANNEL:
            raise PermanentError(f"{STOP_CHANNEL[code]} (code {code})", response=said)
        if code in INVALID_RECIPIENT:
            return Result(
                message.key, Outcome.INVALID_RECIPIENT, reason=f"{INVALID_RECIPIENT[code]} (eSMS code {code})"
            )
        return Result(message.key, Outcome.REJECTED, reason=f"eSMS code {code or 'missing'}: {said or 'no message'}")
