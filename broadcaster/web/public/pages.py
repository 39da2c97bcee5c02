"""The public verification page, `/tra-cuu`: no login, Vietnamese first (`?lang=en` for English).

One server-rendered page answers the three questions with plain GET forms, so it works on any phone
without scripts; it loads one small stylesheet from this site and nothing from anywhere else. Every
answer is about approved content only (`broadcaster.verification`); nothing a visitor types is stored.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select

from broadcaster import verification
from broadcaster.models import Issuer
from broadcaster.settings import Settings
from broadcaster.web.auth import DbSession
from broadcaster.web.public.limits import ClientLimit
from broadcaster.web.public.words import words_for

HERE = Path(__file__).parent
# Public pages change when a campaign is approved; a minute of caching costs nothing and spares the server.
CACHE = "public, max-age=60"
# An answer to a question holds what the visitor typed (the number that called them): their browser may keep
# it, a shared cache may not.
LOOKUP_CACHE = "private, max-age=60"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)
Lang = Annotated[str | None, Query(max_length=5)]


@lru_cache(maxsize=1)
def _pages() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["day"] = lambda value: f"{value:%d/%m/%Y}"
    return environment


def _limit(request: Request) -> ClientLimit:
    limit: ClientLimit | None = getattr(request.app.state, "public_limit", None)
    if limit is None:
        settings: Settings = request.app.state.settings
        limit = request.app.state.public_limit = ClientLimit(settings.public_requests_per_minute)
    return limit


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _pages().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, "Cache-Control": CACHE})


def limited(request: Request, lang: str | None = None) -> HTMLResponse | None:
    """The refusal page when this client asked too often this minute, else None."""
    if _limit(request).allow(request):
        return None
    words = words_for(lang)
    response = page("message.html.j2", 429, t=words, message=words["limited"], lang=words["lang"])
    response.headers["Retry-After"] = "60"
    response.headers["Cache-Control"] = "no-store"
    return response


def parse_day(text: str) -> date | None:
    """A date as people write it: 14/05/2024, 14/5/2024, 14-05-2024, 14.05.2024 or 2024-05-14."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d\d-\d\d", text) else None
    except ValueError:
        return None


def _issuer_names(session: DbSession) -> str:
    names = [f"{issuer.unit_name} {issuer.place}" for issuer in session.scalars(select(Issuer).order_by(Issuer.slug))]
    return ", ".join(names)


def _letter_answer(session: DbSession, settings: Settings, number: str, day_text: str, today: date) -> dict[str, Any]:
    """What to say about a letter: a problem with the question, or the letter found (None: no such letter)."""
    answer: dict[str, Any] = {"problem": None, "letter": None, "day": None}
    if not number.strip() or not day_text.strip():
        return answer | {"problem": "need_both"}
    day = parse_day(day_text)
    if day is None:
        return answer | {"problem": "bad_date"}
    return answer | {"letter": verification.find_letter(session, settings, number, day, today), "day": day}


@router.get("/tra-cuu", response_class=HTMLResponse)
def lookup(
    request: Request,
    session: DbSession,
    lang: Lang = None,
    so: Annotated[str, Query(max_length=verification.MAX_INPUT)] = "",
    van_ban: Annotated[str, Query(alias="van-ban", max_length=verification.MAX_INPUT)] = "",
    ngay: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The verification page; with `so` it answers for a number, with `van-ban` and `ngay` for a letter."""
    if (refusal := limited(request, lang)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    today = settings.today()
    words = words_for(lang)
    answer = verification.check_number(session, so) if so.strip() else None
    letter = _letter_answer(session, settings, van_ban, ngay, today) if (van_ban or ngay) else None
    response = page(
        "lookup.html.j2",
        t=words,
        lang=words["lang"],
        issuers=_issuer_names(session),
        lines=verification.official_lines(session),
        asked=so,
        answer=answer,
        warnings=verification.current_warnings(session, settings, today),
        letter_number=van_ban,
        letter_day=ngay,
        letter=letter,
    )
    if so or van_ban or ngay:
        response.headers["Cache-Control"] = LOOKUP_CACHE
    return response


@router.get("/tra-cuu/canh-bao/{slug}", response_class=HTMLResponse)
def warning_page(request: Request, session: DbSession, slug: str, lang: Lang = None) -> Response:
    """The permanent page of one warning: what it says, its letter, its CAP alert."""
    if (refusal := limited(request, lang)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    words = words_for(lang)
    campaign = verification.published_campaign(session, slug)
    if campaign is None:
        return page("message.html.j2", 404, t=words, message=words["not_found"], lang=words["lang"])
    today = settings.today()
    return page(
        "warning.html.j2",
        t=words,
        lang=words["lang"],
        warning=verification.warning_of(campaign, settings, today),
        texts=verification.public_texts(session, campaign, settings, words["lang"]),
        alert=verification.alert_link(session, campaign, settings),
    )


@router.get("/tra-cuu/cong-van/{slug}.pdf")
def letter_pdf(request: Request, session: DbSession, slug: str) -> Response:
    """The approved letter as the A4 PDF agencies receive."""
    if (refusal := limited(request)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    campaign = verification.published_campaign(session, slug)
    document = verification.letter_document(session, campaign, settings) if campaign else None
    if document is None:
        words = words_for(None)
        return page("message.html.j2", 404, t=words, message=words["not_found"], lang=words["lang"])
    headers = {"Content-Disposition": f'inline; filename="{document.name}"', "Cache-Control": CACHE}
    return Response(document.pdf, media_type=document.media_type, headers=headers)


@router.get("/tra-cuu/cong-van/{slug}", response_class=HTMLResponse)
def letter_page(request: Request, session: DbSession, slug: str, lang: Lang = None) -> Response:
    """The full text of an approved letter."""
    if (refusal := limited(request, lang)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    words = words_for(lang)
    campaign = verification.published_campaign(session, slug)
    letter = verification.letter_of(session, campaign, settings, settings.today()) if campaign else None
    if letter is None:
        return page("message.html.j2", 404, t=words, message=words["not_found"], lang=words["lang"])
    return page("letter.html.j2", t=words, lang=words["lang"], letter=letter)


@router.get("/tra-cuu/tra-cuu.css")
def stylesheet() -> Response:
    css = (HERE / "static" / "tra-cuu.css").read_bytes()
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})
