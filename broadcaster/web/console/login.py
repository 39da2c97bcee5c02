"""Signing in and out. A station's account lands on its portal; everyone else on the dashboard (or the page
they were sent away from)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broadcaster import accounts
from broadcaster.errors import AuthenticationFailed, TooManyAttempts
from broadcaster.web import sessions
from broadcaster.web.auth import DbSession, client_address
from broadcaster.web.console.pages import FormState, console_router, render, words_of

router = console_router()


def _landing(role: str, wanted: str | None) -> str:
    if role == "station":
        return "/portal"
    # Only a path of this site: an address given in ?next= must not send someone elsewhere after signing in.
    if wanted and wanted.startswith("/") and not wanted.startswith(("//", "/\\")):
        return wanted
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: DbSession, next: str = "") -> Response:
    account = sessions.session_account(request, session)
    if account is not None:
        return RedirectResponse(_landing(account.role, next), status_code=303)
    return render(request, "login.html", {"form": FormState(values={"next": next})})


@router.post("/login", response_class=HTMLResponse)
def sign_in(
    request: Request,
    session: DbSession,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    words = words_of(request)
    form = FormState(values={"login": login, "next": next})
    if not login.strip():
        form.fail("login", words["login_empty"])
    if not password:
        form.fail("password", words["password_empty"])
    if not form.failed:
        try:
            now = request.app.state.settings.clock.now()
            account = accounts.authenticate_password(session, login, password, client_address(request), now)
        except TooManyAttempts as exc:
            form.fail("", words["too_many"].format(seconds=exc.retry_after))
        except AuthenticationFailed as exc:
            form.fail("password", words["account_disabled"] if "disabled" in str(exc) else words["wrong_login"])
        else:
            response = RedirectResponse(_landing(account.role, next), status_code=303)
            sessions.open_session(session, request, response, account)
            return response
    # Returned, not raised: the page shows each sentence beside its field (failures are counted apart).
    return render(request, "login.html", {"form": form}, status_code=422 if form.errors.keys() - {""} else 429)


@router.post("/logout")
def sign_out(request: Request, session: DbSession) -> Response:
    response = RedirectResponse("/login", status_code=303)
    sessions.close_session(session, request, response)
    return response
