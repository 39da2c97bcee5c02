"""Zalo: ZNS template messages to subscribers' phone numbers; the way they go out is a setting (a dialect).

Dialects: `file` (embedded default, JSON lines under the output folder), `direct` (the Zalo Official
Account's own ZNS API, with its OA token renewed from its single-use refresh token), `esms` (ZNS through
eSMS.vn). A ZNS message is a template Zalo approved, filled with named parameters: the campaign names the
template and the parameters' values; the bulletin's text may fill one of them. What each provider's answer
means is in the README's "Zalo (ZNS)" section.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from broadcaster.clock import Clock
from broadcaster.masking import mask_secrets
from channels.base import (
    Bulletin,
    ChannelAdapter,
    Credential,
    CredentialStore,
    Limits,
    MemoryCredentials,
    Outcome,
    PermanentError,
    ProviderTemplate,
    RecipientKind,
    Report,
    ReportStatus,
    Result,
    TransientError,
)
from channels.http import JsonClient, Unanswered
from channels.sms_dialects.base import (
    as_digits,
    as_national,
    key_of_request,
    request_id,
    retry_after,
    unanswered,
)
from channels.sms_dialects.esms import EsmsDialect

# Each dialect by name, with the settings it cannot send without.
DIALECT_NEEDS: dict[str, tuple[str, ...]] = {
    "file": (),
    "direct": ("app_id", "app_secret", "refresh_token"),
    "esms": ("api_key", "secret_key", "oa_id"),
}

# Vietnam's day: Zalo's daily quota starts again at local midnight.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# Every reason that says the number cannot get a Zalo message at all starts so: the SMS fallback reads it.
CANNOT_RECEIVE = "cannot receive Zalo messages"


class ZaloOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_ZALO_", extra="ignore")

    dialect: str = "file"
    url: str | None = None  # the send endpoint, where it is not the provider's own
    oauth_url: str | None = None  # the direct dialect's token endpoint, where it is not Zalo's own
    app_id: str | None = None  # the Zalo app the OA granted access to (direct)
    app_secret: SecretStr | None = None  # that app's secret key, sent when renewing the OA token (direct)
    access_token: SecretStr | None = None  # the OA token to start with (direct); the database keeps its successors
    refresh_token: SecretStr | None = None  # its refresh token, single-use (direct)
    oa_secret_key: SecretStr | None = None  # the OA's secret key, which signs Zalo's webhook calls (direct)
    oa_id: str | None = None  # the Official Account's id (esms)
    api_key: SecretStr | None = None  # eSMS's ApiKey (esms)
    secret_key: SecretStr | None = None  # eSMS's SecretKey (esms)
    sandbox: bool = False  # esms: Sandbox 1, nothing goes out; direct: mode "development" (to the OA's admins only)
    callback_url: str | None = None  # esms: where reports go, where it is not the project's hook
    renew_before: float = Field(300.0, ge=0)  # seconds before the OA token expires that it is renewed
    timeout: float = 20.0
    connect_timeout: float = 5.0
    pool_size: int = 10

    @model_validator(mode="after")
    def _dialect_has_what_it_needs(self) -> ZaloOptions:
        if self.dialect not in DIALECT_NEEDS:
            known = ", ".join(DIALECT_NEEDS)
            raise ValueError(f"BROADCASTER_ZALO_DIALECT '{self.dialect}' is not a known Zalo dialect ({known})")
        for field in DIALECT_NEEDS[self.dialect]:
            if getattr(self, field) in (None, ""):
                raise ValueError(f"BROADCASTER_ZALO_{field.upper()} is not set (the {self.dialect} dialect needs it)")
        return self


class ZaloCampaignOptions(BaseModel):
    """The campaign's ZNS template and the values of its parameters, in the template's order (eSMS sends them
    by position); `text_param` names the parameter the bulletin's rendered text fills."""

    model_config = ConfigDict(extra="forbid")
    template_id: str | None = Field(None, pattern=r"^[0-9]{1,20}$")
    params: dict[str, str] = Field(default_factory=dict)
    text_param: str | None = None


