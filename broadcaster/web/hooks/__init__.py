"""Callbacks from providers: SMS delivery reports (DOMAIN §11), no account needed.

Gateways sign nothing, so the path carries an unguessable per-installation token
(`broadcaster.installation.callback_token`); a wrong token is a plain 404. The token never reaches a
log: the access log shows `/hooks/sms/***/…`. Every report is answered 200 once it is recorded or kept,
including interim statuses and ids nothing matches, so a gateway never retries what was taken; only a
callback that is not a report at all gets a 400 saying why.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from broadcaster.installation import callback_token, installation_id
from broadcaster.reports import apply_reports
from broadcaster.web.auth import DbSession
from channels.sms import DIALECTS

router = APIRouter(prefix="/hooks", include_in_schema=False)
PROBLEM = "application/problem+json"
_TOKEN_IN_PATH = re.compile(r"(/hooks/[a-z]+/)[^/?\s]+")


async def raw_body(request: Request) -> bytes:
    return await request.body()


Body = Annotated[bytes, Depends(raw_body)]


@router.api_route("/sms/{token}/{dialect}", methods=["GET", "POST"])
def sms_reports(request: Request, session: DbSession, body: Body, token: str, dialect: str) -> JSONResponse:
    installation = _installation(request, session)
    expected = _token(request, installation)
    if not hmac.compare_digest(token.encode(), expected.encode()) or dialect not in DIALECTS:
        return JSONResponse({"title": "not found", "status": 404}, status_code=404, media_type=PROBLEM)
    try:
        reports = DIALECTS[dialect].parse_reports(dict(request.query_params), body)
    except ValueError as exc:
        problem = {"title": "not a delivery report", "status": 400, "detail": str(exc)}
        return JSONResponse(problem, status_code=400, media_type=PROBLEM)
    applied = apply_reports(session, installation, dialect, reports)
    return JSONResponse({"received": len(reports), "recorded": applied.applied})


def _installation(request: Request, session: DbSession) -> str:
    found: str | None = getattr(request.app.state, "installation", None)
    if found is None:
        found = request.app.state.installation = installation_id(session)
    return found


def _token(request: Request, installation: str) -> str:
    found: str | None = getattr(request.app.state, "callback_token", None)
    if found is None:
        found = request.app.state.callback_token = callback_token(request.app.state.settings, installation)
    return found


class _NoTokenInAccessLog(logging.Filter):
    """uvicorn's access log line names the path: the callback token is replaced by *** before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path = record.args[2]
            if path.startswith("/hooks/"):
                record.args = (*record.args[:2], _TOKEN_IN_PATH.sub(r"\1***", path), *record.args[3:])
        return True


def install(app: FastAPI) -> None:
    app.include_router(router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(item, _NoTokenInAccessLog) for item in access.filters):
        access.addFilter(_NoTokenInAccessLog())
