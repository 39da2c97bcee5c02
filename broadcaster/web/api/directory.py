"""/api/v1/directory: listings, and imports as multipart CSV (or YAML for issuers) uploads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, File, Form, Path, Query, UploadFile
from pydantic import BaseModel

from broadcaster.accounts import Actor
from broadcaster.directory import ImportReport
from broadcaster.operations import directory as operations
from broadcaster.operations.directory import Listing
from broadcaster.web.api.common import api_router, read_upload
from broadcaster.web.auth import DbSession, require

router = api_router(prefix="/directory", tags=["directory"])
Kind = Annotated[str, Path(max_length=20, description=", ".join(operations.KINDS))]


class Converted(BaseModel):
    line: int
    old: str
    new: str


class Rejected(BaseModel):
    line: int
    reason: str
    cells: list[str]


class ImportOut(BaseModel):
    summary: str  # the line the command prints
    kind: str
    source: str
    imported: int
    new: int
    updated: int
    unchanged: int
    merged: int
    kept_opted_out: int
    converted: list[Converted]
    rejected: list[Rejected]

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(
            summary=operations.summary(report),
            kind=report.kind,
            source=report.source,
            imported=report.imported,
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            merged=report.merged,
            kept_opted_out=report.kept_opted_out,
            converted=[Converted(line=line, old=old, new=new) for line, old, new in report.converted],
            rejected=[Rejected(line=line, reason=reason, cells=cells) for line, reason, cells in report.rejects],
        )


@router.get("/{kind}", response_model=Listing, summary="What the directory holds of one kind")
def listing(
    session: DbSession,
    actor: Annotated[Actor, Depends(require("directory:read"))],
    kind: Kind,
    list: Annotated[str | None, Query(max_length=100, description="subscribers: one list's numbers")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> Listing:
    return operations.listing(session, actor, kind, list_slug=list, limit=limit)


@router.post(
    "/{kind}/import",
    response_model=ImportOut,
    summary="Import an uploaded file in one transaction; rejected rows are listed by line",
)
def import_upload(
    session: DbSession,
    actor: Annotated[Actor, Depends(require("directory:manage"))],
    kind: Kind,
    file: Annotated[UploadFile, File(description="CSV as spreadsheets export it (YAML for issuers)")],
    list: Annotated[str | None, Form(max_length=100, description="subscribers: the list to import into")] = None,
    name: Annotated[str | None, Form(max_length=300, description="subscribers: the list's display name")] = None,
) -> ImportOut:
    content, filename = read_upload(file)
    report = operations.import_upload(session, actor, kind, content, filename, list_slug=list, list_name=name)
    return ImportOut.of(report)


class NumbersOut(BaseModel):
    issuer: str
    in_force: dict[str, Any]
    proposed: dict[str, Any] | None
    proposed_by: str | None


def _numbers(session: DbSession, actor: Actor, slug: str) -> NumbersOut:
    proposal = operations.numbers_proposal(session, actor, slug)
    if proposal is None:
        shown = operations.issuer_profile(session, actor, slug)
        in_force = {"hotlines": shown["hotlines"], "official_numbers": shown["official_numbers"]}
        return NumbersOut(issuer=slug, in_force=in_force, proposed=None, proposed_by=None)
    return NumbersOut(
        issuer=slug, in_force=proposal.in_force, proposed=proposal.proposed, proposed_by=proposal.proposed_by
    )


Slug = Annotated[str, Path(max_length=100, description="The issuer's slug")]


@router.get("/issuers/{slug}/numbers", response_model=NumbersOut, summary="An issuer's numbers and any proposal")
def issuer_numbers(
    session: DbSession, actor: Annotated[Actor, Depends(require("directory:read"))], slug: Slug
) -> NumbersOut:
    return _numbers(session, actor, slug)


@router.post(
    "/issuers/{slug}/numbers/{decision}",
    response_model=NumbersOut,
    summary="Approve or reject an issuer's proposed numbers (another person than the one who proposed them)",
)
def decide_numbers(
    session: DbSession,
    actor: Annotated[Actor, Depends(require("campaigns:approve"))],
    slug: Slug,
    decision: Annotated[Literal["approve", "reject"], Path()],
) -> NumbersOut:
    operations.decide_numbers(session, actor, slug, decision == "approve")
    return _numbers(session, actor, slug)
