"""The radio loop for staff: per campaign and station, slots aired, not aired, unconfirmed and overdue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from broadcaster import airing
from broadcaster.accounts import Actor
from broadcaster.csvfiles import csv_bytes
from broadcaster.operations import stations
from broadcaster.web.api.common import api_router, settings_of
from broadcaster.web.auth import DbSession, require

router = api_router(tags=["radio"])
Reader = Annotated[Actor, Depends(require("campaigns:read"))]


class AiringCount(BaseModel):
    campaign: str
    station: str
    slots: int
    aired: int
    not_aired: int
    unconfirmed: int
    overdue: int


def _counts(request: Request, session: DbSession, actor: Actor, campaign: str | None) -> list[airing.AiringCount]:
    return stations.airing_counts(session, actor, settings_of(request), campaign)


@router.get("/radio/airings", response_model=list[AiringCount], summary="Did the stations air it?")
def airings(
    request: Request, session: DbSession, actor: Reader, campaign: Annotated[str | None, Query()] = None
) -> list[AiringCount]:
    """Per campaign and station: slots aired, not aired, unconfirmed, and unconfirmed past the overdue time."""
    return [
        AiringCount(
            campaign=count.campaign,
            station=count.station,
            slots=count.slots,
            aired=count.aired,
            not_aired=count.not_aired,
            unconfirmed=count.unconfirmed,
            overdue=count.overdue,
        )
        for count in _counts(request, session, actor, campaign)
    ]


@router.get("/radio/airings.csv", summary="The same counts as a CSV file for a spreadsheet")
def airings_csv(
    request: Request, session: DbSession, actor: Reader, campaign: Annotated[str | None, Query()] = None
) -> Response:
    body = csv_bytes(airing.AIRING_CSV_HEADER, airing.airing_csv_rows(_counts(request, session, actor, campaign)))
    headers = {"Content-Disposition": 'attachment; filename="airings.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
