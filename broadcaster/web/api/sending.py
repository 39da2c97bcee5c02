"""/api/v1: send now, retry, deliveries (filtered, cursor-paged, CSV) and status."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from broadcaster.accounts import Actor
from broadcaster.csvfiles import csv_bytes
from broadcaster.operations import monitoring, sending
from broadcaster.operations.sending import DeliveryDetail, DeliveryPage, FanOut, RetryResult, SendNowResult
from broadcaster.web.api.campaigns import IdempotencyKey
from broadcaster.web.api.common import Slug, api_router, settings_of
from broadcaster.web.auth import DbSession, require
from broadcaster.web.idempotency import answer_once, fingerprint

router = api_router(tags=["sending"])

Reader = Annotated[Actor, Depends(require("campaigns:read"))]
Sender = Annotated[Actor, Depends(require("campaigns:send"))]
ChannelName = Annotated[str | None, Query(max_length=50, description="Only this channel")]
StateName = Annotated[str | None, Query(max_length=20, description="pending, sending, sent, accepted, failed, …")]


class SendNow(BaseModel):
    channel: str = Field(max_length=50, description="The channel to send on now")


class Retry(BaseModel):
    channel: str | None = Field(default=None, max_length=50, description="Only this channel (default: all)")


@router.post(
    "/campaigns/{slug}/send-now",
    response_model=SendNowResult,
    status_code=202,
    summary="An extra occurrence now, on one channel of an approved campaign",
)
def send_now(
    request: Request, session: DbSession, actor: Sender, slug: Slug, body: SendNow, key: IdempotencyKey = None
) -> JSONResponse:
    def act() -> tuple[int, SendNowResult]:
        return 202, sending.send_now(session, actor, slug, body.channel, settings_of(request))

    return answer_once(session, actor, key, fingerprint("POST", request.url.path, body.model_dump()), act)


@router.post("/campaigns/{slug}/retry", response_model=RetryResult, summary="Re-queue the failed deliveries")
def retry(request: Request, session: DbSession, actor: Sender, slug: Slug, body: Retry | None = None) -> RetryResult:
    return sending.retry_failed(session, actor, slug, body.channel if body else None, settings_of(request))


@router.get(
    "/campaigns/{slug}/deliveries",
    response_model=DeliveryPage,
    summary="A campaign's deliveries, in pages: pass next_cursor back as `after`",
)
def deliveries(
    session: DbSession,
    actor: Reader,
    slug: Slug,
    state: StateName = None,
    channel: ChannelName = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="The next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeliveryPage:
    return sending.deliveries(session, actor, slug, state=state, channel=channel, after=after, limit=limit)


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery with the history of its attempts (the successful last one included)",
)
def delivery(session: DbSession, actor: Reader, delivery_id: Annotated[int, Path(ge=1, le=2**62)]) -> DeliveryDetail:
    return sending.delivery_detail(session, actor, delivery_id)


@router.get(
    "/campaigns/{slug}/deliveries.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every delivery, as the CLI's --csv writes it"}},
    summary="Every delivery of a campaign as CSV",
)
def deliveries_csv(
    request: Request,
    session: DbSession,
    actor: Reader,
    slug: Slug,
    state: StateName = None,
    channel: ChannelName = None,
) -> Response:
    settings = settings_of(request)
    # Read now, inside the request's transaction; what streams out is text already made.
    found = sending.all_deliveries(session, actor, slug, state=state, channel=channel)
    rows = [sending.csv_cells(row, settings) for row in found]

    headers = {"Content-Disposition": f'attachment; filename="deliveries-{slug}.csv"'}
    return Response(csv_bytes(sending.CSV_HEADER, rows), media_type="text/csv; charset=utf-8", headers=headers)


class ChannelStatusOut(BaseModel):
    channel: str
    paused: str | None
    next_fires: list[datetime]
    occurrences: dict[str, int]
    late: int
    deliveries: dict[str, int]
    errors: list[tuple[str | None, int]]


class CampaignStatusOut(BaseModel):
    slug: str
    status: str
    priority: str
    channels: list[ChannelStatusOut]


class StatusOut(BaseModel):
    campaigns: list[CampaignStatusOut]
    fan_outs: list[FanOut]


@router.get("/status", response_model=StatusOut, summary="Per campaign and channel: fires, occurrences, deliveries")
def status(
    request: Request,
    session: DbSession,
    actor: Reader,
    campaign: Annotated[str | None, Query(max_length=100, description="One campaign (default: all)")] = None,
) -> StatusOut:
    found = monitoring.statuses(session, actor, settings_of(request), campaign)
    campaigns = [
        CampaignStatusOut(
            slug=item.slug,
            status=item.status,
            priority=item.priority,
            channels=[
                ChannelStatusOut(
                    channel=channel.channel,
                    paused=channel.pause_reason or "by staff" if channel.paused else None,
                    next_fires=channel.planned,
                    occurrences=dict(channel.occurrences),
                    late=channel.late,
                    deliveries=dict(channel.deliveries),
                    errors=channel.errors,
                )
                for channel in item.channels
            ],
        )
        for item in found
    ]
    return StatusOut(campaigns=campaigns, fan_outs=sending.fan_outs(session, actor))
