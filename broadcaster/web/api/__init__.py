"""/api/v1: JSON over the operations layer. Each module holds one area's routes; this one gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from broadcaster.web.api import me, radio

router = APIRouter()
router.include_router(me.router)
router.include_router(radio.router)
