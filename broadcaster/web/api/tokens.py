"""/api/v1/tokens: a password login that hands out an API token (failed logins are slowed down)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request
from pydantic import BaseModel, Field

from broadcaster import accounts
from broadcaster.operations import accounts as account_operations
from broadcaster.web.api.common import api_router
from broadcaster.web.auth import DbSession, client_address

router = api_router(tags=["accounts"])


class TokenRequest(BaseModel):
    login: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="api", min_length=1, max_length=100, description="What or who will use the token")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: int
    name: str
    token: str = Field(description="Shown this once; only its hash is kept")
    expires_at: datetime | None


@router.post("/tokens", response_model=TokenOut, status_code=201, summary="Sign in with a password; get an API token")
def create_token(request: Request, session: DbSession, body: TokenRequest) -> TokenOut:
    now = request.app.state.settings.clock.now()
    # A failed login is counted in a transaction of its own (accounts.authenticate_password); the token is
    # written in the request's, committed before the answer goes out (`DbSession`).
    account = accounts.authenticate_password(session, body.login, body.password, client_address(request), now)
    expires = now + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    actor = accounts.Actor.for_account(account, client_address(request))
    token = account_operations.create_token(session, actor, account.login, body.name, now, expires)
    return TokenOut(id=token.id, name=token.name, token=token.token, expires_at=token.expires_at)
