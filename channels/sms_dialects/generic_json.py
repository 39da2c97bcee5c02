"""A generic JSON gateway, for gateways (and in-house relays) that speak this simple contract.

Request: POST {"messages": [{"id": KEY, "to": "+84…", "text": "…", "unicode": false}, …]}
with the configured auth header. Answer: {"results": [{"id": KEY, "status": "accepted" |
"sent" | "invalid" | "rejected" | "failed", "message_id": "…", "reason": "…"}, …]}.
The id is the delivery's idempotency key; a gateway that honours it never sends one id twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from channels.base import Limits, Outcome, Result, TransientError
from channels.sms_dialects.base import Dialect, SmsMessage

STATUSES = {
    "accepted": Outcome.ACCEPTED,
    "sent": Outcome.SENT,
    "invalid": Outcome.INVALID_RECIPIENT,
    "rejected": Outcome.REJECTED,
    "failed": Outcome.FAILED,
}


class GenericJsonDialect(Dialect):
    name = "generic-json"
    limits = Limits(max_batch=100, idempotency_key=True, rate_per_second=500.0, links_allowed=False)

    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        options = self.options
        headers = {}
        if options.auth_header and options.api_key is not None:
            headers[options.auth_header] = options.api_key.get_secret_value()
        body = {"messages": [{"id": m.key, "to": m.phone, "text": m.text, "unicode": m.unicode} for m in messages]}
        _, answer = self.post_json(self.url(""), body, headers=headers)
        listed = (
            {str(item.get("id")): item for item in (answer.get("results") or []) if isinstance(item, dict)}
            if isinstance(answer, dict)
            else {}
        )
        if not listed:
            raise TransientError("the SMS gateway's answer lists no results", response=str(answer)[:500])
        return [self._result(message, listed.get(message.key)) for message in messages]

    @staticmethod
    def _result(message: SmsMessage, item: dict[str, object] | None) -> Result:
        if item is None:
            return Result.failed(message.key, "the gateway's answer did not mention this message", retryable=True)
        outcome = STATUSES.get(str(item.get("status")), Outcome.FAILED)
        reason = str(item.get("reason") or "")
        if outcome == Outcome.FAILED:
            return Result.failed(message.key, reason or f"gateway status '{item.get('status')}'", retryable=True)
        return Result(message.key, outcome, provider_id=str(item.get("message_id") or "") or None, reason=reason)
