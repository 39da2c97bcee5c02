"""Typed settings from the environment, optionally from a `.env` file.

Every variable is prefixed `BROADCASTER_`. Channel adapters read their own settings (and
secrets) through the same mechanism: see `channel_settings`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv
from pydantic import Field, PositiveFloat, PositiveInt, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from broadcaster.clock import Clock, SystemClock, local_now, today
from broadcaster.errors import ConfigurationError

ENV_PREFIX = "BROADCASTER_"
# A page's token is read from the variable the pages file names. Only names with this prefix may be
# named, so a pages file cannot have another secret (the SMTP password, say) sent to Facebook.
PAGE_TOKEN_PREFIX = ENV_PREFIX + "FACEBOOK_TOKEN_"
_PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """Folder of shipped data (`content` or `config`): inside the installed package, else the source tree."""
    installed = _PACKAGE_DIR / name
    return installed if installed.is_dir() else _PACKAGE_DIR.parent / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    database_url: str = "sqlite:///var/broadcaster.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    content_dir: Path = shipped_dir("content")
    output_dir: Path = Path("var/out")
    user: str | None = None
    # Syllables per second an announcer reads at; loudspeaker reading is slower than broadcast (DOMAIN §8).
    reading_rate: float = 3.5
    # A radio slot a station has not confirmed (aired or not) this many hours after its time is overdue.
    airing_overdue_hours: float = 12
    # Refuse mobile-shaped numbers in ranges the numbering metadata does not list, instead of importing
    # them with a warning (DOMAIN §4: new ranges are in use before the metadata lists them).
    strict_phone_ranges: bool = False

    # Delivery. A fire time missed (the service was down) is still sent, marked late, within its
    # channel's grace in minutes; older ones are recorded as missed and not sent.
    grace_minutes: dict[str, float] = {"email": 240, "sms": 240, "facebook": 240, "radio": 30}
    default_grace_minutes: float = 60
    # Local hours a channel may send in ("HH:MM-HH:MM"); emergency campaigns bypass them (DOMAIN §5).
    send_windows: dict[str, str] = {"sms": "07:00-22:00"}
    # At most this many messages to one address in 24 hours per channel, emergencies excepted (DOMAIN §5).
    daily_caps: dict[str, int] = {"sms": 3}
    retry_max_attempts: int = 6
    retry_base_seconds: float = 30
    retry_max_seconds: float = 3600
    # A worker's claim on a batch; an unfinished claim expires after this and the batch is sent again.
    lease_seconds: float = 300
    claim_batch: PositiveInt = 500
    # Outcomes of this many sends are written in one transaction (and always at the end of a claimed
    # batch). A worker killed in between leaves at most this many sent but unrecorded: those are sent
    # again once their lease expires, which a provider honouring the idempotency key ignores.
    record_every: PositiveInt = 50
    expand_batch: PositiveInt = 5000
    poll_seconds: float = 0.5
    # How often a worker looks for recipients a channel could not reach, to hand them to its fallback
    # (`broadcaster.fallback`): each look reads the fan-out's rows still waiting for a report.
    fallback_seconds: float = Field(10.0, ge=0)
    # Messages per second per channel, shared by every worker of every process, overriding what the
    # adapter declares. Channels that send through one provider account name it in `rate_accounts`
    # and then share one rate: the account's entry in `rates`, or else the channel's.
    rates: dict[str, float] = {}
    rate_accounts: dict[str, str] = {}
    # A scheduled Facebook post is handed to Facebook this many minutes before its time, and Facebook
    # publishes it then (the Graph API takes 10 minutes to 30 days ahead).
    schedule_ahead_minutes: float = Field(60, ge=15, le=40_320)
    # Delivery reports: an accepted SMS without a report this long after it was accepted is looked up at
    # the gateway (DOMAIN §11), by the timetable's report pull every `report_pull_seconds`, at most
    # `report_pull_batch` messages a time.
    report_pull_after_minutes: float = 30
    report_pull_seconds: PositiveFloat = 300
    report_pull_batch: PositiveInt = 500
    # The pull also asks about deliveries a callback settled, and the gateway's answer wins: the callback's
    # token may leak, and a forged report must not outlast the telco's real one. False saves those look-ups.
    report_pull_confirms: bool = True
    # Each row is asked on its own schedule, backing off while the gateway answers with an interim status.
    # An accepted SMS still without a final report this many hours after acceptance ends `unknown` with the
    # reason. At most 7 days: eSMS answers look-ups for the last 7 days only.
    report_pull_valid_hours: float = Field(48, gt=0, le=168)

    # Where the public pages are reached from outside (links in bulletins, CAP `web`, the Atom feed).
    public_url: str = "http://127.0.0.1:8000"
    # CAP `sender`: the installation's name for itself in every alert (default: the public host name).
    cap_sender: str | None = None
    # URL prefixes a CAP alert may be imported from (`broadcaster cap import URL`); none by default.
    cap_import_allow: list[str] = []
    # Requests a client may make to the public verification page and CAP documents per minute.
    public_requests_per_minute: PositiveInt = 60

    # The web app and API. The signing secret signs sessions and links; unset, one is generated into
    # the data folder on first use (file mode 0600) and never printed.
    data_dir: Path = Path("var")
    web_host: str = "127.0.0.1"
    web_port: int = Field(8000, ge=1, le=65535)
    secret_key: SecretStr | None = None
    max_request_bytes: PositiveInt = 1_000_000
    max_upload_bytes: PositiveInt = 20_000_000
    # Behind a reverse proxy: with `proxy_headers` (`broadcaster serve --proxy-headers`), X-Forwarded-For and
    # X-Forwarded-Proto are believed from these addresses or networks only (loopback when none is named), and
    # give the client's address (login throttling, the public page's limit, the audit log) and scheme
    # (Secure cookies). Anyone else could write those headers.
    proxy_headers: bool = False
    trusted_proxies: list[str] = []
    # How the long-running processes log: "text" lines for a terminal, or "json", one object a line, for a
    # log collector (journald, Loki, Elasticsearch). Secrets are masked in both.
    log_format: Literal["text", "json"] = "text"
    # Personal data: phone numbers and e-mail addresses in deliveries finished this many days ago, their
    # attempts and unmatched reports are erased (counts, outcomes and the audit kept). None keeps them.
    retention_days: PositiveInt | None = None
    # A console sign-in ends after this long without a request, and in any case this long after it began.
    console_idle_minutes: PositiveFloat = 60
    console_longest_hours: PositiveFloat = 12

    # Not a setting: the clock every decision by time asks (the system's, unless a test gives another).
    _clock: Clock = PrivateAttr(default_factory=SystemClock)

    @property
    def clock(self) -> Clock:
        return self._clock

    def with_clock(self, clock: Clock) -> Settings:
        """These settings on another clock (tests, rehearsals)."""
        copy = self.model_copy()
        copy._clock = clock
        return copy

    def local_now(self) -> datetime:
        """Now, on the clock, in the configured time zone."""
        return local_now(self._clock, self.zone)

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return today(self._clock, self.zone)

    def warning_page_url(self, slug: str) -> str:
        """The permanent link of a campaign's warning on the public verification page."""
        return f"{self.public_url}/tra-cuu/canh-bao/{slug}"

    @field_validator("public_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"'{value}' is not an http(s) address such as https://canhbao.example.gov.vn")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"'{entry}' is not an IP address or network (like 10.0.0.5 or 10.0.0.0/24)") from None
        return [entry.strip() for entry in value]

    @property
    def proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks whose X-Forwarded-* headers are believed; none unless `proxy_headers` is on."""
        if not self.proxy_headers:
            return ()
        entries = self.trusted_proxies or ["127.0.0.1", "::1"]
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)

    @field_validator("cap_sender")
    @classmethod
    def _a_cap_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or re.search(r"[\s,<&]", value)):
            raise ValueError("a CAP sender has no spaces, commas, '<' or '&' (for example canhbao.example.gov.vn)")
        return value

    @field_validator("send_windows")
    @classmethod
    def _windows_are_hours(cls, value: dict[str, str]) -> dict[str, str]:
        for channel, window in value.items():
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d", window):
                raise ValueError(f"the send window for {channel} must look like 07:00-22:00, not '{window}'")
        return value

    def grace(self, channel: str) -> timedelta:
        return timedelta(minutes=self.grace_minutes.get(channel, self.default_grace_minutes))

    def window(self, channel: str) -> tuple[time, time] | None:
        text = self.send_windows.get(channel)
        if not text:
            return None
        opens, closes = text.split("-")
        return time.fromisoformat(opens), time.max if closes == "24:00" else time.fromisoformat(closes)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a known time zone (for example Asia/Ho_Chi_Minh)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def templates_dir(self) -> Path:
        return self.content_dir / "templates"


def page_token_problem(variable: str) -> str | None:
    """Why `variable` may not hold a page token, or None when it may."""
    if re.fullmatch(re.escape(PAGE_TOKEN_PREFIX) + r"[A-Z0-9_]+", variable):
        return None
    return (
        f"token_secret '{variable}' must name an environment variable starting with {PAGE_TOKEN_PREFIX} "
        f"(like {PAGE_TOKEN_PREFIX}TAY_NINH)"
    )


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_environment(env_file: str | os.PathLike[str] = ".env") -> None:
    """Read `.env` into the environment; variables already set win."""
    load_dotenv(env_file, override=False)


def build_settings(model: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build a settings object, turning validation errors into one sentence naming the variable."""
    prefix = str(model.model_config.get("env_prefix", ""))
    try:
        return model(**overrides)
    except SettingsError as exc:  # a value that should be JSON (a dict or a list) and is not
        found = re.search(r'field "([^"]+)"', str(exc))
        variable = prefix.upper() + (found.group(1).upper() if found else "")
        cause = exc.__cause__
        reason = f" ({cause})" if isinstance(cause, ValueError) else ""
        raise ConfigurationError(
            f"setting {variable} is not valid JSON{reason}: write it as config/.env.example shows"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a check across settings: its message names the variables itself
            raise ConfigurationError(message) from None
        variable = prefix.upper() + "_".join(str(part) for part in first["loc"]).upper()
        raise ConfigurationError(f"setting {variable} is wrong: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    load_environment()
    return build_settings(Settings)


def channel_settings(model: type[SettingsT]) -> SettingsT:
    """Settings for one channel adapter (its own env prefix), read after `.env` is loaded."""
    load_environment()
    return build_settings(model)
