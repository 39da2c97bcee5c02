"""/api/v1/station: a station account lists its slots and says each aired, or not and why (and corrects it).

The same operation as the station portal: the same refusals, the same audited event, the same history.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, Field

from broadcaster.accounts import Actor
from broadcaster.airing import NotAiredReason
from broadcaster.operations import stations
from broadcaster.operations.stations import StationSlot
from broadcaster.web.api.common import api_router, settings_of
from broadcaster.web.auth import DbSession, require

router = api_router(prefix="/station", tags=["stations"])

Station = Annotated[Actor, Depends(require(stations.CONFIRM))]
SlotId = Annotated[int, Path(ge=1, le=2**62, description="The slot's number, as the slot list gives it")]


class Report(BaseModel):
    aired: bool = Field(description="true: it was read over the loudspeakers; false: it was not")
    aired_at: time | None = Field(
        default=None, description="Local time it aired (HH:MM), when not at the slot's time; only with aired"
    )
    reason: NotAiredReason | None = Field(default=None, description="Why it did not air (required when not aired)")
    note: str | None = Field(default=None, max_length=500, description="What happened (required with 'other')")


@router.get("/slots", response_model=list[StationSlot], summary="The slots of the account's stations")
def slots(
    request: Request,
    session: DbSession,
    actor: Station,
    station: Annotated[str | None, Query(max_length=100, description="Only this one of its stations")] = None,
    days_before: Annotated[int, Query(ge=0, le=60, description="From this many days ago")] = 2,
    days_after: Annotated[int, Query(ge=0, le=60, description="To this many days ahead")] = 7,
) -> list[StationSlot]:
    """Each script the account's stations are to read, earliest first, with what the station said about it."""
    return stations.slots(
        session, actor, settings_of(request), station=station, days_before=days_before, days_after=days_after
    )


@router.post("/slots/{slot_id}/report", response_model=StationSlot, summary="Say a slot aired, or not and why")
def report(request: Request, session: DbSession, actor: Station, slot_id: SlotId, body: Report) -> StationSlot:
    """Aired (optionally at what time) or not aired with a reason; reporting again corrects, keeping the history.

    Refused with a sentence: a slot whose time has not come, another station's slot (404), one outside its
    campaign's validity, a time of airing still to come or before the slot, a missing reason.
    """
    reason = body.reason.value if body.reason is not None else None
    return stations.confirm(
        session,
        actor,
        settings_of(request),
        slot_id,
        aired=body.aired,
        aired_at=body.aired_at,
        reason=reason,
        note=body.note,
    )
