"""The dashboard (`/`): what waits for the person signed in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from broadcaster.operations.dashboard import dashboard
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import NavItem, StaffMember, console_router, register_nav, render, settings_of

router = console_router()
register_nav(NavItem(10, "dashboard", "/"))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, actor: StaffMember) -> Response:
    board = dashboard(session, actor, settings_of(request)) if actor.may("campaigns:read") else None
    return render(request, "dashboard.html", {"board": board})
