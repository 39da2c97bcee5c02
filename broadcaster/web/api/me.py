"""Who the caller is: the account behind the token and what its role allows."""

from __future__ import annotations

from pydantic import BaseModel

from broadcaster.web.api.common import api_router
from broadcaster.web.auth import CurrentActor

router = api_router(tags=["accounts"])


class Me(BaseModel):
    login: str
    display_name: str
    permissions: list[str]
    station_ids: list[int]


@router.get("/me", response_model=Me, summary="The calling account and its permissions")
def me(actor: CurrentActor) -> Me:
    return Me(
        login=actor.login,
        display_name=actor.display_name,
        permissions=sorted(actor.permissions),
        station_ids=sorted(actor.station_ids),
    )
