"""Accounts (administrators: list, add, disable or enable, reset a password) and the audit log with filters."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import accounts, airing
from broadcaster.accounts import ROLES, Actor
from broadcaster.errors import UserError
from broadcaster.models import Station
from broadcaster.operations import accounts as account_operations
from broadcaster.operations import audit
from broadcaster.operations.campaigns import list_campaigns
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import (
    FormState,
    NavItem,
    console_router,
    dates_of,
    page_for,
    register_nav,
    render,
    settings_of,
    words_of,
)
from broadcaster.web.console.sentences import sentence_of
from broadcaster.web.console.words import Dates, language

router = console_router()
register_nav(NavItem(80, "accounts", "/accounts", "users:manage"))
register_nav(NavItem(90, "audit", "/audit", "campaigns:read"))
Admin = Annotated[Actor, Depends(page_for("users:manage"))]
Reader = Annotated[Actor, Depends(page_for("campaigns:read"))]


def _accounts_page(request: Request, session: Session, form: FormState, status: int = 200, **extra: Any) -> Response:
    context = {"accounts": accounts.list_accounts(session), "roles": list(ROLES), "form": form, **extra}
    return render(request, "accounts.html", context, status_code=status)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, session: DbSession, actor: Admin) -> Response:
    done = request.query_params.get("done", "")
    return _accounts_page(
        request, session, FormState(values={"role": "drafter"}), done=words_of(request).get(f"done_{done}")
    )


@router.post("/accounts", response_class=HTMLResponse)
def add_account(
    request: Request,
    session: DbSession,
    actor: Admin,
    login: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    stations: Annotated[str, Form()] = "",
) -> Response:
    words = words_of(request)
    form = FormState(values={"login": login, "display_name": display_name, "role": role, "stations": stations})
    if not login.strip():
        form.fail("login", words["login_empty"])
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        form.fail("password", words["password_short"].format(length=accounts.MIN_PASSWORD_LENGTH))
    if role not in ROLES:
        form.fail("role", words["role_unknown"])
    slugs = [slug for slug in stations.replace(",", " ").split() if slug]
    if role == "station" and not slugs:
        form.fail("stations", words["stations_needed"])
    if not form.failed:
        try:
            with session.begin_nested():
                account_operations.add_account(
                    session, actor, login, role, password, display_name or None, slugs if role == "station" else None
                )
        except UserError as exc:
            text = str(exc)
            field = "stations" if "station" in text else "login" if "account" in text else ""
            form.fail(field, sentence_of(exc, language(request)))
    if form.failed:
        return _accounts_page(request, session, form, 422)
    return RedirectResponse("/accounts?done=add", status_code=303)


@router.post("/accounts/{login}/{action}", response_class=HTMLResponse)
def change_account(
    request: Request,
    session: DbSession,
    actor: Admin,
    login: str,
    action: str,
    password: Annotated[str, Form()] = "",
) -> Response:
    """disable, enable, or password (reset to the one typed)."""
    words = words_of(request)
    form = FormState()
    field = f"{login}-{action}"
    try:
        with session.begin_nested():
            if action in ("disable", "enable"):
                account_operations.set_disabled(session, actor, login, action == "disable")
            elif action == "password":
                if len(password) < accounts.MIN_PASSWORD_LENGTH:
                    raise UserError(words["password_short"].format(length=accounts.MIN_PASSWORD_LENGTH))
                account_operations.reset_password(session, actor, login, password)
            else:
                raise UserError(f"'{action}' is not something done to an account (disable, enable, password)")
    except UserError as exc:
        form.fail(field, sentence_of(exc, language(request)))
        return _accounts_page(request, session, form, 422)
    return RedirectResponse(f"/accounts?done={action}", status_code=303)


# ---- the audit log --------------------------------------------------------------------------------------


def _day(text: str, name: str, form: FormState, words: dict[str, str]) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        form.fail(name, words["bad_date"].format(text=text))
        return None


_ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?$")


def readable_details(
    details: dict[str, Any], words: dict[str, str], dates: Dates, station_names: dict[str, str], lang: str
) -> list[tuple[str, str]]:
    """An audit entry's details as a person reads them: "Lý do: Mất điện", not "reason: power"; moments in
    the issuer's time zone, yes or no in words, stations by name; a detail with no value is left out."""
    shown = []
    for key, value in details.items():
        if value is None or value == "" or key == "changes":  # changes are shown as diffs by the page
            continue
        shown.append((words.get(f"audit_{key}", key), _readable(key, value, words, dates, station_names, lang)))
    return shown


def _readable(key: str, value: Any, words: dict[str, str], dates: Dates, names: dict[str, str], lang: str) -> str:
    if isinstance(value, bool):
        return words["audit_yes" if value else "audit_no"]
    if isinstance(value, list):
        return ", ".join(_readable(key, item, words, dates, names, lang) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{name}: {_readable(name, item, words, dates, names, lang)}" for name, item in value.items())
    text = str(value)
    if _ISO_MOMENT.match(text):
        return dates.when(datetime.fromisoformat(text.replace("Z", "+00:00")))
    if key == "reason" and text in {item.value for item in airing.NotAiredReason}:
        return airing.reason_words(text, lang)
    if key == "station":
        return names.get(text, text)
    if key in ("slot", "channel"):
        return words.get(f"{key}_{text}", text)
    return text


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DbSession,
    actor: Reader,
    campaign: str = "",
    account: str = "",
    action: str = "",
    starts: str = "",
    ends: str = "",
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    words = words_of(request)
    values = {"campaign": campaign, "account": account, "action": action, "starts": starts, "ends": ends}
    form = FormState(values=values)
    wanted = audit.AuditFilter(
        campaign or None,
        account or None,
        action or None,
        _day(starts, "starts", form, words),
        _day(ends, "ends", form, words),
    )
    page = None
    if not form.failed:
        try:
            page = audit.search(session, actor, settings_of(request), wanted, before)
        except UserError as exc:
            form.fail("campaign", sentence_of(exc, language(request)))
    words, dates, lang = words_of(request), dates_of(request), language(request)
    names = {slug: name for slug, name in session.execute(select(Station.slug, Station.name))}
    shown = {row.id: readable_details(row.details, words, dates, names, lang) for row in page.rows} if page else {}
    context = {
        "form": form,
        "page": page,
        "shown": shown,
        "campaigns": list_campaigns(session, actor),
        "actions": audit.actions(session, actor),
        "accounts_known": [item.login for item in accounts.list_accounts(session)],
        "query": {key: value for key, value in values.items() if value},
    }
    return render(request, "audit.html", context, status_code=422 if form.failed else 200)
