"""The contract every channel adapter meets, and the registry that finds adapters.

An adapter builds a provider request from rendered bulletins, sends it, and parses one result per
recipient. It never sleeps, loops or retries: the core decides what happens next from the result.
"""

from __future__ import annotations

import enum
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, SecretStr
from pydantic_settings import BaseSettings

from broadcaster.clock import Clock, SystemClock
from broadcaster.errors import ConfigurationError
from broadcaster.masking import MASK, mask_secrets

ENTRY_POINT_GROUP = "broadcaster.channels"


class RecipientKind(enum.StrEnum):
    """Which part of the directory a channel addresses."""

    AGENCY = "agency"
    SUBSCRIBER = "subscriber"
    STATION = "station"
    PAGE = "page"

    @property
    def plural(self) -> str:
        return "agencies" if self is RecipientKind.AGENCY else f"{self.value}s"


class Outcome(enum.StrEnum):
    """What happened to one recipient: a closed set."""

    SENT = "sent"  # handed over and confirmed (SMTP 250, a post id, a file written)
    SCHEDULED = "scheduled"  # handed over to go out at a set time (a scheduled post); `confirm` learns the rest
    ACCEPTED = "accepted"  # taken by a provider that reports delivery later (SMS gateways)
    INVALID_RECIPIENT = "invalid_recipient"  # this address can never receive: do not retry
    REJECTED = "rejected"  # the provider refused the message for good: do not retry
    FAILED = "failed"  # did not go out; `retryable` says whether trying again may help


# ---- what an adapter is given: typed, so that a misspelt fact is an error mypy reports ---------------------


@dataclass(frozen=True)
class AgencyFacts:
    """What the directory says of an agency (one of its addresses is the recipient)."""

    kind: ClassVar[RecipientKind] = RecipientKind.AGENCY
    key: str = ""
    groups: tuple[str, ...] = ()
    area: str | None = None
    name_en: str | None = None  # the name English letters use


@dataclass(frozen=True)
class SubscriberFacts:
    """What the directory says of a subscriber's number."""

    kind: ClassVar[RecipientKind] = RecipientKind.SUBSCRIBER
    area: str | None = None
    opted_out: bool = False
    opted_out_on: date | None = None
    outside_areas: bool = False  # reached although outside the campaign's areas (a preview may include them)


@dataclass(frozen=True)
class StationFacts:
    """What the directory says of a radio station."""

    kind: ClassVar[RecipientKind] = RecipientKind.STATION
    folder: str = ""  # its folder inside the radio root; empty: named after the station
    slots: Mapping[str, str] = field(default_factory=dict)  # slot name → local time, "05:30"
    locales: tuple[str, ...] = ()  # the languages it airs, the first its own
    area: str | None = None


@dataclass(frozen=True)
class PageFacts:
    """What the directory says of a Facebook page (its page id is the recipient's address)."""

    kind: ClassVar[RecipientKind] = RecipientKind.PAGE
    slug: str = ""
    token_secret: str = ""  # the environment variable holding the page's token, BROADCASTER_FACEBOOK_TOKEN_…
    name_en: str | None = None


RecipientFacts = AgencyFacts | SubscriberFacts | StationFacts | PageFacts
FACTS: dict[RecipientKind, type[RecipientFacts]] = {
    facts.kind: facts for facts in (AgencyFacts, SubscriberFacts, StationFacts, PageFacts)
}
_Facts = TypeVar("_Facts", AgencyFacts, SubscriberFacts, StationFacts, PageFacts)


def facts_from_json(kind: RecipientKind, stored: Mapping[str, Any] | None) -> RecipientFacts:
    """A recipient's facts as a delivery row keeps them (JSON); keys this version does not know are left."""
    facts = FACTS[kind]
    known = {item.name for item in fields(facts)}
    values: dict[str, Any] = {}
    for name, value in (stored or {}).items():
        if name not in known or value is None:
            continue
        if isinstance(value, list):
            value = tuple(value)
        elif name == "opted_out_on" and isinstance(value, str):
            value = date.fromisoformat(value)
        values[name] = value
    return facts(**values)


def facts_to_json(facts: RecipientFacts) -> dict[str, Any]:
    """The facts a delivery row keeps, as JSON (what `facts_from_json` reads back); those not known left out."""
    values = asdict(facts)
    return {
        name: value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
        for name, value in values.items()
        if value is not None
    }