@dataclass(frozen=True)
class ZnsMessage:
    key: str  # the delivery's idempotency key
    phone: str  # E.164, "+84912345678"
    template_id: str
    data: dict[str, str]  # parameter → value, in the template's order

    @property
    def national(self) -> str:
        return as_national(self.phone)

    @property
    def international(self) -> str:
        return as_digits(self.phone)

    @property
    def tracking_id(self) -> str:
        """The delivery key (installation, occurrence, number) as letters, digits and hyphens, at most 45 long."""
        return request_id(self.key)


def message_of(item: Bulletin) -> ZnsMessage:
    options = item.options if isinstance(item.options, ZaloCampaignOptions) else ZaloCampaignOptions()
    data = dict(options.params)
    if options.text_param:
        data[options.text_param] = item.parts.get("txt", "").strip()
    return ZnsMessage(item.key, item.recipient.address, options.template_id or "", data)


class Dialect(ABC):
    name: ClassVar[str]
    limits: ClassVar[Limits]
    report_url: str | None = None

    def __init__(self, options: ZaloOptions, http: JsonClient, output_dir: Path, clock: Clock) -> None:
        self.options = options
        self.http = http
        self.output_dir = output_dir
        self.clock = clock
        self.credentials: CredentialStore = MemoryCredentials()

    @abstractmethod
    def send(self, message: ZnsMessage) -> Result:
        """The result of one message; raise Transient/PermanentError when the channel as a whole cannot send."""

    def post(self, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        """POST JSON and parse the answer; transport failures and server errors become TransientError."""
        try:
            answer = self.http.post(url, body, headers)
        except Unanswered as exc:
            raise _zalo_unanswered(exc, url, self.options.timeout) from None
        return _parsed(answer.status, answer.text, answer.headers.get("Retry-After"), answer.json)


def _parsed(status: int, text: str, wait: str | None, parse: Any) -> Any:
    if status == 429 or status >= 500:
        raise TransientError(
            f"Zalo's provider answered HTTP {status}", response=text[:500], retry_after=retry_after(wait)
        )
    if status in (401, 403):
        raise PermanentError(f"Zalo's provider refused our credentials (HTTP {status})", response=text[:500])
    try:
        return parse()
    except ValueError:
        raise TransientError(f"Zalo's provider answered HTTP {status} without JSON", response=text[:500]) from None


def _zalo_unanswered(exc: Unanswered, url: str, timeout: float) -> TransientError:
    error = unanswered(exc, url, timeout)
    return TransientError(
        error.reason.replace("the SMS gateway", "Zalo's provider"), ambiguous=error.ambiguous, response=None
    )


class FileDialect(Dialect):
    """The embedded default: each message appended as one JSON line to a file per day (the demo reads them)."""

    name = "file"
    limits = Limits(max_batch=500, idempotency_key=False, rate_per_second=10_000.0, links_allowed=False)

    def send(self, message: ZnsMessage) -> Result:
        return self.send_all([message])[0]

    def send_all(self, messages: Sequence[ZnsMessage]) -> list[Result]:
        folder = self.output_dir / "zalo"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.clock.now():%Y-%m-%d}.jsonl"
        lines = "".join(
            json.dumps(
                {"key": m.key, "to": m.phone, "template_id": m.template_id, "template_data": m.data},
                ensure_ascii=False,
            )
            + "\n"
            for m in messages
        )
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(handle, lines.encode("utf-8"))
            os.fsync(handle)
        finally:
            os.close(handle)
        return [Result(m.key, Outcome.SENT, provider_id=path.name) for m in messages]


# ---- the Zalo OA's own API --------------------------------------------------------------------------------

SEND_URL = "https://business.openapi.zalo.me/message/template"
OAUTH_URL = "https://oauth.zaloapp.com/v4/oa/access_token"

