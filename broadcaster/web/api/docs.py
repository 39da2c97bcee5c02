"""/api/v1/docs: a page describing the API from its own OpenAPI document; its script and style are ours."""

from __future__ import annotations

from importlib.resources import files

from fastapi.responses import HTMLResponse

from broadcaster.web.api.common import api_router

router = api_router()


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs() -> HTMLResponse:
    page = files("broadcaster.web").joinpath("templates", "api-docs.html").read_text(encoding="utf-8")
    return HTMLResponse(page)
