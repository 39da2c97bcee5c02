"""What waits for a staff member: their drafts, campaigns to approve, paused channels and held provider
accounts (with why), recent failures, this week's sends per channel and the fan-outs running now. Read-only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns import revisions, versions
from broadcaster.counts import counts
from broadcaster.models import (
    DONE,
    Campaign,
    CampaignChannel,
    CampaignRevision,
    KeptCredential,
    Occurrence,
    OccurrenceState,
    RevisionStatus,
    Status,
)
from broadcaster.operations.monitoring import FAILED
from broadcaster.operations.sending import FanOut, fan_outs
from broadcaster.outbox import TEST_SEND
from broadcaster.settings import Settings

RECENT_DAYS = 7


@dataclass(frozen=True)
class Waiting:
    slug: str
    number: str
    subject: str
    status: str
    priority: str
    at: datetime
    note: str | None = None  # for a campaign to approve: why this person may not approve it
    revision: bool = False  # what waits is an approved campaign's revision, not the campaign itself
    returned: str | None = None  # why the approver sent it back, while it waits for its drafter


@dataclass(frozen=True)
class PausedChannel:
    slug: str
    subject: str
    channel: str
    why: str | None


@dataclass(frozen=True)
class Failures:
    slug: str
    subject: str
    channel: str
    count: int


@dataclass(frozen=True)
class HeldAccount:
    """A provider account nothing is sent with until a moment (a Zalo OA whose daily quota is used up):
    every campaign's messages through it wait, and go on by themselves then."""

    name: str
    until: datetime
    why: str | None


@dataclass
class Dashboard:
    week_starts: date
    drafts: list[Waiting] = field(default_factory=list)
    to_approve: list[Waiting] = field(default_factory=list)
    paused: list[PausedChannel] = field(default_factory=list)
    held: list[HeldAccount] = field(default_factory=list)
    failures: list[Failures] = field(default_factory=list)  # in occurrences of the last RECENT_DAYS days
    week_sends: Counter[str] = field(default_factory=Counter)  # per channel, sent or delivered this week
    fan_outs: list[FanOut] = field(default_factory=list)
    changed: list[Waiting] = field(default_factory=list)  # approved campaigns whose issuer changed since


def _waiting(campaign: Campaign, note: str | None = None, returned: str | None = None) -> Waiting:
    revision = campaign.revision is not None
    at = campaign.revision.started_at if campaign.revision is not None else campaign.updated_at
    return Waiting(
        campaign.slug,
        campaign.number,
        campaign.subject,
        campaign.status,
        campaign.priority,
        at,
        note,
        revision,
        returned,
    )


def dashboard(session: Session, actor: Actor, settings: Settings) -> Dashboard:
    actor.require("campaigns:read")
    now = settings.clock.now()
    today = settings.today()
    board = Dashboard(week_starts=today - timedelta(days=today.weekday()))
    being_written = CampaignRevision.status == RevisionStatus.DRAFT
    waiting = CampaignRevision.status == RevisionStatus.SUBMITTED
    if actor.may("campaigns:draft"):
        drafts = (
            select(Campaign)
            .outerjoin(CampaignRevision)
            .where(or_(Campaign.status == Status.DRAFT, being_written))
            .order_by(Campaign.updated_at.desc())
        )
        board.drafts = [
            _waiting(campaign, returned=revisions.returned_reason(session, campaign))
            for campaign in session.scalars(drafts)
        ]
    if actor.may("campaigns:approve"):
        submitted = (
            select(Campaign)
            .outerjoin(CampaignRevision)
            .where(or_(Campaign.status == Status.SUBMITTED, waiting))
            .order_by(Campaign.updated_at)
        )
        for campaign in session.scalars(submitted):
            version = versions.latest_version(session, campaign)
            note = versions.refuse_approval(version, campaign, actor.login) if version is not None else None
            board.to_approve.append(_waiting(campaign, note))
    if actor.may("campaigns:draft") or actor.may("campaigns:approve"):
        changed = list(versions.changed_campaigns(session, settings))
        found = session.scalars(select(Campaign).where(Campaign.slug.in_(changed)).order_by(Campaign.slug))
        board.changed = [_waiting(item) for item in found]
    paused = (
        select(CampaignChannel, Campaign)
        .join(Campaign)
        .where(CampaignChannel.paused.is_(True), Campaign.status.not_in([Status.CANCELLED, Status.COMPLETED]))
        .order_by(Campaign.slug, CampaignChannel.channel)
    )
    board.paused = [
        PausedChannel(campaign.slug, campaign.subject, item.channel, item.pause_reason)
        for item, campaign in session.execute(paused)
    ]
    held = select(KeptCredential).where(KeptCredential.held_until > now).order_by(KeptCredential.name)
    board.held = [
        HeldAccount(row.name, row.held_until, row.held_because)
        for row in session.scalars(held)
        if row.held_until is not None  # always, by the query: for the type checker
    ]
    _recent_counts(session, settings, board, now)
    board.fan_outs = fan_outs(session, actor)
    return board


def _recent_counts(session: Session, settings: Settings, board: Dashboard, now: datetime) -> None:
    """This week's sends per channel and the last days' failures per campaign and channel, from the counts
    kept for the occurrences that fired in that time (`broadcaster.counts`): never a count of the outbox."""
    week = datetime.combine(board.week_starts, time(0), settings.zone)
    since = min(week, now - timedelta(days=RECENT_DAYS))
    occurrences = {
        row.id: row
        for row in session.execute(
            select(Occurrence.id, Occurrence.channel, Occurrence.fire_at, Campaign.slug, Campaign.subject)
            .join(Campaign, Campaign.id == Occurrence.campaign_id)
            .where(Occurrence.fire_at >= since, Occurrence.state == OccurrenceState.EXPANDED)
            .where(~Occurrence.rule_key.startswith(TEST_SEND))  # test sends are never counted
        )
    }
    if not occurrences:
        return
    failures: Counter[tuple[str, str, str]] = Counter()
    recent = now - timedelta(days=RECENT_DAYS)
    for (occurrence_id, state), count in counts(session, occurrences).items():
        row = occurrences[occurrence_id]
        if state in DONE and row.fire_at >= week:
            board.week_sends[row.channel] += count
        elif state in FAILED and row.fire_at >= recent:
            failures[(row.slug, row.subject, row.channel)] += count
    board.failures = [
        Failures(slug, subject, channel, count) for (slug, subject, channel), count in failures.most_common()
    ]
