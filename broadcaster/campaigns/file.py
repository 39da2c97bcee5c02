"""Campaign files (YAML): reading and structural validation.

Checks that need the database (issuer, directory, templates) live in `broadcaster.campaigns.store`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from broadcaster.cron import cron_trigger
from broadcaster.locales import Locale
from broadcaster.models import Priority
from broadcaster.problems import TAG_PREFIX, InvalidInput, Problem, from_validation_error
from broadcaster.yaml_files import SLUG, OneLine, read_yaml

# Dates a campaign may name: wide enough for any real campaign, narrow enough that the window's last
# instant and every time-zone conversion stay representable (9999-12-31 plus a day is not).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def _plausible(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{day.isoformat()} is not a date a campaign can use (from {EARLIEST.year} to {LATEST.year})")
    return day


def _plausible_moment(moment: datetime) -> datetime:
    _plausible(moment.date())
    return moment


CampaignDate = Annotated[date, AfterValidator(_plausible)]
CampaignMoment = Annotated[datetime, AfterValidator(_plausible_moment)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OnceRule(StrictModel):
    at: CampaignMoment


class CronRule(StrictModel):
    cron: str
    starts: CampaignDate | None = Field(None, alias="from")
    ends: CampaignDate | None = Field(None, alias="until")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        cron_trigger(value, ZoneInfo("UTC"))  # raises ValueError with the reason
        return value


class SlotsRule(StrictModel):
    slots: list[str] = Field(min_length=1)
    starts: CampaignDate | None = Field(None, alias="from")
    ends: CampaignDate | None = Field(None, alias="until")

    @field_validator("slots")
    @classmethod
    def _each_slot_once(cls, value: list[str]) -> list[str]:
        twice = sorted({slot for slot in value if value.count(slot) > 1})
        if twice:
            raise ValueError(f"the slot {', '.join(repr(slot) for slot in twice)} is named twice: name each slot once")
        return value


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        present = [key for key in ("at", "cron", "slots") if key in value]
    else:
        present = [key for key in ("at", "cron", "slots") if hasattr(value, key)]
    return TAG_PREFIX + present[0] if len(present) == 1 else None


Rules = OnceRule | CronRule | SlotsRule
RuleSpec = Annotated[
    Annotated[OnceRule, Tag(TAG_PREFIX + "at")]
    | Annotated[CronRule, Tag(TAG_PREFIX + "cron")]
    | Annotated[SlotsRule, Tag(TAG_PREFIX + "slots")],
    Discriminator(_rule_tag),
]


class Fallback(StrictModel):
    """Who the channel could not reach gets the campaign's message on another of its channels instead, once:
    a number with no Zalo account gets the SMS. The other channel then sends only these (no timetable of its
    own), so nobody gets both, except where the first channel's outcome is unknown and `when_unknown` says so."""

    channel: str = Field(min_length=1, max_length=50)
    # No delivery report this many minutes after the message was accepted: its fate is unknown.
    wait_minutes: int = Field(60, ge=1, le=24 * 60)
    # Whether a recipient whose first message's fate is unknown gets the fallback too (and may get both).
    when_unknown: bool = True


