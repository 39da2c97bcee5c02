"""The public side of the site, open to everyone without an account: the verification page `/tra-cuu`
and the CAP documents `/cap/…` other alerting systems read."""

from __future__ import annotations

from fastapi import APIRouter

from broadcaster.web.public import feeds, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(feeds.router)
