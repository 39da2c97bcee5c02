"""The data model. Everything that matters lives here; the scheduler and workers only derive from it.

Datetimes are stored as naive UTC and returned as aware UTC on every database, so SQLite and
PostgreSQL behave identically.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from broadcaster.clock import system_now


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


JSONType = JSON().with_variant(JSONB(), "postgresql")
# A JSON column whose None is SQL NULL (not the JSON null), so that `IS NULL` finds it.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class Status(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# Statuses whose campaigns may send.
SENDING_STATUSES = frozenset({Status.APPROVED, Status.ACTIVE})


class Priority(enum.StrEnum):
    """Circular 39/2020/TT-BTTTT priorities (DOMAIN §9)."""

    ORDINARY = "ordinary"
    PRIORITY = "priority"
    EMERGENCY = "emergency"


class AreaSuccessor(Base):
    """Which areas took over from one that ended: a former district → the communes that replaced it."""

    __tablename__ = "area_successors"

    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), primary_key=True)


class Area(Base):
    """A province, district, commune… Units merge and end (DOMAIN §13): each has a validity and may name
    the areas that replaced it, so an audience written for a former district still finds its stations."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)  # the last day it existed

    parent: Mapped[Area | None] = relationship(remote_side=[id])
    successors: Mapped[list[Area]] = relationship(
        secondary="area_successors",
        primaryjoin="Area.id == AreaSuccessor.area_id",
        secondaryjoin="Area.id == AreaSuccessor.successor_id",
        order_by="Area.code",
    )

    def ended(self, on: date) -> bool:
        return self.valid_until is not None and self.valid_until < on


class Issuer(Base):
    """A body that signs letters. Bodies merge and rename (DOMAIN §1), so all of this is data."""

    __tablename__ = "issuers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(200))
    unit_name: Mapped[str] = mapped_column(String(200))  # in running text: "Sở Thông tin và Truyền thông"
    unit_short: Mapped[str] = mapped_column(String(100))  # where space is short: "Sở TT&TT"
    symbol: Mapped[str] = mapped_column(String(50))
    place: Mapped[str] = mapped_column(String(100))
    signer_authority: Mapped[str] = mapped_column(String(50), default="")
    signer_title: Mapped[str] = mapped_column(String(100))
    signer_name: Mapped[str] = mapped_column(String(100), default="")
    hotlines: Mapped[list[Any]] = mapped_column(default=list)
    region: Mapped[str] = mapped_column(String(10), default="south")
    default_locale: Mapped[str] = mapped_column(String(10), default="vi")
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(200))
    hashtags: Mapped[list[Any]] = mapped_column(default=list)
    # The reading dictionary: abbreviation → what an announcer says ("UBND" → "Ủy ban nhân dân", DOMAIN §15).
    readings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    # How a document symbol is read aloud: "brief" ("số 881 của Sở …", the body once) or "none" (the number).
    symbol_reading: Mapped[str] = mapped_column(String(10), default="brief", server_default="brief")
    # The issuer's names in English, for English renderings: {"body", "unit", "unit_name", "unit_short"};
    # a name left out stays as written above.
    english: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    # Numbers the issuer calls or answers from besides its hotlines, each with what it is for: the
    # public verification page answers "is this number theirs?" from these and the hotlines.
    official_numbers: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    # What citizens are told is genuine is a two-person decision: hotlines and official numbers changed by an
    # account wait here, `{"hotlines": […], "official_numbers": […]}`, until another account approves them.
    proposed_numbers: Mapped[dict[str, Any] | None] = mapped_column()
    proposed_by: Mapped[str | None] = mapped_column(String(100))
    proposed_at: Mapped[datetime | None] = mapped_column()

    area: Mapped[Area | None] = relationship()


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))  # the name English renderings use, when given
    locale: Mapped[str | None] = mapped_column(String(10))  # None: the campaign's first locale
    emails: Mapped[list[Any]] = mapped_column(default=list)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))

    area: Mapped[Area | None] = relationship()
    group_rows: Mapped[list[AgencyGroup]] = relationship(cascade="all, delete-orphan", order_by="AgencyGroup.group")

    @property
    def groups(self) -> list[str]:
        return [row.group for row in self.group_rows]