TOKEN_INVALID = -124  # the access token is not (or no longer) valid: renew it, then try once more
# The number cannot get ZNS at all: the SMS fallback sends the campaign's SMS instead.
NOT_ON_ZALO = {
    -118: "the number has no Zalo account, or it was deactivated",
    -119: "the Zalo account cannot receive ZNS messages",
    -114: "the Zalo user is inactive, refuses the message or uses an outdated Zalo version",
    -110: "the Zalo user's app is too old to show ZNS messages",
}
INVALID_PHONE = {-108: "the phone number is not one Zalo accepts"}
# Per message and not worth a retry: the template's data for this recipient was refused.
REFUSED = {
    -111: "Zalo says the template data is empty",
    -112: "Zalo refused the template data (a parameter missing, of the wrong type or too long)",
    -116: "Zalo refused the message text",
}
# Nothing will go out until a person acts; every message would fail alike, so the channel stops.
STOP_CHANNEL = {
    -101: "Zalo says the app is not valid; check BROADCASTER_ZALO_APP_ID",
    -102: "Zalo says the app does not exist; check BROADCASTER_ZALO_APP_ID",
    -103: "the Zalo app is not activated; activate it at Zalo for Developers",
    -104: "Zalo refused the app's secret key; check BROADCASTER_ZALO_APP_SECRET",
    -105: "the Zalo app is linked to no Official Account; link it to the OA",
    -109: "Zalo does not know the ZNS template id; check the campaign's template",
    -115: "the OA's ZNS balance is used up; top it up",
    -117: "the OA or app may not use this ZNS template (not approved for it); check the template in ZNS",
}
# The OA's ZNS quota for today is used up: nothing goes out until tomorrow, when the quota starts again.
DAILY_QUOTA_CODE = -144
DAILY_QUOTA = {DAILY_QUOTA_CODE: "the OA has used up today's ZNS quota"}
UNKNOWN = -100  # Zalo's "unknown error, try again later"


