"""The one-time link `broadcaster setup` prints when it has no terminal to ask for the first administrator's
password: the person chooses it here, then signs in. The link opens nothing once a password is set."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broadcaster.accounts import MIN_PASSWORD_LENGTH
from broadcaster.errors import UserError
from broadcaster.operations.setup_folder import finish_welcome, welcomed_account
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import FormState, console_router, render, words_of
from broadcaster.web.console.words import language

router = console_router()


def _refused(request: Request) -> Response:
    form = FormState()
    form.fail("", words_of(request)["welcome_invalid"])
    return render(request, "welcome.html", {"form": form, "login": None}, status_code=404)


@router.get("/chao-mung/{token}", response_class=HTMLResponse)
def welcome_page(request: Request, session: DbSession, token: str) -> Response:
    try:
        account = welcomed_account(session, request.app.state.signing_secret, token, _now(request))
    except UserError:
        return _refused(request)
    return render(request, "welcome.html", {"form": FormState(), "login": account.login})


@router.post("/chao-mung/{token}", response_class=HTMLResponse)
def choose_password(
    request: Request,
    session: DbSession,
    token: str,
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
) -> Response:
    secret: bytes = request.app.state.signing_secret
    try:
        account = welcomed_account(session, secret, token, _now(request))
    except UserError:
        return _refused(request)
    words = words_of(request)
    form = FormState()
    if len(password) < MIN_PASSWORD_LENGTH:
        form.fail("password", words["password_short"].format(length=MIN_PASSWORD_LENGTH))
    elif password != password_again:
        form.fail("password_again", words["passwords_differ"])
    else:
        try:
            with session.begin_nested():
                finish_welcome(session, secret, token, password, _now(request))
        except UserError as exc:
            form.fail_with(exc, language(request))
    if form.failed:
        return render(request, "welcome.html", {"form": form, "login": account.login}, status_code=422)
    return RedirectResponse("/login?welcomed=1", status_code=303)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.settings.clock.now()
    return now