class AgencyGroup(Base):
    __tablename__ = "agency_groups"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    group: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Station(Base):
    """A district or commune radio station; slots map a name to a local time, e.g. morning → 05:30."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    locales: Mapped[list[Any]] = mapped_column(default=list)
    folder: Mapped[str] = mapped_column(String(200))
    slots: Mapped[dict[str, Any]] = mapped_column(default=dict)

    area: Mapped[Area | None] = relationship()


class SubscriberList(Base):
    __tablename__ = "subscriber_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # A test list (staff's own phones): "send to the test list" goes to these, never to the public.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("list_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("subscriber_lists.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    locale: Mapped[str] = mapped_column(String(10), default="vi")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_on: Mapped[date | None] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(200))  # "Họ và tên" when the list gives it


class FacebookPage(Base):
    __tablename__ = "facebook_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    page_id: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300))
    # The name of the environment variable that holds the page token; never the token itself.
    token_secret: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(300))  # the name English renderings use, when given
    locale: Mapped[str | None] = mapped_column(String(10))  # None: the campaign's first locale


class MessageTemplate(Base):
    """A provider's approved message template (a Zalo OA's ZNS template), imported into the directory: its
    fixed text and its parameters, each with its maximum length, as [[name, length], …] in order."""

    __tablename__ = "provider_templates"

    channel: Mapped[str] = mapped_column(String(30), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    account: Mapped[str | None] = mapped_column(String(50))  # the OA it belongs to, where the file names it
    name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    params: Mapped[list[Any]] = mapped_column()


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    number: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(20), default=Priority.ORDINARY)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    locales: Mapped[list[Any]] = mapped_column(default=list)
    template: Mapped[str] = mapped_column(String(100))
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT, index=True)
    status_before_pause: Mapped[str | None] = mapped_column(String(20))
    # The normalised campaign file as loaded: what was approved, field for field.
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The campaign's own texts: template name → text (`<template>/<locale>/<channel>.<part>.j2` and the
    # layouts they reach), copied from a shared template when the campaign was made and edited only here.
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    created_by: Mapped[str] = mapped_column(String(100))
    submitted_by: Mapped[str | None] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    # The number of the CampaignVersion that workers render from; None until a version is approved.
    approved_version: Mapped[int | None] = mapped_column(Integer)
    # Fire times from this instant on are the scheduler's to send (set on approval and on resume);
    # earlier ones were never due: the campaign was not approved, or was paused, then.
    sendable_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    updated_at: Mapped[datetime] = mapped_column(default=system_now, onupdate=system_now)

    issuer: Mapped[Issuer] = relationship()
    channels: Mapped[list[CampaignChannel]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignChannel.id"
    )
    revision: Mapped[CampaignRevision | None] = relationship(back_populates="campaign", cascade="all, delete-orphan")


class CampaignVersion(Base):
    """Everything that determines what a campaign sends, fixed when it is submitted.

    `content` holds the campaign document, the text of every template it reaches, the issuer data the
    templates read and the channel options; `fingerprint` is the sha256 of its canonical JSON. Workers
    render only from the approved version, so a file edited on disk afterwards cannot change what goes out.
    """

    __tablename__ = "campaign_versions"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(String(64))
    drafted_by: Mapped[str] = mapped_column(String(100))  # who last edited the campaign before it was fixed
    # Everyone who changed the content since the approval before (two-person rule: none of them approves).
    authors: Mapped[list[Any]] = mapped_column(default=list, server_default=text("'[]'"))
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(default=system_now)
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None] = mapped_column()

    campaign: Mapped[Campaign] = relationship()


class RevisionStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class CampaignRevision(Base):
    """The next content of an approved campaign, drafted beside it while the approved version keeps sending.

    Holds the campaign document and texts as edited; submitting fixes them as a version (`version`), and
    approving that version puts them in the campaign's place in one transaction. At most one per campaign.
    """

    __tablename__ = "campaign_revisions"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column()
    texts: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=RevisionStatus.DRAFT)
    version: Mapped[int | None] = mapped_column(Integer)  # the version fixed when it was submitted
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(default=system_now)
    returned_reason: Mapped[str | None] = mapped_column(Text)
    returned_version: Mapped[int | None] = mapped_column(Integer)  # the version the approver sent back

    campaign: Mapped[Campaign] = relationship(back_populates="revision")


class CampaignChannel(Base):
    __tablename__ = "campaign_channels"
    __table_args__ = (UniqueConstraint("campaign_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(50))
    audience: Mapped[list[Any]] = mapped_column(default=list)
    areas: Mapped[list[Any]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    # Who this channel could not reach gets another channel's message instead: {"channel", "wait_minutes",
    # "when_unknown"} as the campaign file's `fallback` says (`broadcaster.campaigns.file.Fallback`).
    fallback: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)

    campaign: Mapped[Campaign] = relationship(back_populates="channels")
    rules: Mapped[list[Rule]] = relationship(
        back_populates="campaign_channel", cascade="all, delete-orphan", order_by="Rule.position"
    )


class RuleKind(enum.StrEnum):
    ONCE = "once"
    CRON = "cron"
    SLOTS = "slots"


class Rule(Base):
    """A timetable rule. Times are local to the configured zone; `at` is stored as the UTC instant."""

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_channel_id: Mapped[int] = mapped_column(ForeignKey("campaign_channels.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime | None] = mapped_column()
    cron: Mapped[str | None] = mapped_column(String(100))
    slots: Mapped[list[Any] | None] = mapped_column()
    starts: Mapped[date | None] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)

    campaign_channel: Mapped[CampaignChannel] = relationship(back_populates="rules")


class Account(Base):
    """A person (or a station, or another system) who acts: the two-person rule compares these."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (NFC, case-folded, trimmed): names that differ only in spelling are one account.
    login: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # Argon2id; none: tokens only
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    last_login_at: Mapped[datetime | None] = mapped_column()

    station_links: Mapped[list[AccountStation]] = relationship(cascade="all, delete-orphan")


