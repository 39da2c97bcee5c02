"""/healthz and /readyz (`operations.health`): plain JSON, no account, never cached."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from broadcaster.operations.health import readiness

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    engine = state.sessions.kw["bind"]
    assert isinstance(engine, Engine)
    found = readiness(engine, state.settings, state.settings.clock.now())
    return JSONResponse(found.as_document(), status_code=200 if found.ready else 503, headers=NO_STORE)
