"""Who is asking on the portal: a station account signed in to the console, or the holder of a station's
secret link (a signed cookie made from the link, ended when the link is rotated). How they leave. And that
a form they send comes from the portal's own pages."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from broadcaster import airing
from broadcaster.accounts import Actor, acting_account
from broadcaster.models import Station
from broadcaster.operations.stations import link_actor
from broadcaster.web import sessions as console_sessions
from broadcaster.web.auth import DbSession, client_address, client_scheme

COOKIE = "bc_station"
CSRF_FIELD = "csrf_token"


class NotSignedIn(Exception):
    """No station cookie, or one made from a link that has since been rotated, and no station account."""


def _signature(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def set_link_cookie(request: Request, response: Response, station: Station, fingerprint: str) -> None:
    value = f"{station.id}.{fingerprint}"
    signed = f"{value}.{_signature(request.app.state.signing_secret, value)}"
    secure = console_sessions.secure_cookies(request)  # https, or TLS ended by a trusted proxy
    response.set_cookie(COOKIE, signed, httponly=True, samesite="lax", secure=secure)


def current_station(request: Request, session: DbSession) -> Station:
    """The station of a station account signed in to the console, else the one whose signed link cookie came
    with the request, as long as its link has not been rotated."""
    account = console_sessions.session_account(request, session)
    if account is not None and account.role == "station" and account.station_links:
        # An account speaking for several stations sees the first; each has its own link for the others.
        station = session.get(Station, min(link.station_id for link in account.station_links))
        if station is not None:
            request.state.portal_by = account.login  # the airing reports name the person, not the link
            return station
    station_id, _, rest = request.cookies.get(COOKIE, "").partition(".")
    fingerprint, _, signature = rest.partition(".")
    expected = _signature(request.app.state.signing_secret, f"{station_id}.{fingerprint}")
    if not station_id.isdigit() or not hmac.compare_digest(signature, expected):
        raise NotSignedIn()
    station = session.get(Station, int(station_id))
    if station is None or airing.link_fingerprint(session, station) != fingerprint:
        raise NotSignedIn()
    return station


CurrentStation = Annotated[Station, Depends(current_station)]


def by_account(request: Request) -> bool:
    """Whether the station on this request is a signed-in account's (not a link's)."""
    return getattr(request.state, "portal_by", None) is not None


def portal_actor(request: Request, session: Session, station: Station) -> Actor:
    """The station account signed in to the console (its reports name the person), else the link's holder."""
    login = getattr(request.state, "portal_by", None)
    if login is None:
        return link_actor(station)
    return acting_account(session, login, client_address(request))


def why_signed_out(request: Request) -> str:
    """Which sentence a page without a station says: an account's sign-in ended, a link was replaced, or
    neither was ever there (the words key)."""
    if request.cookies.get(console_sessions.COOKIE):
        return "signed_out_account"
    if request.cookies.get(COOKIE):
        return "signed_out_link"
    return "signed_out"


def sign_out(request: Request, session: Session, response: Response) -> None:
    """End the console sign-in (if any) and forget the link cookie (if any)."""
    if request.cookies.get(console_sessions.COOKIE):
        console_sessions.close_session(session, request, response)
    response.delete_cookie(COOKIE, path="/")


# ---- forms come from the portal's own pages ------------------------------------------------------------
# Every form carries a token made from the browser's cookie with the signing secret (another site can make
# the browser send the cookie but cannot read it), and a browser's Origin, when it sends one, must be this
# site's. A station's report is an audited record: it must be the station's own doing.


def _form_basis(request: Request) -> str:
    return request.cookies.get(COOKIE) or request.cookies.get(console_sessions.COOKIE) or ""


def csrf_token(request: Request) -> str:
    """The token the portal's forms carry, made from the station's cookie (the link's or the account's)."""
    secret: bytes = request.app.state.signing_secret
    return hmac.new(secret, f"portal-csrf|{_form_basis(request)}".encode(), hashlib.sha256).hexdigest()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_our_pages(request: Request, sent_token: str) -> bool:
    """Whether a form came from one of the portal's pages: its token matches the cookie it was made from and
    the browser's Origin, when it names one, is this site (its public address, or the address it was asked at)."""
    origin = request.headers.get("origin")
    if origin is not None:
        settings = request.app.state.settings
        ours = {_origin_of(settings.public_url), f"{client_scheme(request)}://{request.url.netloc}".lower()}
        if origin.lower() not in ours:
            return False
    return bool(sent_token and _form_basis(request)) and hmac.compare_digest(sent_token, csrf_token(request))