class AccountStation(Base):
    """The stations a station account speaks for; it sees nothing else."""

    __tablename__ = "account_stations"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)


class ConsoleSession(Base):
    """A console sign-in: only a SHA-256 of the cookie's random id is kept, so a copy of the database opens none."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=system_now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    client: Mapped[str | None] = mapped_column(String(100))

    account: Mapped[Account] = relationship()


class ApiToken(Base):
    """A bearer token: only its SHA-256 is kept (tokens are long random strings, so no slow hash is needed)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()

    account: Mapped[Account] = relationship()


class LoginFailures(Base):
    """Recent failed logins per account and per client address, so repeated guesses are slowed down."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "account:<login>" or "address:<ip>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(default=system_now)
    blocked_until: Mapped[datetime | None] = mapped_column()


class IdempotentAnswer(Base):
    """The first answer to a POST carrying an Idempotency-Key, returned again when the POST is retried."""

    __tablename__ = "idempotent_answers"
    __table_args__ = (UniqueConstraint("account_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body: a reused key is refused
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=system_now)


class AuditEntry(Base):
    """Append-only: the migrations add triggers that refuse UPDATE, DELETE, INSERT OR REPLACE and TRUNCATE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    at: Mapped[datetime] = mapped_column(default=system_now)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    client: Mapped[str | None] = mapped_column(String(100))  # the client's address, for web and API actions


class OccurrenceState(enum.StrEnum):
    PENDING = "pending"  # created; its deliveries are not all written yet
    EXPANDED = "expanded"  # one delivery row per recipient is written
    MISSED = "missed"  # its fire time passed beyond the grace while nothing ran: recorded, never sent
    CANCELLED = "cancelled"  # the campaign could no longer send when it was expanded


