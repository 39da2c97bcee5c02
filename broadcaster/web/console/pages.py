"""What every console page uses: its router, the signed-in staff member, rendering, forms and their errors.

    router = console_router()                               # CSRF is checked on every POST of this router

    @router.get("/things", response_class=HTMLResponse)
    def things(request: Request, session: DbSession, actor: Annotated[Actor, Depends(page_for("x:read"))]):
        return render(request, "things.html", {"things": ...})

A form that fails is rendered again with a `FormState` (what was typed, and a sentence per field) and
status 422; templates show each sentence beside its field with the macros of `_forms.html`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from broadcaster.accounts import Actor, bind_actor
from broadcaster.errors import UserError
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from broadcaster.web import sessions
from broadcaster.web.assets import asset_url
from broadcaster.web.auth import DbSession, client_address, commit_before_answering
from broadcaster.web.console.sentences import in_language, said, sentence_of
from broadcaster.web.console.words import LANG_COOKIE, WORDS, Dates, language

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["asset_url"] = asset_url


def readable(value: Any) -> str:
    """A stored value as people read it: lists one item after another, mappings as "name: value", never
    Python's own notation."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {readable(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(readable(item) for item in value) or "—"
    return str(value)


templates.env.filters["readable"] = readable
templates.env.filters["in_language"] = in_language
templates.env.filters["said"] = said
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginNeeded(Exception):
    """No open console sign-in: the page sends the browser to the login page."""


class StationOnly(Exception):
    """A station's account asked for a staff page."""


class CsrfRefused(Exception):
    """A form came without this console's token (another site's form, or a page kept open too long)."""


@dataclass(frozen=True)
class NavItem:
    """An entry of the navigation bar, shown to accounts whose role grants `permission` (None: everyone)."""

    order: int
    word: str  # a key of words.WORDS
    path: str
    permission: str | None = None


NAVIGATION: list[NavItem] = []


def register_nav(item: NavItem) -> None:
    NAVIGATION.append(item)
    NAVIGATION.sort(key=lambda entry: entry.order)


# ---- who is asking ------------------------------------------------------------------------------------


async def check_csrf(request: Request) -> None:
    """Every POST (PUT, DELETE…) of a console router carries the form's token, as a field or an htmx header."""
    request.state.console = True
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(sessions.CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(sessions.CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sessions.csrf_matches(request, sent):
        raise CsrfRefused()


def console_router() -> APIRouter:
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])


def signed_in(request: Request, session: DbSession) -> Actor:
    """The staff member of the browser's sign-in; the login page when there is none."""
    account = sessions.session_account(request, session)
    if account is None:
        raise LoginNeeded()
    actor = Actor.for_account(account, client_address(request))
    bind_actor(session, actor)
    request.state.actor = actor
    if account.role == "station":
        raise StationOnly()
    return actor


StaffMember = Annotated[Actor, Depends(signed_in)]


def page_for(permission: str) -> Callable[[Actor], Actor]:
    """A page's dependency: a signed-in staff member whose role grants `permission` (else the 403 page)."""

    def permitted(actor: StaffMember) -> Actor:
        actor.require(permission)
        return actor

    permitted.__name__ = f"page_for_{permission.replace(':', '_')}"
    return permitted


# ---- rendering ------------------------------------------------------------------------------------------


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def words_of(request: Request) -> dict[str, str]:
    return WORDS[language(request)]


def dates_of(request: Request) -> Dates:
    return Dates(settings_of(request).zone, language(request))


def _navigation(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [item for item in NAVIGATION if item.permission is None or actor.may(item.permission)]


def render(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
    """A console page: the template gets `w` (words), `lang`, `dates`, `actor`, `nav` and `csrf_token`."""
    commit_before_answering(request)
    lang = language(request)
    actor: Actor | None = getattr(request.state, "actor", None)
    base = {
        "w": WORDS[lang],
        "lang": lang,
        "other_lang": "en" if lang == "vi" else "vi",
        "dates": dates_of(request),
        "actor": actor,
        "nav": _navigation(actor),
        "csrf_token": sessions.csrf_token(request),
        "csrf_field": sessions.CSRF_FIELD,
        "csrf_header": sessions.CSRF_HEADER,
        "path": request.url.path,
    }
    response = templates.TemplateResponse(request, name, base | dict(context), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    sessions.remember_basis(request, response)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", max_age=365 * 24 * 3600, path="/")
    return response


# ---- forms: each error a sentence next to its field --------------------------------------------------------


@dataclass
class FormState:
    """What was typed and what is wrong with it, field by field; templates show each error beside its field.

        form = FormState(values={"login": login})
        if not login.strip():
            form.fail("login", words["login_empty"])
        if form.failed:
            return render(request, "page.html", {"form": form}, status_code=422)

    `fail_with(exc, lang, where_to_field)` turns a UserError (an InvalidInput lists every problem with its
    field path) into sentences beside the fields; what matches no field goes to the form's top (`""`).
    """

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def fail(self, name: str, sentence: str) -> None:
        if name in self.errors:
            self.errors[name] += " " + sentence
        else:
            self.errors[name] = sentence

    def fail_with(
        self, exc: UserError, lang: str, where_to_field: Callable[[str], str | None] = lambda where: None
    ) -> None:
        """Each of the refusal's sentences, in `lang`, beside its field."""
        if isinstance(exc, InvalidInput):
            for problem in exc.problems:
                self.fail(where_to_field(problem.where) or "", said(str(problem), lang))
        else:
            self.fail("", sentence_of(exc, lang))
