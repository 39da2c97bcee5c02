"""The calendar: month and week views of every planned fire across campaigns and channels (colours by the
campaign's status, weekday names, a click leads to the campaign), and an ICS feed per campaign."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.errors import UserError
from broadcaster.operations.calendar import Fire, planned_fires
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import NavItem, console_router, page_for, register_nav, render, settings_of
from broadcaster.web.portal.calendar import campaign_calendar

router = console_router()
register_nav(NavItem(30, "calendar", "/calendar", "campaigns:read"))
Reader = Annotated[Actor, Depends(page_for("campaigns:read"))]
ICS_DAYS_BEFORE, ICS_DAYS_AFTER = 30, 120


@dataclass(frozen=True)
class Entry:
    """What one campaign does on one channel in one day: the fires, shown as one line in the month view."""

    first: Fire
    times: list[datetime]


def _span(view: str, day: date) -> tuple[date, date]:
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    first = day.replace(day=1)
    start = first - timedelta(days=first.weekday())
    following = (first + timedelta(days=32)).replace(day=1)
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    return start, end


def _shift(view: str, day: date, step: int) -> date:
    if view == "week":
        return day + timedelta(days=7 * step)
    month = day.month - 1 + step
    return date(day.year + month // 12, month % 12 + 1, 1)


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request, session: DbSession, actor: Reader, view: str = "month", day: str = "", campaign: str = ""
) -> Response:
    settings = settings_of(request)
    today = settings.today()
    view = view if view in ("month", "week") else "month"
    try:
        shown = date.fromisoformat(day) if day else today
    except ValueError:
        raise UserError(f"'{day}' is not a date (YYYY-MM-DD)") from None
    start, end = _span(view, shown)
    fires = planned_fires(
        session,
        actor,
        settings,
        datetime.combine(start, time(0), settings.zone),
        datetime.combine(end, time(0), settings.zone),
        campaign or None,
    )
    by_day: dict[date, list[Fire]] = defaultdict(list)
    for fire in fires:
        by_day[fire.at.astimezone(settings.zone).date()].append(fire)
    days = [start + timedelta(days=offset) for offset in range((end - start).days)]
    context = {
        "view": view,
        "shown": shown,
        "today": today,
        "weeks": [days[index : index + 7] for index in range(0, len(days), 7)],
        "by_day": by_day,
        "entries": {day: _entries(found) for day, found in by_day.items()},
        "previous": _shift(view, shown, -1),
        "next": _shift(view, shown, 1),
        "campaign": campaign,
    }
    return render(request, "calendar.html", context)


def _entries(fires: list[Fire]) -> list[Entry]:
    grouped: dict[tuple[str, str], list[Fire]] = defaultdict(list)
    for fire in fires:
        grouped[(fire.slug, fire.channel)].append(fire)
    return [Entry(found[0], [fire.at for fire in found]) for found in grouped.values()]


@router.get("/campaigns/{slug}/calendar.ics")
def campaign_feed(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    """The campaign's fires from a month ago to four months ahead, as an iCalendar file."""
    settings = settings_of(request)
    campaign = find_campaign(session, slug)
    now = settings.clock.now()
    fires = planned_fires(
        session, actor, settings, now - timedelta(days=ICS_DAYS_BEFORE), now + timedelta(days=ICS_DAYS_AFTER), slug
    )
    body = campaign_calendar(
        campaign.number, campaign.subject, fires, settings, f"{settings.public_url}/campaigns/{slug}"
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.ics"'},
    )