class DirectDialect(Dialect):
    name = "direct"
    limits = Limits(max_batch=1, idempotency_key=False, rate_per_second=10.0, links_allowed=False)

    @property
    def credential_name(self) -> str:
        return f"zalo-oa:{self.options.app_id}"

    quota_until: datetime | None = None  # today's quota is used up until then: nothing is asked of Zalo

    def send(self, message: ZnsMessage) -> Result:
        if not message.template_id:
            return _no_template(message)
        if self.quota_until is not None and self.clock.now() < self.quota_until:
            return self._quota_used_up(message, DAILY_QUOTA_CODE, None)
        credential = self._credential()
        if credential.held_until is not None and self.clock.now() < credential.held_until:
            self.quota_until = credential.held_until  # another worker met the quota: this one waits too
            return self._quota_used_up(message, DAILY_QUOTA_CODE, None)
        answer = self._post_template(message, credential)
        if _code(answer) == TOKEN_INVALID:
            credential = self.credentials.renew(self.credential_name, credential, self._refresh)
            answer = self._post_template(message, credential)
            if _code(answer) == TOKEN_INVALID:
                raise PermanentError(
                    "Zalo refused the OA access token even just after renewing it (code -124); "
                    "grant the app access to the OA again and set BROADCASTER_ZALO_REFRESH_TOKEN",
                    response=_raw(answer),
                )
        return self._result(message, answer)

    def _credential(self) -> Credential:
        options = self.options
        assert options.refresh_token is not None  # the settings refuse the direct dialect without one
        access = options.access_token.get_secret_value() if options.access_token else ""
        # Without an access token to start with, the first one comes from the refresh token, now.
        seed = Credential(access, options.refresh_token.get_secret_value(), None if access else self.clock.now())
        credential = self.credentials.current(self.credential_name, seed)
        assert credential is not None
        due = credential.expires_at is not None and credential.expires_at - self.clock.now() <= timedelta(
            seconds=options.renew_before
        )
        if due:
            credential = self.credentials.renew(self.credential_name, credential, self._refresh)
        return credential

    def _post_template(self, message: ZnsMessage, credential: Credential) -> Any:
        body: dict[str, Any] = {
            "phone": message.international,
            "template_id": message.template_id,
            "template_data": message.data,
            "tracking_id": message.tracking_id,
        }
        if self.options.sandbox:
            body["mode"] = "development"
        return self.post(self.options.url or SEND_URL, body, {"access_token": credential.access_token})

    def _refresh(self, stale: Credential) -> Credential:
        """A new access token and refresh token for `stale`'s refresh token, which Zalo then no longer takes."""
        options = self.options
        assert options.app_secret is not None and options.app_id is not None
        url = options.oauth_url or OAUTH_URL
        fields = {"refresh_token": stale.refresh_token, "app_id": options.app_id, "grant_type": "refresh_token"}
        try:
            answer = self.http.post_form(url, fields, {"secret_key": options.app_secret.get_secret_value()})
        except Unanswered as exc:
            raise _zalo_unanswered(exc, url, options.timeout) from None
        found = _parsed(answer.status, mask_secrets(answer.text), answer.headers.get("Retry-After"), answer.json)
        if not isinstance(found, dict) or not found.get("access_token") or not found.get("refresh_token"):
            said = found.get("error_description") or found.get("error_name") if isinstance(found, dict) else None
            code = found.get("error") if isinstance(found, dict) else None
            raise PermanentError(
                f"Zalo refused to renew the OA access token (error {code}: {said or 'no reason given'}); "
                "grant the app access to the OA again and set BROADCASTER_ZALO_REFRESH_TOKEN"
            )
        try:
            lasts = float(found.get("expires_in") or 0)
        except (TypeError, ValueError):
            lasts = 0.0
        expires = self.clock.now() + timedelta(seconds=lasts) if lasts > 0 else None
        return Credential(str(found["access_token"]), str(found["refresh_token"]), expires)

    def _result(self, message: ZnsMessage, answer: Any) -> Result:
        code, raw = _code(answer), _raw(answer)
        said = str(answer.get("message") or "") if isinstance(answer, dict) else ""
        if code == 0:
            data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
            return Result(message.key, Outcome.ACCEPTED, provider_id=str(data.get("msg_id") or ""))
        if code in NOT_ON_ZALO:
            reason = f"{CANNOT_RECEIVE}: {NOT_ON_ZALO[code]} (Zalo {code})"
            return Result(message.key, Outcome.INVALID_RECIPIENT, reason=reason, response=raw)
        if code in INVALID_PHONE:
            reason = f"{INVALID_PHONE[code]} (Zalo {code})"
            return Result(message.key, Outcome.INVALID_RECIPIENT, reason=reason, response=raw)
        if code in STOP_CHANNEL:
            raise PermanentError(f"{STOP_CHANNEL[code]} (Zalo {code})", response=raw)
        if code in DAILY_QUOTA:
            # The rest of today's messages wait for tomorrow without asking Zalo again.
            self.quota_until = self.clock.now() + timedelta(seconds=self._until_tomorrow())
            result = self._quota_used_up(message, code, raw)
            self.credentials.hold(self.credential_name, self.quota_until, result.reason)  # and every other worker's
            return result
        if code == UNKNOWN or code is None:
            reason = f"Zalo answered code {code if code is not None else 'missing'}: {said or 'no message'}"
            return Result.failed(message.key, reason, retryable=True, response=raw)
        reason = REFUSED.get(code, f"Zalo code {code}: {said or 'no message'}")
        return Result(message.key, Outcome.REJECTED, reason=f"{reason} (Zalo {code})", response=raw)

    def _quota_used_up(self, message: ZnsMessage, code: int, raw: str | None) -> Result:
        reason = f"{DAILY_QUOTA[code]}; sending resumes tomorrow (Zalo {code})"
        return Result.failed(message.key, reason, retryable=True, retry_after=self._until_tomorrow(), response=raw)

    def _until_tomorrow(self) -> float:
        now = self.clock.now().astimezone(VIETNAM)
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=VIETNAM)
        return (tomorrow - now).total_seconds()


# Zalo's webhook: the event a ZNS message reached the phone, and how a call is signed.
RECEIVED = "user_received_message"
SIGNATURE = "x-zevent-signature"


