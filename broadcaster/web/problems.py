"""Every error the app answers is an RFC 9457 problem document carrying one sentence (and field paths).

The sentences are the ones the command line prints: the same `UserError` types, mapped to HTTP statuses.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from broadcaster.airing import Refused
from broadcaster.errors import (
    AuthenticationFailed,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    TransitionRefused,
    UserError,
)
from broadcaster.problems import InvalidInput, field_path, sentence

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"

# The most specific class first: a subclass must not be answered with its parent's status.
_STATUS_OF: list[tuple[type[UserError], int]] = [
    (InvalidInput, 422),
    (AuthenticationFailed, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (TransitionRefused, 409),
    (Refused, 409),  # a slot report the slot's time or campaign does not allow
    (TooManyAttempts, 429),
    (UserError, 400),
]


def problem(
    status: int,
    detail: str,
    request: Request | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def status_of(exc: UserError) -> int:
    return next(status for kind, status in _STATUS_OF if isinstance(exc, kind))


def user_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UserError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, InvalidInput):
        extensions["errors"] = [{"where": item.where, "message": item.message} for item in exc.problems]
    return problem(status, str(exc), request, headers=headers, **extensions)


def configuration_error(request: Request, exc: Exception) -> JSONResponse:
    # The installation cannot do what was asked until an operator fixes a setting: the server's fault, said
    # in its sentence (which names the setting, never a secret) and logged for the operators.
    log.error("configuration error answering %s %s: %s", request.method, request.url.path, exc)
    return problem(503, str(exc), request)


def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"there is nothing at {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem(exc.status_code, detail, request, headers=dict(exc.headers or {}))


def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"where": field_path(list(error.get("loc", ()))), "message": sentence(error)} for error in exc.errors()]
    count = len(errors)
    detail = f"the request has {count} problem{'s' if count != 1 else ''}: " + "; ".join(
        f"{item['where']}: {item['message']}" if item["where"] else item["message"] for item in errors[:5]
    )
    return problem(422, detail, request, errors=errors)


def database_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("the database could not be used: %s", getattr(exc, "orig", exc))
    return problem(503, "the database could not be used; try again shortly", request, headers={"Retry-After": "5"})


def conflict(request: Request, exc: Exception) -> JSONResponse:
    # Two requests raced to write the same thing (the same Idempotency-Key, a new account name…): the later
    # one's transaction was rolled back whole, so nothing of it was written.
    log.info("a write lost a race and was rolled back: %s", getattr(exc, "orig", exc))
    return problem(
        409, "another request changed the same thing at the same moment; nothing was written: retry", request
    )


def number_too_large(request: Request, exc: Exception) -> JSONResponse:
    # A number past what the database stores (SQLite refuses integers over 2**63 when they are bound).
    return problem(400, "a number in the request is too large", request)


def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return problem(500, "something unexpected went wrong; it was logged for the operators", request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(UserError, user_error)
    app.add_exception_handler(ConfigurationError, configuration_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(IntegrityError, conflict)
    app.add_exception_handler(OverflowError, number_too_large)
    app.add_exception_handler(Exception, unexpected_error)
