"""The station portal: phone-sized pages where a commune station gets each slot's script and says it aired.

A station opens its secret link (`broadcaster station link SLUG`); the link sets a signed cookie and is
not needed again until it is rotated, which ends every session opened with the old one. Pages are
Vietnamese first (`?lang=en` for English), server-rendered, with htmx shipped in the package.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi import Path as InPath
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from broadcaster import airing
from broadcaster.accounts import Actor, acting_account
from broadcaster.models import Station
from broadcaster.operations.stations import confirm as confirm_slot
from broadcaster.operations.stations import link_actor
from broadcaster.settings import Settings
from broadcaster.web.auth import DbSession, client_address, client_scheme
from broadcaster.web.console import sessions as console_sessions
from broadcaster.web.portal.calendar import station_calendar
from broadcaster.web.portal.words import WORDS, language, weekday
from channels.radio import SCRIPT_FILES, RadioChannel, RadioOptions, script_entry, script_file

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter(prefix="/portal", include_in_schema=False)
COOKIE = "bc_station"
SlotId = Annotated[int, InPath(ge=1, le=2**62)]  # a slot is its delivery's number
DAYS_BEFORE, DAYS_AFTER = 2, 7


def install(app: FastAPI) -> None:
    """Add the portal's pages and the package's static files (htmx) to the app."""
    app.include_router(router)
    if not any(getattr(route, "name", None) == "static" for route in app.routes):
        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")


class NotSignedIn(Exception):
    """No station cookie, or one made from a link that has since been rotated."""


# ---- the station behind the request -----------------------------------------------------------------


def _signature(secret: bytes, value: str) -> str:
    return hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _cookie_for(request: Request, station: Station, fingerprint: str) -> str:
    value = f"{station.id}.{fingerprint}"
    return f"{value}.{_signature(request.app.state.signing_secret, value)}"


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


# ---- forms come from the portal's own pages ------------------------------------------------------------
# Every form carries a token made from the browser's cookie with the signing secret (another site can make
# the browser send the cookie but cannot read it), and a browser's Origin, when it sends one, must be this
# site's. A station's report is an audited record: it must be the station's own doing.

CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    basis = request.cookies.get(COOKIE) or request.cookies.get(console_sessions.COOKIE) or ""
    return hmac.new(request.app.state.signing_secret, f"portal-csrf|{basis}".encode(), hashlib.sha256).hexdigest()


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_site(request: Request, sent_token: str) -> bool:
    origin = request.headers.get("origin")
    if origin is not None:
        ours = {_origin_of(_settings(request).public_url), f"{client_scheme(request)}://{request.url.netloc}".lower()}
        if origin.lower() not in ours:
            return False
    return bool(sent_token) and hmac.compare_digest(sent_token, csrf_token(request))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _radio_root(settings: Settings) -> Path:
    return RadioChannel(RadioOptions(), output_dir=settings.output_dir).root


# ---- pages ----------------------------------------------------------------------------------------


@router.get("/link/{token}")
def open_link(request: Request, token: str, session: DbSession) -> Response:
    """The secret link: a signed cookie for the station, then its page (the token leaves the address bar)."""
    words = WORDS[language(request)]
    try:
        station = airing.station_for_link(session, token)
    except airing.LinkRefused:
        return _page(request, "portal/refused.html", {"message": words["link_refused"]}, status_code=403)
    fingerprint = airing.link_fingerprint(session, station)
    assert fingerprint is not None
    response = RedirectResponse("/portal", status_code=303)
    response.set_cookie(
        COOKIE,
        _cookie_for(request, station, fingerprint),
        httponly=True,
        samesite="lax",
        secure=console_sessions.secure_cookies(request),
    )
    return response


@router.get("", response_class=HTMLResponse)
def slots_page(request: Request, session: DbSession) -> Response:
    try:
        station = current_station(request, session)
    except NotSignedIn:
        return _signed_out(request)
    return _page(request, "portal/slots.html", _slots_context(request, session, station))


@router.post("/slots/{delivery_id}")
def confirm(
    request: Request,
    delivery_id: SlotId,
    session: DbSession,
    aired: Annotated[str, Form()],
    aired_at: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    try:
        station = current_station(request, session)
    except NotSignedIn:
        return _signed_out(request)
    settings = _settings(request)
    words = WORDS[language(request)]
    if not _same_site(request, csrf):
        return _page(request, "portal/refused.html", {"message": words["form_refused"]}, status_code=403)
    error = None
    try:
        when = _time_of(aired_at, words)
        confirm_slot(
            session,
            _portal_actor(request, session, station),
            settings,
            delivery_id,
            aired=aired == "1",
            aired_at=when,
            reason=reason or None,
            note=note,
        )
    except airing.Refused as exc:
        error = words.get(exc.code, str(exc)).format(**exc.values) if exc.code else str(exc)
    if request.headers.get("HX-Request") != "true":
        if error is None:
            return RedirectResponse(f"/portal#slot-{delivery_id}", status_code=303)
        context = _slots_context(request, session, station) | {"error": error, "error_slot": delivery_id}
        shown = {card["slot"].delivery_id for key in ("today", "earlier", "later") for card in context[key]}
        context["page_error"] = error if delivery_id not in shown else None  # else it stands in its slot's card
        return _page(request, "portal/slots.html", context, status_code=422)
    slot = airing.station_slot(session, station, delivery_id)
    card = _card(request, session, slot)
    context = {"slot": card, "error": error, "error_slot": delivery_id} | _common(request, station)
    return _page(request, "portal/_slot.html", context, status_code=422 if error else 200)


@router.get("/slots/{delivery_id}/{kind}")
def script_download(request: Request, delivery_id: SlotId, kind: str, session: DbSession) -> Response:
    try:
        station = current_station(request, session)
    except NotSignedIn:
        return _signed_out(request)
    words = WORDS[language(request)]
    try:
        slot = airing.station_slot(session, station, delivery_id)
    except airing.Refused:
        return _page(request, "portal/refused.html", {"message": words["not_your_slot"]}, status_code=404)
    path = script_file(_radio_root(_settings(request)), slot.file, kind) if slot.file else None
    if path is None:
        return _page(request, "portal/refused.html", {"message": words["no_file"]}, status_code=404)
    media = SCRIPT_FILES[kind] or "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    inline = kind != "docx"
    return FileResponse(
        path, media_type=media, filename=path.name, content_disposition_type="inline" if inline else "attachment"
    )


@router.get("/link/{token}/calendar.ics")
def calendar(request: Request, token: str, session: DbSession) -> Response:
    """The station's slots as an iCalendar feed a phone calendar subscribes to (the link is the credential)."""
    try:
        station = airing.station_for_link(session, token)
    except airing.LinkRefused:
        return Response(WORDS["vi"]["link_refused"], status_code=403, media_type="text/plain; charset=utf-8")
    settings = _settings(request)
    start, end = airing.days_around(settings.today(), settings.zone, 14, 30)
    slots = airing.station_slots(session, station, start, end)
    upcoming = airing.upcoming_slots(session, settings, station, settings.clock.now(), end)
    body = station_calendar(station, slots, upcoming, settings, f"{settings.public_url}/portal/link/{token}")
    return Response(body, media_type="text/calendar; charset=utf-8")