def webhook_reports(body: bytes) -> list[Report]:
    """The delivery report in one Zalo webhook call; none for events of other kinds (a follower, a message
    from a user…), which are answered 200 all the same so that Zalo does not call again."""
    try:
        event = json.loads(body)
    except ValueError:
        raise ValueError("a Zalo webhook call is a JSON object") from None
    if not isinstance(event, dict) or not isinstance(event.get("event_name"), str):
        raise ValueError("a Zalo webhook call names its event_name")
    if event["event_name"] != RECEIVED:
        return []
    message = event.get("message")
    if not isinstance(message, dict):
        message = {}
    tracking, msg_id = str(message.get("tracking_id") or ""), str(message.get("msg_id") or "")
    if not tracking and not msg_id:
        raise ValueError("a Zalo user_received_message event names message.msg_id or message.tracking_id")
    raw = body.decode("utf-8", errors="replace")[:2000]
    return [Report(ReportStatus.DELIVERED, key_of_request(tracking), msg_id or None, None, raw=raw)]


def webhook_signature_problem(headers: Mapping[str, str], body: bytes, app_id: str, oa_secret_key: str) -> str | None:
    """None when `X-ZEvent-Signature` is "mac=" + SHA-256 of app id, raw body, the body's timestamp and the
    OA's secret key; else the sentence saying what is wrong."""
    given = (headers.get(SIGNATURE) or "").strip()
    if not given:
        return "a Zalo webhook call must carry the X-ZEvent-Signature header"
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    timestamp = str(event.get("timestamp") or "") if isinstance(event, dict) else ""
    if not timestamp:
        return "a Zalo webhook call names its timestamp in the body"
    if str(event.get("app_id") or "") != app_id:
        return "the Zalo webhook call is for another app than BROADCASTER_ZALO_APP_ID"
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    expected = hashlib.sha256(signed).hexdigest()
    shown = given[4:] if given.lower().startswith("mac=") else given
    if not hmac.compare_digest(shown.lower().encode(), expected.encode()):
        return "the Zalo webhook call's signature is wrong (X-ZEvent-Signature, signed with the OA's secret key)"
    return None