class ChannelSpec(BaseModel):
    """Audience and timetable of one channel; other keys are that channel's own options.

    A channel without a timetable sends only as another channel's fallback (`Fallback`); the checks say so."""

    model_config = ConfigDict(extra="allow")

    to: list[str] = Field(default_factory=list)
    schedule: list[RuleSpec] = Field(default_factory=list)
    areas: list[str] = Field(default_factory=list)
    fallback: Fallback | None = None

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Validity(StrictModel):
    starts: CampaignDate = Field(alias="from")
    ends: CampaignDate = Field(alias="until")

    def window(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """As local instants: from the first day's start to the last day's end."""
        start = datetime.combine(self.starts, time(0), zone)
        end = datetime.combine(self.ends + timedelta(days=1), time(0), zone)
        return start, end

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.ends < self.starts:
            raise ValueError(f"ends ({self.ends}) before it starts ({self.starts})")
        return self


class CapSource(StrictModel):
    """The CAP alert a campaign was imported from: how other systems name it (DOMAIN §14)."""

    sender: str
    identifier: str
    sent: str


CapCategory = Literal[
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"
]


class CapValue(StrictModel):
    """A CAP <parameter> or <geocode>: a value named in some code system."""

    name: str = Field(max_length=500)
    value: str = Field(max_length=4000)


class CapArea(StrictModel):
    """An <area> of an imported alert that matches no area of ours: kept as the alert wrote it, shown on the
    draft and written again on export, never sent to (the channels reach only our own areas)."""

    description: str = Field(max_length=1000)
    polygons: list[str] = Field(default_factory=list)
    circles: list[str] = Field(default_factory=list)
    geocodes: list[CapValue] = Field(default_factory=list)


class CapResource(StrictModel):
    """A <resource> of an imported alert (a map, a picture), by reference: written again on export."""

    description: str = Field(max_length=1000)
    mime_type: str = Field(max_length=200)
    size: int | None = Field(None, ge=0)
    uri: str | None = Field(None, max_length=2000)
    digest: str | None = Field(None, max_length=200)


class CapInfo(StrictModel):
    """What one <info> of an imported alert said beyond the texts: kept so that the draft shows it and the
    alert exported again says it (every category, the sender's name, its web page, its parameters, its
    audience, event codes and resources)."""

    categories: list[CapCategory] = Field(default_factory=list)
    sender_name: str | None = Field(None, max_length=1000)
    web: str | None = Field(None, max_length=2000)
    parameters: list[CapValue] = Field(default_factory=list)
    audience: str | None = Field(None, max_length=1000)
    event_codes: list[CapValue] = Field(default_factory=list)  # the event in other systems (SAME, a profile's list)
    resources: list[CapResource] = Field(default_factory=list)
    # Its areas that match no area of ours, as this <info> names them (each language names them its way).
    areas_outside: list[CapArea] = Field(default_factory=list)
    # The lines where the alert gave this <info> again but for its areas (joined to it), so the draft says so.
    joined_lines: list[int] = Field(default_factory=list)


class CapSpec(StrictModel):
    """How the campaign is published as CAP 1.2 (DOMAIN §10): a test or an exercise is marked as such."""

    status: Literal["Actual", "Exercise", "Test"] = "Actual"
    category: CapCategory = "Safety"
    source: CapSource | None = None
    # An imported alert's own details, by locale (the <info> language), its areas outside our list among them
    # (None, not empty, when there are none: a campaign's stored spec stays as it was).
    infos: dict[Locale, CapInfo] | None = None


class CampaignSpec(StrictModel):
    campaign: str = Field(pattern=SLUG, max_length=100)
    issuer: str
    number: OneLine = Field(min_length=1)
    subject: OneLine = Field(min_length=1)
    priority: Literal["ordinary", "priority", "emergency"] = Priority.ORDINARY.value
    valid: Validity
    dated: CampaignDate | None = Field(None, alias="date")
    template: str = Field(pattern=SLUG)
    locales: list[Locale] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    channels: dict[str, ChannelSpec] = Field(min_length=1)
    cap: CapSpec | None = None

    def window(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The validity window as local instants: from the first day's start to the last day's end."""
        return self.valid.window(zone)

    def normalised(self) -> dict[str, Any]:
        """The spec as plain JSON-able data, as stored and as compared for the audit log."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def parse_campaign(data: Any, source: str) -> CampaignSpec:
    """Structural validation: every problem at once, each with its field path."""
    if not isinstance(data, dict):
        raise InvalidInput(source, [Problem(source, "a campaign file must be a mapping of fields")])
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(source, from_validation_error(exc)) from None


def load_campaign_file(path: Path) -> CampaignSpec:
    return parse_campaign(read_yaml(path), str(path))


def first_cron_fire(rule: CronRule, spec: CampaignSpec, zone: ZoneInfo) -> datetime | None:
    return first_fire(rule, spec.valid, zone)


def first_fire(rule: CronRule, valid: Validity, zone: ZoneInfo) -> datetime | None:
    start = datetime.combine(rule.starts or valid.starts, time(0), zone)
    end = datetime.combine((rule.ends or valid.ends) + timedelta(days=1), time(0), zone)
    fire: datetime | None = cron_trigger(rule.cron, zone).get_next_fire_time(None, start)
    return fire if fire is not None and fire < end else None
