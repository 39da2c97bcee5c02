"""Every planned fire time across campaigns and channels in a span of days, for the calendar and ICS feeds.

Fire times come from the same plans the scheduler follows (timetable.rule_plans), for every campaign
that has not ended or been cancelled, whatever its status: a draft's fires show where it would fall.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor, bind_actor
from broadcaster.audit import record
from broadcaster.campaigns.store import find_campaign
from broadcaster.clock import system_now
from broadcaster.errors import UserError
from broadcaster.models import Campaign, CampaignFeedLink, Status
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
            for plan in rule_plans(
                session, rule, channel.audience, channel.areas, valid, settings.zone, ids, settings.today()
            ):
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


# ---- the campaign's subscribable feed link ---------------------------------------------------------
# A phone calendar cannot sign in, so the link itself is the credential, like a station's portal link.
# Its token is an HMAC of the campaign and a nonce under the signing secret: the page can show the link
# again at any time, the database holds nothing that opens it, and rotation (a new nonce) ends the old one.


class FeedLinkRefused(UserError):
    """A feed link that is not (or no longer) a campaign's."""


def _token(secret: bytes, campaign: Campaign, nonce: str) -> str:
    digest = hmac.new(secret, f"campaign-feed:{campaign.id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def _nonce(session: Session, campaign: Campaign) -> str:
    link = session.get(CampaignFeedLink, campaign.id)
    return link.nonce if link is not None else ""


def feed_link(session: Session, actor: Actor, slug: str, secret: bytes, public_url: str) -> str:
    """The campaign's current subscribable calendar link."""
    actor.require("campaigns:read")
    campaign = find_campaign(session, slug)
    return f"{public_url}/feeds/campaigns/{slug}/{_token(secret, campaign, _nonce(session, campaign))}.ics"


def rotate_feed_link(session: Session, actor: Actor, slug: str, secret: bytes, public_url: str) -> str:
    """A new link for the campaign's calendar; the previous one stops working at once. Audited."""
    actor.require("campaigns:send")
    campaign = find_campaign(session, slug)
    bind_actor(session, actor)
    link = session.get(CampaignFeedLink, campaign.id)
    nonce = secrets.token_urlsafe(24)
    if link is None:
        session.add(CampaignFeedLink(campaign_id=campaign.id, nonce=nonce, rotated_by=actor.login))
    else:
        link.nonce, link.rotated_at, link.rotated_by = nonce, system_now(), actor.login
    session.flush()
    record(session, campaign, actor.login, "rotate-feed-link")
    return feed_link(session, actor, slug, secret, public_url)


def feed_fires(
    session: Session, settings: Settings, slug: str, token: str, secret: bytes, start: datetime, end: datetime
) -> tuple[Campaign, list[Fire]]:
    """For the holder of a campaign's feed link: the campaign and its fires in [start, end)."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    expected = _token(secret, campaign, _nonce(session, campaign)) if campaign is not None else ""
    if campaign is None or not hmac.compare_digest(expected, token):
        raise FeedLinkRefused("this calendar link is not valid: it may have been replaced by a newer one")
    fires = _campaign_fires(session, settings, campaign, start, end)
    return campaign, sorted(fires, key=lambda fire: (fire.at, fire.slug, fire.channel))[:MOST]
