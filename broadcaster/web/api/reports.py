"""What a campaign, or every campaign in a period, reached: the same figures as the console's results page
and the exported report (`broadcaster.operations.results`), as JSON."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request

from broadcaster.accounts import Actor
from broadcaster.operations.results import PostReach, Results, campaign_results, facebook_reach
from broadcaster.web.api.common import Slug, api_router, settings_of
from broadcaster.web.auth import DbSession, require

router = api_router(tags=["reports"])
Reader = Annotated[Actor, Depends(require("campaigns:read"))]
Start = Annotated[date | None, Query(description="The period's first day, local time (YYYY-MM-DD)")]
End = Annotated[date | None, Query(description="The period's last day, local time, included (YYYY-MM-DD)")]
PeriodStart = Annotated[date, Query(description="The period's first day, local time (YYYY-MM-DD)")]
PeriodEnd = Annotated[date, Query(description="The period's last day, local time, included (YYYY-MM-DD)")]


@router.get("/reports/campaigns/{slug}", response_model=Results, summary="What a campaign reached")
def campaign_report(
    request: Request, session: DbSession, actor: Reader, slug: Slug, start: Start = None, end: End = None
) -> Results:
    """Per channel, area, station, subscriber list and day: planned, sent, delivered or not, posted, letters
    bounced, slots aired, not aired (why) and overdue. With `start` and `end`, only the fires of those days."""
    return campaign_results(session, actor, settings_of(request), slug, start, end)


@router.get("/reports/period", response_model=Results, summary="What every campaign reached in a period")
def period_report(request: Request, session: DbSession, actor: Reader, start: PeriodStart, end: PeriodEnd) -> Results:
    """The same figures for every campaign whose fires fall between `start` and `end` (at most a year)."""
    return campaign_results(session, actor, settings_of(request), None, start, end)


@router.get(
    "/reports/campaigns/{slug}/facebook-reach", response_model=list[PostReach], summary="What the posts reached"
)
def campaign_facebook_reach(request: Request, session: DbSession, actor: Reader, slug: Slug) -> list[PostReach]:
    """The campaign's published Facebook posts (the latest 100) with their impressions, reach, reactions and
    shares, asked of the Graph API now; "unavailable" says why when the page token may not read insights."""
    return facebook_reach(session, actor, settings_of(request), slug)
