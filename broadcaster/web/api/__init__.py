"""/api/v1: JSON over the operations layer. Each module holds one area's routes; this one gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from broadcaster.web.api import campaigns, channels, directory, docs, me, radio, reports, sending, stations, tokens

router = APIRouter()
for module in (me, tokens, campaigns, sending, directory, channels, radio, stations, reports, docs):
    router.include_router(module.router)