@dataclass(frozen=True)
class Recipient:
    address: str  # e-mail, E.164 phone, station slug or page id
    facts: RecipientFacts  # what the directory says of it, by kind
    name: str = ""
    locale: str | None = None  # the language it gets, where the directory or the delivery says

    @property
    def kind(self) -> RecipientKind:
        return self.facts.kind

    @property
    def station(self) -> StationFacts:
        return self._facts(StationFacts)

    @property
    def page(self) -> PageFacts:
        return self._facts(PageFacts)

    @property
    def slots(self) -> Mapping[str, str]:
        """A station's slot times; other recipients have none."""
        return self.facts.slots if isinstance(self.facts, StationFacts) else {}

    def _facts(self, wanted: type[_Facts]) -> _Facts:
        if not isinstance(self.facts, wanted):
            raise TypeError(f"a {self.kind} recipient has no {wanted.kind} facts")
        return self.facts


@dataclass(frozen=True)
class Letter:
    """The campaign's document and who issues it: a letter's From, number and date, a script's properties."""

    issuer: str  # the issuer's slug
    sender_name: str  # the issuing body in the bulletin's language
    sender_email: str | None  # its address, a letter's Reply-To where the settings give none
    number: str  # the document's number, "881/STTTT-TTr" (with its date, it names the letter's PDF)
    subject: str
    dated: date | None


@dataclass(frozen=True)
class Script:
    """What reading a bulletin aloud needs."""

    slot: str | None  # the station slot it airs in ("morning"), None outside slot rules
    reading_rate: float  # syllables per second, for its reading time and draft audio
    region: str  # the accent of the draft audio's voice: "south", "north"…


@dataclass(frozen=True)
class Bulletin:
    """One rendered bulletin for one recipient. `key` is the delivery's idempotency key.

    The parts shared by every recipient of one moment and language (`options`, `letter`, `script`) are built
    once by the core and shared by reference.
    """

    key: str
    recipient: Recipient
    parts: Mapping[str, str]  # rendered template parts by name: "txt", "html", "subject"…
    campaign: str
    priority: str
    locale: str
    fire_at: datetime  # the occurrence's time: when a script airs, when a scheduled post is published
    options: BaseModel  # this channel's campaign options, validated (the adapter's `CampaignOptions`)
    letter: Letter
    script: Script
    content_dir: Path  # the content folder, where a campaign's pictures are
    attempt: int = 1  # the delivery's attempt this is, from 1
    # Whether an earlier attempt may have reached the provider unanswered; None where the core does not know.
    unanswered_before: bool | None = None


@dataclass(frozen=True)
class Result:
    key: str
    outcome: Outcome
    provider_id: str | None = None
    reason: str = ""
    retryable: bool = False
    retry_after: float | None = None  # seconds the provider asked us to wait
    # The request may have reached the provider though no answer came (a timeout, a reset after sending):
    # the core remembers it, and the delivery can then no longer end plain `failed`.
    ambiguous: bool = False
    # The provider says it already has a message with this key (eSMS 124). Whether that is our own earlier
    # attempt or someone else's key is for the core to decide: only it knows whether an attempt went unanswered.
    duplicate: bool = False
    response: str | None = None  # the provider's raw answer, kept with a failed attempt

    @classmethod
    def failed(
        cls,
        key: str,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        ambiguous: bool = False,
        response: str | None = None,
    ) -> Result:
        return cls(
            key,
            Outcome.FAILED,
            reason=reason,
            retryable=retryable,
            retry_after=retry_after,
            ambiguous=ambiguous,
            response=response,
        )


class ReportStatus(enum.StrEnum):
    """What a delivery report says about one message (DOMAIN §11)."""

    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    INTERIM = "interim"  # pending approval, waiting to send, sent to the telco: nothing final yet


@dataclass(frozen=True)
class Report:
    """One delivery report, pushed by a provider or pulled from it, matched by key or provider id."""

    status: ReportStatus
    key: str | None = None  # the idempotency key we sent (eSMS RequestId, the generic gateway's id)
    provider_id: str | None = None  # the provider's message id (eSMS SMSID, SpeedSMS tranId)
    address: str | None = None  # E.164 phone, where the report names it
    reason: str = ""  # the telco's reason for an undelivered message
    raw: str = ""  # the report as it came, for the record


