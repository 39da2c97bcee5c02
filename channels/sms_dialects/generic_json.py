"""A generic JSON gateway, for gateways (and in-house relays) that speak this simple contract.

Request: POST {"messages": [{"id": KEY, "to": "+84…", "text": "…", "unicode": false}, …]}
with the configured auth header. Answer: {"results": [{"id": KEY, "status": "accepted" |
"sent" | "invalid" | "rejected" | "failed", "message_id": "…", "reason": "…"}, …]}.
The id is the delivery's idempotency key; a gateway that honours it never sends one id twice.

Delivery reports: the gateway POSTs to the callback address given in the project's settings
(`<BROADCASTER_PUBLIC_URL>/hooks/sms/<token>/generic-json`, see the README)
{"reports": [{"id": KEY, "message_id": "…", "status": "delivered" | "undelivered" | "pending",
"reason": "…"}, …]}; repeats are harmless.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from broadcaster import json_input
from channels.base import Limits, Outcome, Report, ReportStatus, Result, TransientError
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
            said = reason or f"gateway status '{item.get('status')}'"
            return Result.failed(message.key, said, retryable=True, response=_raw(item))
        provider_id = str(item.get("message_id") or "") or None
        # The gateway's own words are kept for a refusal only: an accepted message's are not written anywhere.
        kept = _raw(item) if outcome in (Outcome.INVALID_RECIPIENT, Outcome.REJECTED) else None
        return Result(message.key, outcome, provider_id=provider_id, reason=reason, response=kept)

    @classmethod
    def parse_reports(cls, query: Mapping[str, str], body: bytes) -> list[Report]:
        try:
            sent = json_input.loads(body)
        except json_input.JsonRefused as exc:
            raise ValueError(f"a generic-json report is a JSON object; {exc}") from None
        items = sent.get("reports") if isinstance(sent, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) and item.get("id") for item in items):
            raise ValueError('a generic-json report is {"reports": [{"id": …, "status": …}, …]}')
        return [_report(item) for item in items]


def _raw(item: dict[str, object]) -> str:
    return json.dumps(item, ensure_ascii=False)[:2000]


REPORTED = {
    "delivered": ReportStatus.DELIVERED,
    "undelivered": ReportStatus.UNDELIVERED,
    "pending": ReportStatus.INTERIM,
}


def _report(item: dict[str, object]) -> Report:
    status = REPORTED.get(str(item.get("status")))
    if status is None:
        raise ValueError(f"'{item.get('status')}' is not a report status (delivered, undelivered, pending)")
    provider_id = str(item.get("message_id") or "") or None
    raw = json.dumps(item, ensure_ascii=False)
    return Report(status, str(item["id"]), provider_id, None, str(item.get("reason") or ""), raw)
