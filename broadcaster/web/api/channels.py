"""/api/v1/channels: every channel built from its settings, secrets masked."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from broadcaster.accounts import Actor
from broadcaster.operations.channels import ChannelCheck, check_channels
from broadcaster.web.api.common import api_router, settings_of
from broadcaster.web.auth import require

router = api_router(tags=["channels"])


@router.get("/channels", response_model=list[ChannelCheck], summary="Check every channel's settings")
def channels(request: Request, actor: Annotated[Actor, Depends(require("channels:manage"))]) -> list[ChannelCheck]:
    return check_channels(actor, settings_of(request))
