"""What the API's routers share: path parameters, uploads, the app's settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, UploadFile

from broadcaster.settings import Settings
from broadcaster.web.limits import StrictJsonRoute

Slug = Annotated[str, Path(min_length=1, max_length=100, description="The campaign's slug")]


def api_router(**options: Any) -> APIRouter:
    """A router of the API: its JSON bodies are read strictly (a key given twice or nesting too deep is a 400)."""
    return APIRouter(route_class=StrictJsonRoute, **options)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def read_upload(file: UploadFile) -> tuple[bytes, str]:
    """The uploaded file's bytes and name (the size limit was enforced while the body arrived)."""
    return file.file.read(), file.filename or ""