def _portal_actor(request: Request, session: Session, station: Station) -> Actor:
    """The station account signed in to the console (its reports name the person), else the link's holder."""
    login = getattr(request.state, "portal_by", None)
    if login is None:
        return link_actor(station)
    return acting_account(session, login, client_address(request))


# ---- building the pages ---------------------------------------------------------------------------------


def _time_of(text: str, words: dict[str, str]) -> time | None:
    if not text.strip():
        return None
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise airing.Refused(f"'{text}' is not a time", code="bad_time", text=text) from None


def _common(request: Request, station: Station) -> dict[str, Any]:
    lang = language(request)
    return {
        "station": station,
        "lang": lang,
        "w": WORDS[lang],
        "reasons": airing.REASON_WORDS[lang],
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
    }


def _slots_context(request: Request, session: Session, station: Station) -> dict[str, Any]:
    settings = _settings(request)
    now = settings.clock.now()
    today = settings.today()
    start, end = airing.days_around(today, settings.zone, DAYS_BEFORE, DAYS_AFTER)
    cards = [_card(request, session, slot) for slot in airing.station_slots(session, station, start, end)]
    upcoming = airing.upcoming_slots(session, settings, station, now, end)
    return _common(request, station) | {
        "today": [card for card in cards if card["day"] == today],
        "earlier": [card for card in cards if card["day"] < today],
        "later": [card for card in cards if card["day"] > today],
        "upcoming": [_planned(request, item) for item in upcoming],
        "error": None,
        "error_slot": None,
        "page_error": None,
    }


def _when(request: Request, moment: datetime) -> dict[str, Any]:
    local = moment.astimezone(_settings(request).zone)
    lang = language(request)
    return {"day": local.date(), "time": f"{local:%H:%M}", "date": f"{weekday(local, lang)} {local:%d/%m/%Y}"}


def _card(request: Request, session: Session, slot: airing.Slot) -> dict[str, Any]:
    entry = script_entry(_radio_root(_settings(request)), slot.file) if slot.file else None
    audio = (entry or {}).get("audio") or {}
    report = slot.report
    aired_at = report.aired_at if report is not None and report.aired_at is not None else None
    return {
        "slot": slot,
        **_when(request, slot.fire_at),
        "aired_at": _when(request, aired_at)["time"] if aired_at else None,
        "reading_seconds": (entry or {}).get("reading_seconds"),
        "has_docx": bool((entry or {}).get("docx")),
        "audio": [kind for kind in ("mp3", "ogg", "wav") if kind in audio],
        "audio_problem": (entry or {}).get("audio_problem"),
        "history": [{"report": item, **_when(request, item.at)} for item in reversed(slot.history)],
    }


def _planned(request: Request, item: airing.PlannedSlot) -> dict[str, Any]:
    return {"item": item, **_when(request, item.fire_at)}


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    base = {"lang": lang, "w": WORDS[lang]}
    response = templates.TemplateResponse(request, name, base | context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_out(request: Request) -> HTMLResponse:
    words = WORDS[language(request)]
    return _page(request, "portal/refused.html", {"message": words["signed_out"]}, status_code=401)
