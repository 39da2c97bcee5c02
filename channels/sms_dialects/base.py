"""What every SMS dialect shares: the message, the contract, and HTTP error handling."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

from broadcaster.clock import Clock, system_now
from broadcaster.masking import mask_secrets
from channels.base import Limits, PermanentError, Report, Result, TransientError
from channels.http import JsonClient, Unanswered
from channels.sms_options import SmsOptions


@dataclass(frozen=True)
class SmsMessage:
    key: str  # the delivery's idempotency key
    phone: str  # E.164, "+84912345678"
    text: str
    unicode: bool  # False when every character is GSM-7

    @property
    def national(self) -> str:
        return as_national(self.phone)

    @property
    def international(self) -> str:
        return as_digits(self.phone)

    @property
    def request_id(self) -> str:
        """A short, stable request id from the delivery key (gateways cap its length, eSMS at 50)."""
        return request_id(self.key)


# A delivery key as the core makes it: "<installation>.o<occurrence>:+<digits>".
_PHONE_KEY = re.compile(r"(?P<installation>[0-9a-z]{1,16})\.o(?P<occurrence>\d{1,12}):\+(?P<digits>\d{6,15})")
_PHONE_REQUEST = re.compile(r"(?P<installation>[0-9a-z]{1,16})-(?P<occurrence>\d{1,12})-(?P<digits>\d{6,15})")


def request_id(key: str) -> str:
    """The request id sent for a key: the key itself in letters, digits and hyphens only (it comes back in a
    callback's query string and must read back to the key), or a hash of a key of another shape."""
    match = _PHONE_KEY.fullmatch(key)
    if match is not None:
        return f"{match['installation']}-{match['occurrence']}-{match['digits']}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def key_of_request(request: str) -> str | None:
    """The delivery key a request id was made from, or None for an id this project does not make."""
    match = _PHONE_REQUEST.fullmatch(request)
    if match is None:
        return None
    return f"{match['installation']}.o{match['occurrence']}:+{match['digits']}"


def as_national(phone: str) -> str:
    """An E.164 Vietnamese number as gateways take it nationally: "+84912…" → "0912…"."""
    return "0" + phone[3:] if phone.startswith("+84") else phone


def as_digits(phone: str) -> str:
    """An E.164 number without its plus, as some APIs take it: "+84912…" → "84912…"."""
    return phone.lstrip("+")


def international(phone: str) -> str:
    """E.164 from a number as a gateway writes it back: 0912…, 84912… or +84912…."""
    digits = phone.strip().lstrip("+")
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return "+" + digits


class Dialect(ABC):
    name: ClassVar[str]
    limits: ClassVar[Limits]
    report_url: str | None = None  # the callback address for this dialect's delivery reports
    # Whether each message names the callback address (eSMS), rather than an address set once on the
    # gateway's side (SpeedSMS, generic-json); and whether `look_up` can ask the gateway.
    names_report_url: ClassVar[bool] = False
    looks_up: ClassVar[bool] = False

    def __init__(self, options: SmsOptions, http: JsonClient, output_dir: Path, clock: Clock):
        self.options = options
        self.http = http
        self.output_dir = output_dir
        self.clock = clock

    @abstractmethod
    def send(self, messages: Sequence[SmsMessage]) -> list[Result]:
        """One result per message, same keys; raise Transient/PermanentError when the request failed whole."""

    @classmethod
    def parse_reports(cls, query: Mapping[str, str], body: bytes) -> list[Report]:
        """The delivery reports in one callback (its query string and raw body); ValueError when it is not one.
        A dialect whose gateway sends no callbacks has none."""
        raise ValueError(f"the {cls.name} dialect receives no delivery reports")

    def look_up(self, provider_id: str, phone: str) -> Report | None:
        """What the gateway says now about an accepted message, or None when it cannot be asked."""
        return None

    def url(self, default: str) -> str:
        return self.options.url or default

    def post_json(self, url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST and parse the JSON answer; transport failures and server errors become TransientError."""
        try:
            answer = self.http.post(url, body, headers)
        except Unanswered as exc:
            raise unanswered(exc, url, self.options.timeout) from None
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


def unanswered(exc: Unanswered, url: str, timeout: float) -> TransientError:
    """A request without an answer, as a temporary failure that remembers whether it may have been taken."""
    if exc.timed_out:
        reason = f"the SMS gateway did not answer within {timeout:g} s"
    else:
        reason = f"cannot reach the SMS gateway at {mask_secrets(url)}: {exc.reason}"
    if exc.maybe_taken:
        reason += " (the message may have been taken)"
    return TransientError(reason, ambiguous=exc.maybe_taken)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        # An HTTP date is the server's wall clock, so it is measured against this machine's, not a test's.
        return max(0.0, (parsedate_to_datetime(value) - system_now()).total_seconds())
    except (TypeError, ValueError):
        return None
