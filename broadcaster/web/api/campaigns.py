"""/api/v1/campaigns: create (JSON or an uploaded YAML file), validate, read, preview, the lifecycle, audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, File, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from broadcaster.accounts import Actor
from broadcaster.operations import campaigns as operations
from broadcaster.operations.campaigns import AuditRecord, CampaignDetail, CampaignSummary, SavedCampaign
from broadcaster.operations.preview import Preview, preview, preview_all
from broadcaster.web.api.common import Slug, api_router, read_upload, settings_of
from broadcaster.web.auth import DbSession, require
from broadcaster.web.idempotency import HEADER, answer_once, fingerprint

router = api_router(prefix="/campaigns", tags=["campaigns"])

Reader = Annotated[Actor, Depends(require("campaigns:read"))]
Drafter = Annotated[Actor, Depends(require("campaigns:draft"))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias=HEADER, description="Repeat a POST with the same key to get the first answer, not a second action."),
]
CampaignBody = Annotated[
    dict[str, Any],
    Body(
        description="The campaign, field for field as in a campaign file (see the README's 'Campaign files').",
        examples=[{"campaign": "canh-bao-goi-gia-danh-lan-2", "issuer": "tay-ninh-stttt", "number": "881/STTTT-TTr"}],
    ),
]
CampaignFile = Annotated[UploadFile, File(description="A campaign file (YAML, UTF-8).")]


class Valid(BaseModel):
    valid: bool = True
    campaign: str


class Reason(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="Why (required to return a campaign).")


@router.get("", response_model=list[CampaignSummary], summary="Every campaign with its status")
def list_campaigns(session: DbSession, actor: Reader) -> list[CampaignSummary]:
    return operations.list_campaigns(session, actor)


@router.post("/validate", response_model=Valid, summary="Check a campaign given as JSON; every problem listed")
def validate_json(request: Request, session: DbSession, actor: Drafter, campaign: CampaignBody) -> Valid:
    spec = operations.read_data(campaign)
    operations.validate(session, actor, spec, "body", settings_of(request))
    return Valid(campaign=spec.campaign)


@router.post("/validate/file", response_model=Valid, summary="Check an uploaded campaign file; every problem listed")
def validate_file(request: Request, session: DbSession, actor: Drafter, file: CampaignFile) -> Valid:
    content, name = read_upload(file)
    spec = operations.read_upload(content, name)
    operations.validate(session, actor, spec, name, settings_of(request))
    return Valid(campaign=spec.campaign)


def _save(request: Request, session: DbSession, actor: Actor, key: str | None, payload: Any, read: Any) -> JSONResponse:
    def act() -> tuple[int, SavedCampaign]:
        spec, source = read()
        saved = operations.save(session, actor, spec, source, settings_of(request))
        return (201 if saved.created else 200), saved

    return answer_once(session, actor, key, fingerprint("POST", request.url.path, payload), act)


@router.post(
    "",
    response_model=SavedCampaign,
    status_code=201,
    summary="Create a draft (or update one) from JSON",
    responses={200: {"description": "An existing draft was updated", "model": SavedCampaign}},
)
def create_json(
    request: Request, session: DbSession, actor: Drafter, campaign: CampaignBody, key: IdempotencyKey = None
) -> JSONResponse:
    return _save(request, session, actor, key, campaign, lambda: (operations.read_data(campaign), "body"))


@router.post(
    "/file",
    response_model=SavedCampaign,
    status_code=201,
    summary="Create a draft (or update one) from an uploaded campaign file",
    responses={200: {"description": "An existing draft was updated", "model": SavedCampaign}},
)
def create_file(
    request: Request, session: DbSession, actor: Drafter, file: CampaignFile, key: IdempotencyKey = None
) -> JSONResponse:
    content, name = read_upload(file)
    return _save(request, session, actor, key, content, lambda: (operations.read_upload(content, name), name))


@router.get("/{slug}", response_model=CampaignDetail, summary="One campaign: fields, channels, audiences, timetable")
def show(session: DbSession, actor: Reader, slug: Slug) -> CampaignDetail:
    return operations.show(session, actor, slug)


def _lifecycle_route(action: str) -> None:
    permission = operations.LIFECYCLE_PERMISSIONS[action]

    def change(
        request: Request, session: DbSession, actor: Actor, slug: Slug, body: Annotated[Reason | None, Body()] = None
    ) -> CampaignSummary:
        reason = body.reason if body else None
        return operations.change_status(session, actor, slug, action, reason, settings=settings_of(request))

    # Set as an object, not a string: the permission is this action's, which module-level names cannot say.
    change.__annotations__["actor"] = Annotated[Actor, Depends(require(permission))]
    change.__name__ = f"{action}_campaign"
    router.add_api_route(
        f"/{{slug}}/{action}",
        change,
        methods=["POST"],
        response_model=CampaignSummary,
        summary=f"{action.capitalize()} the campaign (needs {permission})",
    )


for _action in operations.LIFECYCLE_PERMISSIONS:
    _lifecycle_route(_action)


@router.post(
    "/{slug}/channels/{channel}/resume",
    response_model=CampaignSummary,
    summary="Resume one channel paused after a permanent failure",
)
def resume_channel(
    session: DbSession,
    actor: Annotated[Actor, Depends(require("campaigns:send"))],
    slug: Slug,
    channel: Annotated[str, Path(max_length=50)],
) -> CampaignSummary:
    return operations.resume_channel(session, actor, slug, channel)


@router.get("/{slug}/preview", response_model=Preview, summary="Exactly what one recipient of a channel receives")
def preview_one(
    request: Request,
    session: DbSession,
    actor: Reader,
    slug: Slug,
    channel: Annotated[str, Query(max_length=50, description="email, sms, facebook or radio")],
    locale: Annotated[str | None, Query(max_length=20)] = None,
    recipient: Annotated[str | None, Query(max_length=320, description="e-mail, phone, station or page")] = None,
) -> Preview:
    return preview(session, actor, slug, channel, settings_of(request), locale=locale, recipient=recipient)


@router.get("/{slug}/previews", response_model=list[Preview], summary="Every channel in every locale")
def previews(request: Request, session: DbSession, actor: Reader, slug: Slug) -> list[Preview]:
    return preview_all(session, actor, slug, settings_of(request))


@router.get("/{slug}/audit", response_model=list[AuditRecord], summary="Who did what to the campaign, and when")
def audit(session: DbSession, actor: Reader, slug: Slug) -> list[AuditRecord]:
    return operations.audit_log(session, actor, slug)
