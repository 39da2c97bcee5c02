"""Every planned fire time across campaigns and channels in a span of days, for the calendar and ICS feeds.

Fire times come from the same plans the scheduler follows (timetable.rule_plans), for every campaign
that has not ended or been cancelled, whatever its status: a draft's fires show where it would fall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.models import Campaign, Status
from broadcaster.settings import Settings
from broadcaster.timetable import rule_plans

SHOWN = [Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.ACTIVE, Status.PAUSED, Status.COMPLETED]
MOST = 5000  # fires in one view; a month of a few campaigns is far below


@dataclass(frozen=True)
class Fire:
    slug: str
    number: str
    subject: str
    status: str
    priority: str
    channel: str
    slot: str | None
    at: datetime
    paused: bool  # the channel is paused: this fire waits for a resume


def planned_fires(
    session: Session, actor: Actor, settings: Settings, start: datetime, end: datetime, slug: str | None = None
) -> list[Fire]:
    """Fire times in [start, end), in time order."""
    actor.require("campaigns:read")
    query = select(Campaign).where(Campaign.status.in_(SHOWN)).order_by(Campaign.slug)
    campaigns = [find_campaign(session, slug)] if slug else list(session.scalars(query))
    fires: list[Fire] = []
    for campaign in campaigns:
        fires += _campaign_fires(session, settings, campaign, start, end)
        if len(fires) > MOST:
            break
    return sorted(fires, key=lambda fire: (fire.at, fire.slug, fire.channel))[:MOST]


def _campaign_fires(
    session: Session, settings: Settings, campaign: Campaign, start: datetime, end: datetime
) -> list[Fire]:
    found = []
    valid = (campaign.valid_from, campaign.valid_until)
    for channel in campaign.channels:
        ids = {"campaign_id": campaign.id, "campaign": campaign.slug, "channel": channel.channel, "since": start}
        seen: set[tuple[datetime, str | None]] = set()
        for rule in channel.rules:
            for plan in rule_plans(session, rule, channel.audience, channel.areas, valid, settings.zone, ids):
                for at in plan.fires(start - timedelta(microseconds=1), end - timedelta(microseconds=1)):
                    if (at, plan.slot) not in seen:
                        seen.add((at, plan.slot))
                        found.append(
                            Fire(
                                campaign.slug,
                                campaign.number,
                                campaign.subject,
                                campaign.status,
                                campaign.priority,
                                channel.channel,
                                plan.slot,
                                at,
                                channel.paused,
                            )
                        )
    return found