class Occurrence(Base):
    """One firing of one timetable rule: unique per campaign, channel, rule and fire time."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("campaign_id", "channel", "rule_key", "fire_at"),
        Index("ix_occurrences_state_fire_at", "state", "fire_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    channel: Mapped[str] = mapped_column(String(50))
    # The rule's position in the channel's schedule ("0", "1:morning" for a slot), or "now:…" for send-now.
    rule_key: Mapped[str] = mapped_column(String(100))
    slot: Mapped[str | None] = mapped_column(String(50))
    fire_at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=OccurrenceState.PENDING)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    bypassed_window: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    expanded_at: Mapped[datetime | None] = mapped_column()
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    # A test send of content not yet approved (a draft's): the content it renders, instead of a version.
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    campaign: Mapped[Campaign] = relationship()


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its time, its window or a retry
    SENDING = "sending"  # leased by a worker; a lease that expires without a result makes it pending again
    SENT = "sent"
    ACCEPTED = "accepted"
    # Handed over to go out at a set time (a scheduled Facebook post); `due_at` is when to ask whether it
    # did. It becomes sent (published) or rejected (gone from the page).
    SCHEDULED = "scheduled"
    FAILED = "failed"  # for good: permanent, or out of attempts
    INVALID = "invalid"  # the recipient can never receive
    REJECTED = "rejected"
    SKIPPED = "skipped"  # never sent, on purpose: opted out, outside the areas, campaign cancelled or expired
    # What came back after "accepted" (DOMAIN §11): the telco's delivery report, pushed or pulled.
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"  # the telco could not deliver it; `reason` carries why
    # An attempt's fate was never known (a timeout, a connection reset after sending) and no later answer,
    # report or look-up settled it: possibly delivered, so never counted as plain `failed`.
    UNKNOWN = "unknown"


# Went out (or may have): these count towards the daily cap and as sent.
DONE = frozenset(
    {
        DeliveryState.SENT,
        DeliveryState.ACCEPTED,
        DeliveryState.SCHEDULED,
        DeliveryState.DELIVERED,
        DeliveryState.UNDELIVERED,
        DeliveryState.UNKNOWN,
    }
)
FINAL = DONE | {DeliveryState.FAILED, DeliveryState.INVALID, DeliveryState.REJECTED, DeliveryState.SKIPPED}
# A delivery report may still change these (a report that arrives before the send outcome is recorded
# is kept on the row and applied as the outcome is written).
REPORTABLE = frozenset({DeliveryState.ACCEPTED, DeliveryState.UNKNOWN, DeliveryState.FAILED, DeliveryState.PENDING})


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition, on both databases."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Delivery(Base):
    """The outbox: one row per occurrence and recipient. Its key is the idempotency key sent to providers."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "address"),
        # Partial indexes: the claim index holds only unfinished rows (done_at IS NULL), so it stays the
        # size of the work left however long the outbox's history grows, and a row leaves it once when
        # finished; the daily-cap index holds only finished rows, so the fan-out writes no entry to it.
        Index("ix_deliveries_claim", "channel", "state", "rank", "due_at", **_where("done_at IS NULL")),
        Index("ix_deliveries_recent", "channel", "address", "done_at", **_where("done_at IS NOT NULL")),
        # The console's monitor counts a campaign's deliveries by state from this index alone, never
        # reading the rows, and finds the failed or skipped ones (to group their reasons) without a scan.
        Index("ix_deliveries_occurrence_state", "occurrence_id", "state"),
        # Delivery reports that carry only the provider's message id (SpeedSMS) are matched through it.
        Index("ix_deliveries_provider_id", "provider_id", **_where("provider_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id"))
    channel: Mapped[str] = mapped_column(String(50))
    rank: Mapped[int] = mapped_column(Integer)  # 0 emergency, 1 priority, 2 ordinary: claimed in this order
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(300))
    locale: Mapped[str | None] = mapped_column(String(10))
    details: Mapped[dict[str, Any] | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.PENDING)
    due_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column()
    provider_id: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column()
    # True once any attempt's fate was unknown (timeout, reset after sending, a lease that expired mid-send):
    # the message may have gone out, so it ends `unknown` rather than `failed` unless something settles it.
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The provider's raw answer to the last failed attempt, secrets masked.
    response: Mapped[str | None] = mapped_column(Text)
    # The delivery report (delivered / undelivered) and the telco's reason, kept even when it arrives
    # before the send outcome is written, so the outcome can take it up.
    report: Mapped[str | None] = mapped_column(String(20))
    report_reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None] = mapped_column()
    # "callback" (pushed to the hook, whose token may leak) or "pull" (asked by us): a pull's answer overrides
    # a callback's, so a forged callback cannot outlast the telco's real report.
    report_source: Mapped[str | None] = mapped_column(String(10))
    # The report pull's schedule for this row: when to ask the gateway next (NULL: not asked yet, due once
    # `report_pull_after_minutes` have passed since acceptance) and how often it was asked without a final
    # answer. Each row backs off on its own, so rows that never settle cannot starve the others.
    look_up_at: Mapped[datetime | None] = mapped_column()
    look_ups: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When this recipient, not reached on this channel, was handed to the channel's fallback (`broadcaster.fallback`):
    # set in the transaction that writes the fallback's row, so a recipient is handed on once.
    passed_on_at: Mapped[datetime | None] = mapped_column()
    # Bumped by a statement that counts its own state changes (the worker's lease and outcome writes on SQLite,
    # `broadcaster.counts.fold_written`): SQLite's count triggers leave such rows to it (migration 0030).
    count_mark: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def key(self) -> str:
        return delivery_key(self.occurrence_id, self.address)


