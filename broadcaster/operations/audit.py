"""The audit log, filtered by campaign, account, action and dates, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.models import AuditEntry, Campaign
from broadcaster.settings import Settings


@dataclass(frozen=True)
class AuditFilter:
    campaign: str | None = None
    account: str | None = None  # the login written in the entry
    action: str | None = None
    starts: date | None = None  # local days, both included
    ends: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    campaign: str | None
    details: dict[str, Any]
    client: str | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    older: int | None  # pass as `before` for the next page


def actions(session: Session, actor: Actor) -> list[str]:
    actor.require("campaigns:read")
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def search(
    session: Session, actor: Actor, settings: Settings, wanted: AuditFilter, before: int | None = None, limit: int = 100
) -> AuditPage:
    actor.require("campaigns:read")
    query = (
        select(AuditEntry, Campaign.slug)
        .outerjoin(Campaign, Campaign.id == AuditEntry.campaign_id)
        .order_by(AuditEntry.id.desc())
    )
    if wanted.campaign:
        query = query.where(AuditEntry.campaign_id == find_campaign(session, wanted.campaign).id)
    if wanted.account:
        query = query.where(AuditEntry.actor == wanted.account.strip().casefold())
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.starts:
        query = query.where(AuditEntry.at >= datetime.combine(wanted.starts, time(0), settings.zone))
    if wanted.ends:
        query = query.where(AuditEntry.at < datetime.combine(wanted.ends + timedelta(days=1), time(0), settings.zone))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    found = [
        AuditRow(entry.id, entry.at, entry.actor, entry.action, slug, dict(entry.details), entry.client)
        for entry, slug in session.execute(query.limit(limit + 1))
    ]
    more = len(found) > limit
    found = found[:limit]
    return AuditPage(found, found[-1].id if more else None)
