"""What waits for a staff member: their drafts, campaigns to approve, paused channels (with why), recent
failures, this week's sends per channel and the fan-outs running now. Read-only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import versions
from broadcaster.accounts import Actor
from broadcaster.models import Campaign, CampaignChannel, Status


@dataclass(frozen=True)
class Waiting:
    slug: str
    number: str
    subject: str
    status: str
    priority: str
    at: datetime
    note: str | None = None  # for a campaign to approve: why this person may not approve it


@dataclass(frozen=True)
class PausedChannel:
    slug: str
    subject: str
    channel: str
    why: str | None


@dataclass
class Dashboard:
    drafts: list[Waiting] = field(default_factory=list)
    to_approve: list[Waiting] = field(default_factory=list)
    paused: list[PausedChannel] = field(default_factory=list)


def _waiting(campaign: Campaign, note: str | None = None) -> Waiting:
    return Waiting(
        campaign.slug, campaign.number, campaign.subject, campaign.status, campaign.priority, campaign.updated_at, note
    )


def dashboard(session: Session, actor: Actor) -> Dashboard:
    actor.require("campaigns:read")
    board = Dashboard()
    if actor.may("campaigns:draft"):
        drafts = select(Campaign).where(Campaign.status == Status.DRAFT).order_by(Campaign.updated_at.desc())
        board.drafts = [_waiting(campaign) for campaign in session.scalars(drafts)]
    if actor.may("campaigns:approve"):
        submitted = select(Campaign).where(Campaign.status == Status.SUBMITTED).order_by(Campaign.updated_at)
        for campaign in session.scalars(submitted):
            version = versions.latest_version(session, campaign)
            note = versions.refuse_approval(version, campaign, actor.login) if version is not None else None
            board.to_approve.append(_waiting(campaign, note))
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
    return board
