"""/healthz and /readyz (`operations.health`): plain JSON; /metrics (`operations.metrics`): no account, never cached."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from broadcaster.operations.health import readiness
from broadcaster.operations.metrics import metrics_text

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


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics (text format 0.0.4), read from the database at each scrape."""
    from prometheus_client import CONTENT_TYPE_LATEST

    state = request.app.state
    body = metrics_text(state.sessions.kw["bind"], state.settings.clock.now())
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