class DeliveryAttempt(Base):
    """One attempt of a delivery that did not end it successfully: failed and retried, failed for good,
    unanswered (unknown), refused. Written by the worker in the same transaction as the delivery's outcome.

    Only such attempts have a row: an attempt that succeeds is the delivery row itself (its state, time,
    provider id), so the bulk path, one accepted attempt per delivery, writes nothing here and the
    outbox's write speed is unchanged. A delivery's history is its rows here, then the delivery row when
    it ended successfully."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("deliveries.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first attempt
    at: Mapped[datetime] = mapped_column()
    # The delivery's state after the attempt: pending (to be retried), failed, unknown, rejected, invalid.
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)  # the provider's raw answer, secrets masked


def delivery_key(occurrence_id: int, address: str, installation: str | None = None) -> str:
    """The delivery's idempotency key; the one sent to providers carries the installation's id, so two
    installations (or a database built again) sharing a provider account never send the same key."""
    local = f"o{occurrence_id}:{address}"
    return f"{installation}.{local}" if installation else local


_KEY = re.compile(r"(?:(?P<installation>[0-9a-z]+)\.)?o(?P<occurrence>\d+):(?P<address>.+)")


def parse_delivery_key(key: str) -> tuple[str | None, int, str] | None:
    """(installation, occurrence id, address) of a key made by `delivery_key`, or None."""
    match = _KEY.fullmatch(key)
    if match is None:
        return None
    return match["installation"], int(match["occurrence"]), match["address"]


class DeliveryCount(Base):
    """How many deliveries of an occurrence are in a state, as last folded (see `broadcaster.counts`)."""

    __tablename__ = "delivery_counts"

    occurrence_id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger)


class DeliveryCountChange(Base):
    """A change to a delivery count not folded yet: appended by the outbox's triggers on PostgreSQL, so
    concurrent writers never wait on one another's count rows (see `broadcaster.counts`)."""

    __tablename__ = "delivery_count_changes"
    __table_args__ = (Index("ix_delivery_count_changes_occurrence_id", "occurrence_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    occurrence_id: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(BigInteger)


class DeliveryAreaCount(Base):
    """How many deliveries of an occurrence naming an area ('' for none) are in a state, as last folded (see
    `broadcaster.counts`): the results' breakdown by area reads these, not the outbox."""

    __tablename__ = "delivery_area_counts"

    occurrence_id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger)


class DeliveryAreaCountChange(Base):
    """A change to a delivery count per area not folded yet, appended by the outbox's triggers on PostgreSQL."""

    __tablename__ = "delivery_area_count_changes"
    __table_args__ = (Index("ix_delivery_area_count_changes_occurrence_id", "occurrence_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    occurrence_id: Mapped[int] = mapped_column()
    area: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(BigInteger)


class DeliveryListCount(Base):
    """How many deliveries of an occurrence written for a number on a subscriber list are in a state, as last
    folded (see `broadcaster.counts`): the results' breakdown by list reads these, not the outbox. A number on
    two lists is one delivery, counted under both."""

    __tablename__ = "delivery_list_counts"

    occurrence_id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger)


class DeliveryListCountChange(Base):
    """A change to a delivery count per list not folded yet, appended by the outbox's triggers on PostgreSQL."""

    __tablename__ = "delivery_list_count_changes"
    __table_args__ = (Index("ix_delivery_list_count_changes_occurrence_id", "occurrence_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    occurrence_id: Mapped[int] = mapped_column()
    list_id: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(BigInteger)


class Installation(Base):
    """This installation's identifier: created once with the schema, carried in every key sent to providers."""

    __tablename__ = "installation"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=system_now)


class UnmatchedReport(Base):
    """A delivery report no delivery could be found for yet: an unknown id, or a report that arrived before
    the provider's message id was recorded. The report pull matches them again, and drops them after 7 days."""

    __tablename__ = "unmatched_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    dialect: Mapped[str] = mapped_column(String(30))
    key: Mapped[str | None] = mapped_column(String(320))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(320))
    report: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=system_now)


class SchedulerState(Base):
    """What the scheduler has done: fire times up to `at` have been turned into occurrences."""

    __tablename__ = "scheduler_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    at: Mapped[datetime] = mapped_column()


class SendPace(Base):
    """A channel's (or a provider account's) send rate, shared by every worker: the database-clock time,
    in seconds since the epoch, at which the next message may go (see `broadcaster.pacing`)."""

    __tablename__ = "send_paces"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_free: Mapped[float] = mapped_column(Double)


class KeptCredential(Base):
    """A provider credential that turns over (a Zalo OA's access token and its single-use refresh token),
    shared by every worker: sealed with the installation's secret key (`broadcaster.credentials`), so the
    database and its backups never hold the tokens readable. `expires_at` is the access token's end."""

    __tablename__ = "credentials"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    sealed: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column()
    renewed_at: Mapped[datetime] = mapped_column(default=system_now)
    # Nothing is asked with this credential before then (the provider's daily quota is used up), and why.
    held_until: Mapped[datetime | None] = mapped_column()
    held_because: Mapped[str | None] = mapped_column(Text)


class StationLink(Base):
    """A station's secret link to its portal, for stations without accounts. Only a SHA-256 of the link's
    token is kept; rotating the link replaces it, so the old link stops working at once."""

    __tablename__ = "station_links"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=system_now)
    created_by: Mapped[str] = mapped_column(String(100))


class CampaignFeedLink(Base):
    """Which generation of a campaign's subscribable calendar link is valid. The link's token is an HMAC of
    the campaign and this nonce under the signing secret, so the database holds no usable secret; a
    campaign without a row uses its first link. Rotating replaces the nonce: the old link stops at once."""

    __tablename__ = "campaign_feed_links"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    rotated_at: Mapped[datetime] = mapped_column(default=system_now)
    rotated_by: Mapped[str] = mapped_column(String(100))


class AiringReport(Base):
    """What a station says about one slot's script: aired (at what time) or not aired and why.

    Append-only: a correction is a new report, and the latest one for a delivery is what counts, so the
    history of a slot's confirmations stays readable."""

    __tablename__ = "airing_reports"
    __table_args__ = (Index("ix_airing_reports_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("deliveries.id", ondelete="CASCADE")
    )
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    aired: Mapped[bool] = mapped_column(Boolean)
    aired_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(20))  # equipment, power, emergency, other
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(100))  # the station account, or "link:<station>"
    at: Mapped[datetime] = mapped_column(default=system_now)
