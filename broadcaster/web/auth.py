"""Who is calling, and may they: dependencies every router uses.

    session: Session = Depends(db_session)                  one unit of work per request
    actor: Actor = Depends(current_actor)                   any signed-in account
    actor: Actor = Depends(require("campaigns:approve"))    an account whose role grants the permission

An API client signs in with `Authorization: Bearer <token>`. Pages add other ways (a session cookie)
by appending to `app.state.authenticators`: each is called with the request and the session and
returns the account, or None when its kind of credential is absent.
"""

from __future__ import annotations

import ipaddress
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
    """A session whose work is committed when the handler returns (or sooner: `commit_before_answering`),
    and rolled back when it raises."""
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        request.state.db_session = session
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


def commit_before_answering(request: Request) -> None:
    """Commit what the request wrote once the handler has decided its answer, before the page is rendered:
    a write lock (SQLite has one for the whole database) is then never held while a template runs. What the
    page still reads goes into a new transaction, which `db_session` ends as usual."""
    session: Session | None = getattr(request.state, "db_session", None)
    if session is not None and session.in_transaction():
        session.commit()


# "function": the work is committed before the answer goes out, so a failed commit is never answered as success.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def _trusted(address: str, proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def _forwarded(request: Request) -> tuple[str | None, str]:
    """(the client's address, the scheme it used): the peer's own, unless the peer is a trusted proxy
    (`Settings.proxies`); then the nearest address in X-Forwarded-For that is not a trusted proxy, and the
    X-Forwarded-Proto written for it."""
    peer = request.client.host if request.client is not None else None
    scheme = request.url.scheme
    proxies = request.app.state.settings.proxies
    if peer is None or not proxies or not _trusted(peer, proxies):
        return peer, scheme
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    schemes = [item.strip().lower() for item in request.headers.get("x-forwarded-proto", "").split(",")]
    client, index = peer, len(hops)
    for index in range(len(hops) - 1, -1, -1):  # from the nearest hop outwards
        client = hops[index]
        if not _trusted(client, proxies):
            break
    said = schemes[min(index, len(schemes) - 1)] if any(schemes) else ""
    return client, said if said in ("http", "https") else scheme


def client_address(request: Request) -> str | None:
    """The address of whoever sent the request: the peer, or behind a trusted proxy the client it names."""
    return _forwarded(request)[0]


def client_scheme(request: Request) -> str:
    """http or https as the client used it (behind a trusted proxy: as the proxy says)."""
    return _forwarded(request)[1]


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