def _code(answer: Any) -> int | None:
    value = answer.get("error") if isinstance(answer, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _raw(answer: Any) -> str:
    return json.dumps(answer, ensure_ascii=False)[:2000]


def _no_template(message: ZnsMessage) -> Result:
    reason = "the campaign names no ZNS template (zalo: template_id)"
    return Result(message.key, Outcome.REJECTED, reason=reason)


# ---- ZNS through eSMS -------------------------------------------------------------------------------------

ESMS_URL = "https://rest.esms.vn/MainService.svc/json/SendZaloMessage_V4_post_json/"
ESMS_ACCEPTED = "100"
ESMS_DUPLICATE = "124"
ESMS_INVALID_RECIPIENT = {"99": "the number is blocked at eSMS", "108": "the phone number format is wrong"}
ESMS_STOP_CHANNEL = {
    "101": "eSMS refused the API key or secret key; check BROADCASTER_ZALO_API_KEY and BROADCASTER_ZALO_SECRET_KEY",
    "103": "the eSMS account balance is too low; top it up",
    "140": "eSMS refused this server's IP address; add it to the account's whitelist",
    "204": "eSMS does not know the OA; check BROADCASTER_ZALO_OA_ID",
    "799": "eSMS says the OA is not active or not added to the account; check BROADCASTER_ZALO_OA_ID",
    "789": "eSMS says the ZNS template is not set up for this OA; check the campaign's template",
    "790": "eSMS says the ZNS template is wrong; check the campaign's template",
}


class EsmsZaloDialect(Dialect):
    name = "esms"
    limits = Limits(max_batch=1, idempotency_key=True, rate_per_second=30.0, links_allowed=False)

    def send(self, message: ZnsMessage) -> Result:
        if not message.template_id:
            return _no_template(message)
        options = self.options
        body: dict[str, Any] = {
            "ApiKey": options.api_key.get_secret_value() if options.api_key else "",
            "SecretKey": options.secret_key.get_secret_value() if options.secret_key else "",
            "Phone": message.national,
            "Params": list(message.data.values()),
            "TempID": message.template_id,
            "OAID": options.oa_id or "",
            "Sandbox": "1" if options.sandbox else "0",
            "RequestId": message.tracking_id,
        }
        callback = options.callback_url or self.report_url
        if callback:
            body["CallbackUrl"] = callback
        answer = self.post(options.url or ESMS_URL, body)
        code = str(answer.get("CodeResult", "")) if isinstance(answer, dict) else ""
        said = str(answer.get("ErrorMessage") or "") if isinstance(answer, dict) else ""
        raw = _raw(answer)
        if code == ESMS_ACCEPTED:
            return Result(message.key, Outcome.ACCEPTED, provider_id=str(answer.get("SMSID") or ""))
        if code == ESMS_DUPLICATE:
            reason = "eSMS code 124: this RequestId was already used today"
            return Result(message.key, Outcome.REJECTED, reason=reason, duplicate=True, response=raw)
        if code in ESMS_STOP_CHANNEL:
            raise PermanentError(f"{ESMS_STOP_CHANNEL[code]} (code {code})", response=raw)
        if code in ESMS_INVALID_RECIPIENT:
            reason = f"{ESMS_INVALID_RECIPIENT[code]} (eSMS code {code})"
            return Result(message.key, Outcome.INVALID_RECIPIENT, reason=reason, response=raw)
        reason = f"eSMS code {code or 'missing'}: {said or 'no message'}"
        return Result(message.key, Outcome.REJECTED, reason=reason, response=raw)

    @classmethod
    def parse_reports(cls, query: Mapping[str, str], body: bytes) -> list[Report]:
        """eSMS calls back for ZNS as for SMS (GET, same fields), with Zalo's own answer in `error_info`; where
        that says the number cannot get ZNS, the reason says so as the direct dialect's results do."""
        reports = EsmsDialect.parse_reports(query, body)
        try:
            said = json.loads(query.get("error_info") or "{}")
        except ValueError:
            said = {}
        code = _code(said)
        if code in NOT_ON_ZALO:
            reason = f"{CANNOT_RECEIVE}: {NOT_ON_ZALO[code]} (Zalo {code}, through eSMS)"
            reports = [
                replace(report, reason=reason) if report.status is ReportStatus.UNDELIVERED else report
                for report in reports
            ]
        return reports


DIALECTS: dict[str, type[Dialect]] = {
    dialect.name: dialect for dialect in (FileDialect, DirectDialect, EsmsZaloDialect)
}


class ZaloChannel(ChannelAdapter):
    name = "zalo"
    recipient_kind = RecipientKind.SUBSCRIBER
    default_limits = Limits(max_batch=1, idempotency_key=True, links_allowed=False)
    Options = ZaloOptions
    CampaignOptions = ZaloCampaignOptions

    options: ZaloOptions
    report_url: str | None = None  # where the provider calls back (set by the worker)

    def __init__(self, options: ZaloOptions, *, output_dir: Path, clock: Clock | None = None) -> None:
        super().__init__(options, output_dir=output_dir, clock=clock)
        self.http = JsonClient(
            pool_size=options.pool_size, connect_timeout=options.connect_timeout, timeout=options.timeout
        )
        self.dialect = DIALECTS[options.dialect](options, self.http, output_dir, self.clock)

    @property
    def credentials(self) -> CredentialStore:
        """Where the OA token is kept; the worker gives the store every worker shares."""
        return self.dialect.credentials

    @credentials.setter
    def credentials(self, store: CredentialStore) -> None:
        self.dialect.credentials = store

    @property
    def keeps_credentials(self) -> bool:
        """Whether the dialect sends with the OA's token pair (the direct one does)."""
        return isinstance(self.dialect, DirectDialect)

    @property
    def limits(self) -> Limits:
        return self.dialect.limits

    @classmethod
    def callback_forms(cls) -> Sequence[str]:
        """The providers that call back with delivery reports, each in its own form: Zalo's own webhook
        (`direct`, set once in the Zalo app's settings) and eSMS's callback (named with each message)."""
        return (DirectDialect.name, EsmsZaloDialect.name)

    @classmethod
    def parse_callback(cls, form: str, query: Mapping[str, str], body: bytes) -> list[Report]:
        if form == DirectDialect.name:
            return webhook_reports(body)
        if form == EsmsZaloDialect.name:
            return EsmsZaloDialect.parse_reports(query, body)
        raise ValueError(f"the Zalo channel reads no callback of the form '{form}'")

    @classmethod
    def check_signature(cls, form: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """Zalo signs its webhook (eSMS signs nothing: the token in the address is all it has)."""
        if form != DirectDialect.name:
            return None
        from broadcaster.settings import channel_settings

        options = channel_settings(ZaloOptions)
        if options.app_id is None or options.oa_secret_key is None:
            return (
                "Zalo webhook calls cannot be checked: set BROADCASTER_ZALO_APP_ID and BROADCASTER_ZALO_OA_SECRET_KEY"
            )
        return webhook_signature_problem(headers, body, options.app_id, options.oa_secret_key.get_secret_value())

    @classmethod
    def template_named(cls, campaign_options: BaseModel) -> str | None:
        return campaign_options.template_id if isinstance(campaign_options, ZaloCampaignOptions) else None

    @classmethod
    def template_problems(cls, campaign_options: BaseModel, template: ProviderTemplate | None) -> list[str]:
        """The campaign's values against the ZNS template Zalo approved: every parameter has one (the text's
        parameter from the rendered text), none is over its maximum length, none is unknown to the template."""
        assert isinstance(campaign_options, ZaloCampaignOptions)
        if template is None:
            return [
                f"the directory has no ZNS template {campaign_options.template_id}: import the OA's templates "
                "(broadcaster directory import zalo-templates FILE)"
            ]
        lengths = dict(template.params)
        given = {**campaign_options.params}
        problems = []
        text_param = campaign_options.text_param
        if text_param is not None and text_param not in lengths:
            problems.append(f"ZNS template {template.template_id} has no parameter '{text_param}' for the text")
        for name, value in given.items():
            if name not in lengths:
                problems.append(f"ZNS template {template.template_id} has no parameter '{name}'")
            elif len(value) > lengths[name]:
                problems.append(
                    f"the value of '{name}' is {len(value)} characters, over the template's {lengths[name]}"
                )
        missing = [name for name, _ in template.params if name not in given and name != text_param]
        problems += [f"ZNS template {template.template_id} needs a value for '{name}'" for name in missing]
        return problems

    @classmethod
    def preview(cls, campaign_options: BaseModel, template: ProviderTemplate, parts: Mapping[str, str]) -> str:
        """The template's approved text with each <parameter> replaced by the value it will carry."""
        assert isinstance(campaign_options, ZaloCampaignOptions)
        values = dict(campaign_options.params)
        if campaign_options.text_param:
            values[campaign_options.text_param] = parts.get("txt", "").strip()
        return re.sub(r"<([a-z][a-z0-9_]*)>", lambda found: values.get(found[1], found[0]), template.text)

    @classmethod
    def rendered_problems(
        cls, campaign_options: BaseModel, template: ProviderTemplate, parts: Mapping[str, str]
    ) -> list[str]:
        assert isinstance(campaign_options, ZaloCampaignOptions)
        name = campaign_options.text_param
        limit = dict(template.params).get(name or "")
        text = parts.get("txt", "").strip()
        if name is None or limit is None or len(text) <= limit:
            return []
        return [
            f"the Zalo text is {len(text)} characters, over the {limit} that ZNS template "
            f"{template.template_id} allows for '{name}'"
        ]

    @classmethod
    def check_content(cls, parts: Mapping[str, str], campaign_options: BaseModel) -> list[str]:
        if isinstance(campaign_options, ZaloCampaignOptions) and not campaign_options.template_id:
            return ["the campaign names no ZNS template for Zalo (template_id)"]
        return []

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        self.dialect.report_url = f"{self.report_url}/{self.dialect.name}" if self.report_url else None
        messages = [message_of(item) for item in batch]
        if isinstance(self.dialect, FileDialect):
            return self.dialect.send_all(messages)
        return [self.dialect.send(message) for message in messages]

    @property
    def reports_delivery(self) -> bool:
        """Whether each message names `report_url` (eSMS's does; Zalo's webhook address is set once, at Zalo)."""
        return isinstance(self.dialect, EsmsZaloDialect)

    def close(self) -> None:
        self.http.close()
