"""What every SMS dialect shares: the message, the contract, and HTTP error handling."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from broadcaster.masking import mask_secrets
from channels.base import Limits, PermanentError, Result, TransientError
from channels.http import JsonClient, Unanswered

if TYPE_CHECKING:
    from channels.sms import SmsOptions


@dataclass(frozen=True)
class SmsMessage:
    key: str  # the delivery's idempotency key
    phone: str  # E.164, "+84912345678"
    text: str
    unicode: bool  # False when every character is GSM-7

    @property
    def national(self) -> str:
        return "0" + self.phone[3:] if self.phone.startswith("+84") else self.phone

    @property
    def international(self) -> str:
        return self.phone.lstrip("+")

    @property
    def request_id(self) -> str:
        """A short, stable request id from the delivery key (gateways cap its length, eSMS at 50)."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:40]


class Dialect(ABC):
    name: ClassVar[str]
    limits: ClassVar[Limits]

    def __init__(self, options: SmsOptions, http: JsonClient, output_dir: Path):
        self.options = options
        self.http = http
        self.output_dir = output_dir

    @abstractmethod
    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        """One result per message, same keys; raise Transient/PermanentError when the request failed whole."""

    def url(self, default: str) -> str:
        return self.options.url or default

    def post_json(self, url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST and parse the JSON answer; transport failures and server errors become TransientError."""
        try:
            answer = self.http.post(url, body, headers)
        except Unanswered as exc:
            if exc.timed_out:
                raise TransientError(f"the SMS gateway did not answer within {self.options.timeout:g} s") from None
            raise TransientError(f"cannot reach the SMS gateway at {mask_secrets(url)}: {exc.reason}") from None
        if answer.status == 429 or answer.status >= 500:
            raise TransientError(
                f"the SMS gateway answered HTTP {answer.status}",
                response=answer.text[:500],
                retry_after=retry_after(answer.headers.get("Retry-After")),
            )
        if 300 <= answer.status < 400:  # redirects are not followed: a POST must reach the gateway itself
            where = answer.headers.get("Location") or "somewhere else"
            raise PermanentError(
                f"the SMS gateway at {mask_secrets(url)} answered HTTP {answer.status}, "
                f"a redirect to {mask_secrets(where)}; "
                "set BROADCASTER_SMS_URL to the address it names"
            )
        if answer.status in (401, 403):
            raise PermanentError(
                f"the SMS gateway refused our credentials (HTTP {answer.status})", response=answer.text[:500]
            )
        try:
            return answer.status, answer.json()
        except ValueError:
            raise TransientError(
                f"the SMS gateway answered HTTP {answer.status} without JSON", response=answer.text[:500]
            ) from None


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
