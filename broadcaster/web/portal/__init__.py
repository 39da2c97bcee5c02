"""The station portal: phone-sized pages where a commune station gets each slot's script and says it aired.

A station signs in with its account (the console's sign-in) or opens its secret link (`broadcaster station
link SLUG`); the link sets a signed cookie and is not needed again until it is rotated, which ends every
session and calendar feed made from the old one. Pages are Vietnamese first (`?lang=en` for English),
server-rendered, light enough for a slow network, with htmx shipped in the package.

    /portal                          today's slots (sent and still to come), earlier and coming days, the feed
    /portal/slots/{id}               one script, large, the lines not read set apart, its draft audio
    /portal/slots/{id}/{kind}        the script's files: txt, docx, mp3, ogg, wav
    /portal/calendar/{slug}/{t}.ics  the station's calendar feed (read-only secret, for phone calendars)
"""

from __future__ import annotations

import hashlib
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi import Path as InPath
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from broadcaster import airing
from broadcaster.installation import installation_id
from broadcaster.models import Station
from broadcaster.operations.stations import confirm as confirm_slot
from broadcaster.web import sessions as console_sessions
from broadcaster.web.assets import asset_url
from broadcaster.web.auth import DbSession, commit_before_answering
from broadcaster.web.portal import cards
from broadcaster.web.portal.calendar import station_calendar
from broadcaster.web.portal.signing_in import (
    CSRF_FIELD,
    NotSignedIn,
    by_account,
    csrf_token,
    current_station,
    from_our_pages,
    portal_actor,
    set_link_cookie,
    sign_out,
    why_signed_out,
)
from broadcaster.web.portal.words import WORDS, language

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=WEB / "templates")
templates.env.globals["asset_url"] = asset_url
router = APIRouter(prefix="/portal", include_in_schema=False)
DAYS_BEFORE, DAYS_AFTER = 2, 7  # the page
FEED_DAYS_BEFORE, FEED_DAYS_AFTER = 14, 30  # the calendar feed
REMINDERS = (0, 5, 15, 30)  # minutes before a slot a phone may remind; 15 unless the station chooses
DEFAULT_REMINDER = 15
SlotId = Annotated[int, InPath(ge=1, le=2**62)]  # a slot is its delivery's number, which a database can store


def install(app: FastAPI) -> None:
    """Add the portal's pages to the app (its static files are the app's, `web.assets`)."""
    app.include_router(router)


# ---- signing in and out ----------------------------------------------------------------------------


@router.get("/link/{token}")
def open_link(request: Request, token: str, session: DbSession) -> Response:
    """The secret link: a signed cookie for the station, then its page (the token leaves the address bar)."""
    words = WORDS[language(request)]
    try:
        station = airing.station_for_link(session, token)
    except airing.LinkRefused:
        return _refused(request, words["link_refused"], 403)
    fingerprint = airing.link_fingerprint(session, station)
    assert fingerprint is not None
    response = RedirectResponse("/portal", status_code=303)
    set_link_cookie(request, response, station, fingerprint)
    return response