class ChannelError(Exception):
    """A whole request failed. Carries the reason and, where there was one, the provider's answer."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        reason: str,
        *,
        response: str | None = None,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.retry_after = retry_after
        self.ambiguous = ambiguous  # the request may have been taken although no answer came


class TransientError(ChannelError):
    """Trying again later may succeed: timeouts, resets, 5xx, rate limits."""

    retryable = True


class PermanentError(ChannelError):
    """Will not succeed until a person acts: bad credentials, unknown sender name, expired token."""


@dataclass(frozen=True)
class Limits:
    """What a provider allows, declared as data so the core can plan batches and rates."""

    max_batch: int = 1
    max_length: int | None = None
    idempotency_key: bool = False
    rate_per_second: float = 10.0
    links_allowed: bool = True


class NoCampaignOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelAdapter(ABC):
    """Base of every adapter: what the core asks of every channel.

    Subclasses set `name`, `recipient_kind`, `default_limits`, `Options` (settings read from the
    environment, secrets as `SecretStr`) and `CampaignOptions` (per-campaign options allowed in
    a campaign file's channel section), and implement `send`. What only some channels can do is a small
    protocol of its own below (`ReportsDelivery`, `LooksUpReports`, `ConfirmsPosts`, `SchedulesAhead`,
    `ChecksRecipients`, `ChecksReadAloud`): an adapter has it by having its members, and the core asks
    with isinstance (issubclass for an adapter's class) before it calls one.
    """

    name: ClassVar[str]
    recipient_kind: ClassVar[RecipientKind]
    default_limits: ClassVar[Limits] = Limits()
    # The provider refuses a message whose text is the same as an earlier one (Facebook's error 506).
    refuses_repeats: ClassVar[bool] = False
    Options: ClassVar[type[BaseSettings]]
    CampaignOptions: ClassVar[type[BaseModel]] = NoCampaignOptions

    def __init__(self, options: BaseSettings, *, output_dir: Path, clock: Clock | None = None) -> None:
        self.options = options
        self.output_dir = output_dir
        self.clock: Clock = clock or SystemClock()  # what a decision by the time asks (tests give their own)

    @property
    def limits(self) -> Limits:
        """Limits of this configured adapter (an SMS gateway's depend on its dialect)."""
        return self.default_limits

    def open(self) -> None:  # noqa: B027  (a hook with nothing to do by default)
        """Open connections. Called once before the first `send`; adapters without any keep this."""

    def close(self) -> None:  # noqa: B027
        """Release connections. Safe to call more than once."""

    @abstractmethod
    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        """Send up to `self.limits.max_batch` bulletins; return exactly one result per bulletin, same keys.

        Raise `TransientError` or `PermanentError` when the request as a whole failed and no
        recipient got it; return per-recipient results otherwise.
        """

    @classmethod
    def adapt(cls, parts: Mapping[str, str], campaign_options: BaseModel) -> dict[str, str]:
        """Final touches to rendered parts that depend on this channel's campaign options."""
        return dict(parts)

    @classmethod
    def check_content(cls, parts: Mapping[str, str], campaign_options: BaseModel) -> list[str]:
        """Problems with one rendered bulletin that this channel cannot send (one sentence each)."""
        text = parts.get("txt", "")
        limit = cls.default_limits.max_length
        if limit is not None and len(text) > limit:
            return [f"the {cls.name} text is {len(text)} characters, over the limit of {limit}"]
        return []

    def __enter__(self) -> ChannelAdapter:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---- what only some adapters can do ------------------------------------------------------------------


@runtime_checkable
class ReportsDelivery(Protocol):
    """Its provider calls back with delivery reports, at an address sent with each message (eSMS)."""

    report_url: str | None  # where the provider calls back; set by the worker

    @property
    def reports_delivery(self) -> bool:
        """Whether this configured adapter names `report_url` to its provider (an SMS gateway's dialect says)."""
        ...


@runtime_checkable
class ReceivesCallbacks(Protocol):
    """Its providers push delivery reports to an address of ours, `/hooks/<channel>/<token>/<form>`, each in
    a form of its own (an SMS gateway's dialect); the core routes a callback by channel and form and never
    reads one itself."""

    @classmethod
    def callback_forms(cls) -> Sequence[str]:
        """The forms of callback this channel reads, by the name that ends their address."""
        ...

    @classmethod
    def parse_callback(cls, form: str, query: Mapping[str, str], body: bytes) -> list[Report]:
        """The delivery reports in one callback (its query string and raw body); ValueError when it is not one."""
        ...


@runtime_checkable
class SignsCallbacks(Protocol):
    """Some of its providers sign their callbacks (Zalo's webhook); the core asks before reading one."""

    @classmethod
    def check_signature(cls, form: str, headers: Mapping[str, str], body: bytes) -> str | None:
        """A sentence when a callback of this form is not signed as its provider signs (headers by lower-case
        name, the raw body); None when it is, or when callbacks of this form carry no signature."""
        ...


@dataclass(frozen=True)
class ProviderTemplate:
    """A message template a provider approved (a Zalo OA's ZNS template), as the directory keeps it: fixed text
    with named parameters, each with its maximum length."""

    template_id: str
    name: str
    text: str  # the approved text, parameters written <name>
    params: tuple[tuple[str, int], ...]  # (name, maximum length), in the template's order


@runtime_checkable
class FillsTemplates(Protocol):
    """Its messages are a provider's approved template filled with parameters; the core finds the template the
    campaign names in the directory and asks the adapter what is wrong with the campaign's values."""

    @classmethod
    def template_named(cls, campaign_options: BaseModel) -> str | None:
        """The template id the campaign's options name; None where they name none."""
        ...

    @classmethod
    def template_problems(cls, campaign_options: BaseModel, template: ProviderTemplate | None) -> list[str]:
        """Problems of the campaign's values for the template (None: the directory does not know it), one
        sentence each."""
        ...

    @classmethod
    def preview(cls, campaign_options: BaseModel, template: ProviderTemplate, parts: Mapping[str, str]) -> str:
        """The message as its recipient will see it: the template's text with the campaign's values."""
        ...

    @classmethod
    def rendered_problems(
        cls, campaign_options: BaseModel, template: ProviderTemplate, parts: Mapping[str, str]
    ) -> list[str]:
        """Problems of one rendered bulletin for the template (the text over its parameter's length)."""
        ...


@runtime_checkable
class KeepsFilesForRecipients(Protocol):
    """What it hands over are files its recipients come to fetch (a station's script, the script as a
    document, its draft readings); the station portal serves them by the delivery's provider id, through
    these three questions, without knowing how they were written."""

    def kept_facts(self, written: str) -> Mapping[str, Any] | None:
        """What was written down beside the file at `written` (reading time, document, readings), or None."""
        ...

    def kept_file(self, written: str, kind: str) -> Path | None:
        """The file of one kind beside `written` (txt, docx, mp3…), if it exists inside the adapter's folder."""
        ...

    def media_type(self, kind: str) -> str:
        """The media type a file of this kind is served as."""
        ...


@runtime_checkable
class LooksUpReports(Protocol):
    """Its provider can be asked what became of an accepted message (the report pull)."""

    @property
    def looks_up_reports(self) -> bool:
        """Whether this configured adapter's provider can be asked anything (an SMS gateway's dialect says)."""
        ...

    def look_up_report(self, provider_id: str, address: str) -> Report | None:
        """What the provider says now about an accepted message; None when it cannot say (yet). Raise
        ChannelError when the provider could not be asked."""
        ...


@runtime_checkable
class ConfirmsPosts(Protocol):
    """It hands messages over to go out at a set time (Outcome.SCHEDULED) and learns afterwards whether they did."""

    def confirm(self, provider_id: str, recipient: Recipient) -> Result | None:
        """What became of a message handed over as SCHEDULED, once its time has come: its final result, or
        None while it is still waiting. Raise `ChannelError` when the provider cannot say."""
        ...


@runtime_checkable
class SchedulesAhead(Protocol):
    """Some campaigns hand their messages over before their time (a scheduled post)."""

    @classmethod
    def schedules_ahead(cls, campaign_options: Mapping[str, Any]) -> bool:
        """Whether a campaign with these options hands its messages over ahead of their time."""
        ...


@runtime_checkable
class ChecksRecipients(Protocol):
    """It can say, before sending, that a recipient cannot be reached as configured."""

    def check_recipient(self, recipient: Recipient) -> str | None:
        """A sentence when this adapter could not send to the recipient as configured."""
        ...


@runtime_checkable
class ChecksReadAloud(Protocol):
    """Its bulletins are read aloud, so their texts are checked as an announcer reads them."""

    @classmethod
    def check_read_aloud(cls, parts: Mapping[str, str]) -> list[str]:
        """Problems with a bulletin as it will be read aloud (numbers in words), one sentence each."""
        ...

    @classmethod
    def left_to_decode(cls, parts: Mapping[str, str]) -> list[str]:
        """What the reader would have to decode in the text as read aloud (each not a word), for the composer
        to ask a reading of."""
        ...


def read_aloud_problems(adapter: type[ChannelAdapter], parts: Mapping[str, str]) -> list[str]:
    """A channel's read-aloud problems with a bulletin; none for a channel that is not read aloud."""
    return adapter.check_read_aloud(parts) if issubclass(adapter, ChecksReadAloud) else []


@dataclass(frozen=True)
class Credential:
    """An access token and the single-use refresh token that replaces it (a Zalo OA's), with when the access
    token stops working; None where the provider did not say."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None = None
    # Nothing is asked of the provider with this credential before then (its daily quota is used up): kept
    # with the credential, so one worker's answer holds every worker back.
    held_until: datetime | None = None
    held_because: str | None = None  # the provider's answer that holds it, in one sentence

    def __repr__(self) -> str:  # never the tokens themselves, wherever a credential is printed or logged
        return f"Credential(expires_at={self.expires_at!r}, held_until={self.held_until!r})"


class CredentialStore(ABC):
    """Where an adapter keeps a credential that turns over, by name, shared by every worker.

    The core gives adapters a store that keeps them in the database (an adapter may not import it); the
    default keeps them in memory, for one process.
    """

    @abstractmethod
    def current(self, name: str, seed: Credential | None = None) -> Credential | None:
        """The credential kept under `name`; where none is kept yet, `seed` is kept and returned."""

    @abstractmethod
    def renew(self, name: str, stale: Credential, refresh: Callable[[Credential], Credential]) -> Credential:
        """Replace `stale` by what `refresh(stale)` returns, once for every worker: the refresh is called
        under a lock held until the new credential is kept, and where another worker has already replaced
        `stale`, its replacement is returned without calling `refresh`. What `refresh` raises is raised."""

    @abstractmethod
    def hold(self, name: str, until: datetime, because: str) -> None:
        """Say that nothing may be asked with the credential kept under `name` before `until`, and why (a later
        hold already kept stays); every worker's next `current` reads it, and the console shows it."""


class MemoryCredentials(CredentialStore):
    """Credentials kept in this process only (tests, the demo, a single worker)."""

    def __init__(self) -> None:
        self._kept: dict[str, Credential] = {}
        self._lock = threading.Lock()

    def current(self, name: str, seed: Credential | None = None) -> Credential | None:
        with self._lock:
            if name not in self._kept and seed is not None:
                self._kept[name] = seed
            return self._kept.get(name)

    def renew(self, name: str, stale: Credential, refresh: Callable[[Credential], Credential]) -> Credential:
        with self._lock:
            kept = self._kept.get(name, stale)
            if kept.refresh_token != stale.refresh_token:
                return kept
            self._kept[name] = fresh = replace(refresh(kept), held_until=kept.held_until)
            return fresh

    def hold(self, name: str, until: datetime, because: str) -> None:
        with self._lock:
            kept = self._kept.get(name)
            if kept is not None and (kept.held_until is None or kept.held_until < until):
                self._kept[name] = replace(kept, held_until=until, held_because=because)


@runtime_checkable
class KeepsCredentials(Protocol):
    """It sends with a credential that turns over; the worker gives it the store every worker shares."""

    credentials: CredentialStore

    @property
    def keeps_credentials(self) -> bool:
        """Whether this configured adapter has such a credential (a Zalo dialect says)."""
        ...


@lru_cache(maxsize=1)
def registered_channels() -> dict[str, type[ChannelAdapter]]:
    """All adapters declared in the `broadcaster.channels` entry-point group, by name."""
    found: dict[str, type[ChannelAdapter]] = {}
    origins: dict[str, str] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found:
            raise ConfigurationError(
                f"channel name '{entry.name}' is declared twice: by {origins[entry.name]} and by {entry.value}"
            )
        adapter = entry.load()
        if not (isinstance(adapter, type) and issubclass(adapter, ChannelAdapter)):
            raise ConfigurationError(f"entry point '{entry.name}' ({entry.value}) is not a ChannelAdapter")
        found[entry.name] = adapter
        origins[entry.name] = entry.value
    return found


def configured_adapter(name: str, output_dir: Path, clock: Clock) -> ChannelAdapter:
    """An adapter built from its settings; ConfigurationError in one sentence when they are wrong."""
    from broadcaster.settings import channel_settings

    adapter = channel_class(name)
    return adapter(channel_settings(adapter.Options), output_dir=output_dir, clock=clock)


def describe_options(options: BaseSettings) -> dict[str, str]:
    """Settings as they may be shown: every secret masked, secrets inside URLs too."""
    shown = {}
    for field_name, value in options:
        if value is None:
            continue
        shown[field_name] = MASK if isinstance(value, SecretStr) else mask_secrets(str(value))
    return shown


def channel_class(name: str) -> type[ChannelAdapter]:
    channels = registered_channels()
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none"
        raise ConfigurationError(f"unknown channel '{name}' (known channels: {known})")
    return channels[name]
