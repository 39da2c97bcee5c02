"""Console sign-ins kept in the database, and the CSRF token bound to each.

The cookie holds a long random id; the database keeps only its SHA-256, so a copy of the database opens no
session. A session ends when the person signs out, when an admin disables the account (which revokes its
sessions), after `console_idle_minutes` without a request, and `console_longest_hours` after it began.

Every form carries a token derived from the browser's cookie (the session's, or before sign-in a random
pre-login cookie) with the app's signing secret: another site can make the browser send the cookie but
cannot read it, so it cannot write the token (the signed double-submit pattern, bound to the session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from broadcaster.models import Account, ConsoleSession
from broadcaster.settings import Settings
from broadcaster.web.auth import client_address, client_scheme

COOKIE = "bc_console"
PRE_LOGIN_COOKIE = "bc_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# last_seen_at is written at most this often, so reading pages does not write on every request.
SEEN_PRECISION = timedelta(minutes=1)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure when the site is reached over https: its public address says so, or the client's
    own request came over TLS (behind a trusted proxy that ends TLS, as the proxy says)."""
    return _settings(request).public_url.startswith("https://") or client_scheme(request) == "https"


def _set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="lax", secure=secure_cookies(request), path="/")


def open_session(session: Session, request: Request, response: Response, account: Account) -> None:
    """Start a sign-in for `account` and give the browser its cookie (a fresh id: no fixation)."""
    plain = secrets.token_urlsafe(32)
    client = client_address(request)
    now = _settings(request).clock.now()
    session.add(
        ConsoleSession(account_id=account.id, digest=_digest(plain), client=client, created_at=now, last_seen_at=now)
    )
    _set_cookie(response, request, COOKIE, plain)


def close_session(session: Session, request: Request, response: Response) -> None:
    plain = request.cookies.get(COOKIE)
    if plain:
        row = session.scalar(select(ConsoleSession).where(ConsoleSession.digest == _digest(plain)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = _settings(request).clock.now()
    response.delete_cookie(COOKIE, path="/")


def session_account(request: Request, session: Session) -> Account | None:
    """The account of the browser's sign-in, when it is open, not idle too long and the account is enabled."""
    plain = request.cookies.get(COOKIE)
    if not plain:
        return None
    # Every request asks this: the account comes joined to the session row, its stations in one more query.
    signed_in = joinedload(ConsoleSession.account).selectinload(Account.station_links)
    row = session.scalar(select(ConsoleSession).options(signed_in).where(ConsoleSession.digest == _digest(plain)))
    if row is None or row.revoked_at is not None or row.account.disabled:
        return None
    settings = _settings(request)
    now = settings.clock.now()
    idle = now - row.last_seen_at > timedelta(minutes=settings.console_idle_minutes)
    if idle or now - row.created_at > timedelta(hours=settings.console_longest_hours):
        row.revoked_at = now
        return None
    if now - row.last_seen_at > SEEN_PRECISION:
        row.last_seen_at = now
    return row.account


# ---- CSRF ---------------------------------------------------------------------------------------------


def _cookie_basis(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or request.cookies.get(PRE_LOGIN_COOKIE)


def csrf_token(request: Request) -> str:
    """The token forms on this page carry; a pre-login cookie is made (and set by `remember_basis`) if needed."""
    basis = _cookie_basis(request) or getattr(request.state, "new_form_cookie", None)
    if basis is None:
        basis = secrets.token_urlsafe(32)
        request.state.new_form_cookie = basis
    secret: bytes = request.app.state.signing_secret
    return hmac.new(secret, f"csrf|{basis}".encode(), hashlib.sha256).hexdigest()


def remember_basis(request: Request, response: Response) -> None:
    """Set the pre-login cookie a page's token was made from, when the page had to make one."""
    made = getattr(request.state, "new_form_cookie", None)
    if made is not None:
        _set_cookie(response, request, PRE_LOGIN_COOKIE, made)


def csrf_matches(request: Request, sent: str | None) -> bool:
    if not sent or _cookie_basis(request) is None:
        return False
    return hmac.compare_digest(sent, csrf_token(request))