@router.post("/sign-out")
def leave(request: Request, session: DbSession, csrf: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    """Ends the account's sign-in or forgets the link; an account goes to the sign-in page. Only from the
    portal's own page: another site must not sign a station out (a link's holder would need the link again)."""
    if not from_our_pages(request, csrf):
        return _refused(request, WORDS[language(request)]["sign_out_refused"], 403)
    was_account = request.cookies.get(console_sessions.COOKIE) is not None
    target = "/login" if was_account else "/portal/signed-out"
    response = RedirectResponse(target, status_code=303)
    sign_out(request, session, response)
    return response


@router.get("/signed-out", response_class=HTMLResponse)
def signed_out_page(request: Request) -> Response:
    words = WORDS[language(request)]
    return _page(request, "portal/refused.html", {"message": words["bye"], "hint": words["bye_link"], "bye": True})


# ---- pages ----------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def slots_page(request: Request, session: DbSession, remind: Annotated[int | None, Query()] = None) -> Response:
    try:
        station = current_station(request, session)
    except NotSignedIn:
        return _signed_out(request)
    return _page(request, "portal/slots.html", _slots_context(request, session, station, remind))


@router.get("/slots/{delivery_id}", response_class=HTMLResponse)
def script_page(request: Request, delivery_id: SlotId, session: DbSession) -> Response:
    """One script on a phone: large type, one tap to hear it, the lines not to read set apart."""
    try:
        station = current_station(request, session)
    except NotSignedIn:
        return _signed_out(request)
    try:
        slot = airing.station_slot(session, station, delivery_id)
    except airing.Refused:
        return _refused(request, WORDS[language(request)]["not_your_slot"], 404)
    context = _common(request, station) | {
        "card": cards.card(request, slot),
        "script": cards.script(request, slot),
        "on_script_page": True,
    }
    return _page(request, "portal/script.html", context)


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
    words = WORDS[language(request)]
    if not from_our_pages(request, csrf):
        return _refused(request, words["form_refused"], 403)
    error = None
    try:
        confirm_slot(
            session,
            portal_actor(request, session, station),
            cards.settings_of(request),
            delivery_id,
            aired=aired == "1",
            aired_at=_time_of(aired_at),
            reason=reason or None,
            note=note,
        )
    except airing.Refused as exc:
        error = words.get(exc.code, str(exc)).format(**exc.values) if exc.code else str(exc)
    typed = {"aired": aired, "aired_at": aired_at, "reason": reason, "note": note} if error else {}
    failed = {"error": error, "error_slot": delivery_id, "typed": typed}
    if request.headers.get("HX-Request") != "true":
        if error is None:
            return RedirectResponse(f"/portal#slot-{delivery_id}", status_code=303)
        context = _slots_context(request, session, station) | failed
        shown = {item["slot"].delivery_id for key in ("today", "earlier") for item in context[key] if "slot" in item}
        context["page_error"] = error if delivery_id not in shown else None  # else it stands in its slot's card
        return _page(request, "portal/slots.html", context, status_code=422)
    slot = airing.station_slot(session, station, delivery_id)
    context = _common(request, station) | {"card": cards.card(request, slot)} | failed
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
        return _refused(request, words["not_your_slot"], 404)
    files = cards.station_files(cards.settings_of(request))
    path = files.kept_file(slot.file, kind) if slot.file else None
    if path is None:
        return _refused(request, words["no_file"], 404)
    # `?download` saves the file (the audio, to play it later without the network); else it opens in place.
    inline = kind != "docx" and "download" not in request.query_params
    return FileResponse(
        path,
        media_type=files.media_type(kind),
        filename=path.name,
        content_disposition_type="inline" if inline else "attachment",
    )


# ---- the calendar feed ------------------------------------------------------------------------------


@router.get("/calendar/{slug}/{token}.ics")
def calendar(request: Request, slug: str, token: str, session: DbSession, remind: int | None = None) -> Response:
    """The station's slots for a phone calendar; the secret in the address only reads the calendar."""
    try:
        station = airing.station_for_feed(session, slug, token, request.app.state.signing_secret)
    except airing.LinkRefused:
        return Response(WORDS["vi"]["link_refused"], status_code=403, media_type="text/plain; charset=utf-8")
    return _feed(request, session, station, remind)


@router.get("/link/{token}/calendar.ics")
def link_calendar(request: Request, token: str, session: DbSession, remind: int | None = None) -> Response:
    """The same feed under the station's portal link, for calendars subscribed to it before."""
    try:
        station = airing.station_for_link(session, token)
    except airing.LinkRefused:
        return Response(WORDS["vi"]["link_refused"], status_code=403, media_type="text/plain; charset=utf-8")
    return _feed(request, session, station, remind)


def _feed(request: Request, session: Session, station: Station, remind: int | None) -> Response:
    settings = cards.settings_of(request)
    start, end = airing.days_around(settings.today(), settings.zone, FEED_DAYS_BEFORE, FEED_DAYS_AFTER)
    schedule = airing.station_schedule(session, settings, station, start, end)
    minutes = remind if remind in REMINDERS else None
    body = station_calendar(station, schedule, settings, installation=installation_id(session), remind_minutes=minutes)
    # Phones poll the feed: they may keep it a few minutes, then ask again with its ETag and, when nothing
    # changed (the feed says the same thing twice), get a 304 and no body over a slow line.
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": "private, max-age=300", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


def feed_links(request: Request, session: Session, station: Station, remind: int) -> dict[str, str]:
    """The station's feed as a link to copy, a webcal link (iPhone) and a Google Calendar link (Android)."""
    settings = cards.settings_of(request)
    token = airing.feed_token(session, station, request.app.state.signing_secret)
    address = f"{settings.public_url}/portal/calendar/{station.slug}/{token}.ics"
    if remind:
        address += f"?remind={remind}"
    webcal = "webcal://" + address.split("://", 1)[1]
    return {
        "address": address,
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?cid=" + quote(webcal, safe=""),
    }


# ---- building the pages ---------------------------------------------------------------------------------


def _time_of(text: str) -> time | None:
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
        "today_day": cards.settings_of(request).today(),
        "by_account": by_account(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "error": None,
        "error_slot": None,
        "typed": {},
    }


def _slots_context(request: Request, session: Session, station: Station, remind: int | None = None) -> dict[str, Any]:
    settings = cards.settings_of(request)
    start, end = airing.days_around(settings.today(), settings.zone, DAYS_BEFORE, DAYS_AFTER)
    schedule = airing.station_schedule(session, settings, station, start, end)
    chosen = remind if remind in REMINDERS else DEFAULT_REMINDER
    return (
        _common(request, station)
        | cards.by_day(cards.schedule_cards(request, schedule), settings.today())
        | {
            "today_date": cards.when(request, settings.clock.now())["date"],
            "page_error": None,
            "feed": feed_links(request, session, station, chosen),
            "reminders": REMINDERS,
            "remind": chosen,
        }
    )


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    commit_before_answering(request)
    lang = language(request)
    base = {"lang": lang, "w": WORDS[lang]}
    response = templates.TemplateResponse(request, name, base | context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(request: Request, message: str, status_code: int) -> HTMLResponse:
    return _page(request, "portal/refused.html", {"message": message}, status_code=status_code)


def _signed_out(request: Request) -> HTMLResponse:
    words = WORDS[language(request)]
    context = {"message": words[why_signed_out(request)], "sign_in": True}
    return _page(request, "portal/refused.html", context, status_code=401)
