"""Who is calling, and may they: dependencies every router uses.

    session: Session = Depends(db_session)                  one unit of work per request
    actor: Actor = Depends(current_actor)                   any signed-in account
    actor: Actor = Depends(require("campaigns:approve"))    an account whose role grants the permission

An API client signs in with `Authorization: Bearer <token>`. Pages add other ways (a session cookie)
by appending to `app.state.authenticators`: each is called with the request and the session and
returns the account, or None when its kind of credential is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.accounts import Actor, authenticate_token, bind_actor
from broadcaster.errors import AuthenticationFailed
from broadcaster.models import Account


class Authenticator(Protocol):
    def __call__(self, request: Request, session: Session) -> Account | None: ...


def db_session(request: Request) -> Iterator[Session]:
    """A session whose work is committed when the handler returns, and rolled back when it raises."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session, session.begin():
        yield session


# "function": the work is committed before the answer goes out, so a failed commit is never answered as success.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client is not None else None


def bearer_account(request: Request, session: Session) -> Account | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send the API token as 'Authorization: Bearer TOKEN'")
    return authenticate_token(session, token.strip(), request.app.state.settings.clock.now())


def current_actor(request: Request, session: DbSession) -> Actor:
    """The signed-in account as an Actor (with the client's address); 401 with a sentence otherwise."""
    authenticators: list[Authenticator] = request.app.state.authenticators
    for authenticate in authenticators:
        account = authenticate(request, session)
        if account is not None:
            actor = Actor.for_account(account, client_address(request))
            bind_actor(session, actor)
            request.state.actor = actor
            return actor
    raise AuthenticationFailed("sign in first: send an API token as 'Authorization: Bearer TOKEN'")


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require(permission: str) -> Callable[[Actor], Actor]:
    """A dependency that lets through only accounts whose role grants `permission` (403 naming it)."""

    def permitted(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    permitted.__name__ = f"require_{permission.replace(':', '_')}"
    return permitted
