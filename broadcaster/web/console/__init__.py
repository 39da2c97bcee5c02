"""The staff console: server-rendered pages (Jinja2 + htmx, everything served from the package), Vietnamese first.

How a page module registers itself
----------------------------------
1. Write `broadcaster/web/console/<name>.py` with a module-level `router = console_router()` (from
   `pages`: every POST on it must carry the CSRF token, which `_forms.html`'s `csrf()` macro writes and
   `base.html` sends as a header on htmx requests), and plain `def` handlers that take
   `actor: Annotated[Actor, Depends(page_for("permission"))]` (or `StaffMember` for any staff member)
   and a `DbSession`, and return `render(request, "<name>.html", context)`.
2. Optionally call `register_nav(NavItem(order, "word_key", "/path", "permission"))` at import time to
   get an entry in the navigation bar (shown only to roles holding the permission).
3. Add `<name>` to `PAGE_MODULES` below. Templates go in `console/templates/` and extend `base.html`;
   words go in `words.py` under both languages; styles in `console/static/console.css`.
4. Business logic stays in `broadcaster/operations/`; refusals raised there (UserError, PermissionDenied,
   NotFound) become the error and 403 pages; a form shows them beside its fields through `FormState`.

Sign-in is a server-side session (`sessions.py`); a station's account that signs in is sent to its portal
and refused every staff page.
"""

from __future__ import annotations

import importlib

from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.requests import Request

from broadcaster.models import Account
from broadcaster.web import sessions
from broadcaster.web.auth import Authenticator
from broadcaster.web.console import errors

PAGE_MODULES = (
    "login",
    "dashboard",
    "campaigns",
    "composer",
    "monitor",
    "directory",
    "calendar",
    "admin",
    "tokens",
    "issuer_numbers",
    "results",
    "welcome",
)


def api_cookie_account(request: Request, session: Session) -> Account | None:
    """The console's sign-in also opens the API to the same browser, for reads and for htmx requests that
    carry the CSRF header; a cross-site form cannot use it to write."""
    safe = request.method in {"GET", "HEAD", "OPTIONS"}
    if not safe and not sessions.csrf_matches(request, request.headers.get(sessions.CSRF_HEADER)):
        return None
    return sessions.session_account(request, session)


def install(app: FastAPI) -> None:
    for name in PAGE_MODULES:
        module = importlib.import_module(f"broadcaster.web.console.{name}")
        app.include_router(module.router)
    authenticators: list[Authenticator] = app.state.authenticators
    authenticators.append(api_cookie_account)
    errors.install(app)
