"""The radio loop for staff: per campaign and station, slots aired, not aired, unconfirmed and overdue, and
each slot with what its station said about it (also as a CSV file for a spreadsheet)."""

from __future__ import annotations

from datetime import datetime
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
Campaign = Annotated[str | None, Query(description="One campaign (default: all)")]
Days = Annotated[int | None, Query(ge=0, le=366, description="Only the slots of the last this many days")]


class AiringCount(BaseModel):
    campaign: str
    station: str
    station_name: str
    slots: int
    aired: int
    not_aired: int
    unconfirmed: int
    overdue: int


class SlotReport(BaseModel):
    campaign: str
    station: str
    station_name: str
    slot: str | None
    fire_at: datetime
    state: str  # aired, not_aired, unconfirmed
    overdue: bool
    aired_at: datetime | None
    reason: str | None  # equipment, power, emergency, other
    reason_words: str  # the reason as a person says it, in Vietnamese
    note: str | None
    by: str | None
    reported_at: datetime | None


@router.get("/radio/airings", response_model=list[AiringCount], summary="Did the stations air it?")
def airings(request: Request, session: DbSession, actor: Reader, campaign: Campaign = None) -> list[AiringCount]:
    """Per campaign and station: slots aired, not aired, unconfirmed, and unconfirmed past the overdue time."""
    return [
        AiringCount(
            campaign=count.campaign,
            station=count.station,
            station_name=count.station_name,
            slots=count.slots,
            aired=count.aired,
            not_aired=count.not_aired,
            unconfirmed=count.unconfirmed,
            overdue=count.overdue,
        )
        for count in stations.airing_counts(session, actor, settings_of(request), campaign)
    ]


@router.get("/radio/slots", response_model=list[SlotReport], summary="Each slot and what its station said")
def slots(
    request: Request, session: DbSession, actor: Reader, campaign: Campaign = None, days: Days = None
) -> list[SlotReport]:
    """Each slot whose script went out, by campaign, station and time: aired (when), or not aired (why, note)."""
    return [
        SlotReport(**vars(item), reason_words=airing.reason_words(item.reason))
        for item in stations.slot_reports(session, actor, settings_of(request), campaign, days)
    ]


@router.get("/radio/airings.csv", summary="Each slot and its report as a CSV file for a spreadsheet")
def airings_csv(
    request: Request, session: DbSession, actor: Reader, campaign: Campaign = None, days: Days = None
) -> Response:
    settings = settings_of(request)
    reports = stations.slot_reports(session, actor, settings, campaign, days)
    body = csv_bytes(airing.AIRING_CSV_HEADER, airing.airing_csv_rows(reports, settings.zone))
    headers = {"Content-Disposition": 'attachment; filename="airings.csv"'}
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
