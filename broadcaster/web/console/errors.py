"""Errors on console pages are pages with one sentence (never a traceback); the API keeps its problem documents.

A request is a page request when a console router handled it, or when nothing did and the browser asked for
HTML outside the API. Everything else goes to the handlers `web.problems` installed before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broadcaster.errors import ConfigurationError, NotFound, PermissionDenied, UserError
from broadcaster.web.console.pages import CsrfRefused, LoginNeeded, StationOnly, render, words_of
from broadcaster.web.console.sentences import said, sentence_of
from broadcaster.web.console.words import language

log = logging.getLogger(__name__)
Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
API_PATHS = ("/api/", "/portal", "/cap/", "/tra-cuu")


def is_page_request(request: Request) -> bool:
    if getattr(request.state, "console", False):
        return True
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(API_PATHS)


def _page(request: Request, title: str, message: str, status: int, **extra: Any) -> Response:
    return render(request, "error.html", {"title": title, "message": message, **extra}, status_code=status)


def login_needed(request: Request, exc: Exception) -> Response:
    target = "/login"
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method == "GET" and wanted != "/":
        target += f"?next={quote(wanted, safe='')}"
    if request.headers.get("HX-Request") == "true":  # htmx follows this header with a full page load
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def station_only(request: Request, exc: Exception) -> Response:
    words = words_of(request)
    return _page(request, words["forbidden_title"], words["station_forbidden"], 403, portal=True)


def csrf_refused(request: Request, exc: Exception) -> Response:
    words = words_of(request)
    return _page(request, words["forbidden_title"], words["csrf_refused"], 403)


def _permission_page(request: Request, exc: PermissionDenied) -> Response:
    words = words_of(request)
    actor = getattr(request.state, "actor", None)
    if exc.permission is not None and actor is not None:
        message = words["forbidden"].format(login=actor.login, permission=exc.permission)
    else:
        message = sentence_of(exc, language(request))
    return _page(request, words["forbidden_title"], message, 403)


def install(app: FastAPI) -> None:
    """Put page-aware handlers in front of the problem-document ones already installed."""
    app.add_exception_handler(LoginNeeded, login_needed)
    app.add_exception_handler(StationOnly, station_only)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    previous: dict[Any, Handler] = dict(app.exception_handlers)

    def user_error(request: Request, exc: Exception) -> Response | Awaitable[Response]:
        if not is_page_request(request):
            return previous[UserError](request, exc)
        assert isinstance(exc, UserError)
        words = words_of(request)
        if isinstance(exc, PermissionDenied):
            return _permission_page(request, exc)
        if isinstance(exc, NotFound):
            return _page(request, words["not_found_title"], sentence_of(exc, language(request)), 404)
        return _page(request, words["error_title"], sentence_of(exc, language(request)), 400)

    def configuration_error(request: Request, exc: Exception) -> Response | Awaitable[Response]:
        if not is_page_request(request):
            return previous[ConfigurationError](request, exc)
        log.error("configuration error answering %s %s: %s", request.method, request.url.path, exc)
        return _page(request, words_of(request)["error_title"], said(str(exc), language(request)), 503)

    def http_error(request: Request, exc: Exception) -> Response | Awaitable[Response]:
        assert isinstance(exc, StarletteHTTPException)
        if not is_page_request(request):
            return previous[StarletteHTTPException](request, exc)
        words = words_of(request)
        if exc.status_code == 404:
            return _page(request, words["not_found_title"], words["not_found"].format(path=request.url.path), 404)
        return _page(request, words["error_title"], str(exc.detail), exc.status_code)

    def database_error(request: Request, exc: Exception) -> Response | Awaitable[Response]:
        if not is_page_request(request):
            return previous[OperationalError](request, exc)
        log.error("the database could not be used: %s", getattr(exc, "orig", exc))
        words = words_of(request)
        return _page(request, words["error_title"], words["database_error"], 503)

    def unexpected(request: Request, exc: Exception) -> Response | Awaitable[Response]:
        if not is_page_request(request):
            return previous[Exception](request, exc)
        log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=exc)
        words = words_of(request)
        return _page(request, words["error_title"], words["error"], 500)

    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(ConfigurationError, configuration_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(Exception, unexpected)
