"""The app factory: one FastAPI app for the API and the pages, over the sync SQLAlchemy sessions.

    from broadcaster.web.app import create_app
    app = create_app()                       # settings from the environment, the configured database
    app = create_app(settings, sessions)     # tests: their own settings and sessionmaker

Handlers are plain `def` functions (FastAPI runs them in its thread pool), each request gets its own
session (`web.auth.db_session`), and every error is a problem document (`web.problems`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette_compress import CompressMiddleware

from broadcaster import __version__, letters
from broadcaster.db import make_engine, make_sessions, schema_is_current, shown_url
from broadcaster.errors import UserError
from broadcaster.settings import Settings, get_settings
from broadcaster.signing import signing_secret
from broadcaster.web import api, assets, console, health, hooks, portal, problems, public
from broadcaster.web.auth import Authenticator, bearer_account
from broadcaster.web.limits import BodySizeLimit
from broadcaster.web.security import SecurityHeaders

API_PREFIX = "/api/v1"


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    # A serving process that stops takes its layout children with it (`letters.lay_out_in_a_process`).
    letters.stop_laying_out()


def create_app(settings: Settings | None = None, sessions: sessionmaker[Session] | None = None) -> FastAPI:
    settings = settings or get_settings()
    if sessions is None:
        engine = make_engine(settings.database_url)
        if not schema_is_current(engine):
            raise UserError(
                f"the database at {shown_url(engine.url)} is not set up or is out of date: run 'broadcaster db upgrade'"
            )
        sessions = make_sessions(engine)
    app = FastAPI(
        title="broadcaster",
        version=__version__,
        summary="Warning campaigns delivered on a timetable through e-mail, SMS, Facebook and radio.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's own docs page loads its scripts from a CDN; ours is served from the package
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.signing_secret = signing_secret(settings)
    authenticators: list[Authenticator] = [bearer_account]
    app.state.authenticators = authenticators
    problems.install(app)
    # Pages, feeds and static files go out compressed (zstd, brotli or gzip): a station's phone is often on a
    # slow network. Innermost, so the size limit and the callbacks' fast path see requests first.
    app.add_middleware(CompressMiddleware)
    app.add_middleware(
        BodySizeLimit, max_request_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(SecurityHeaders)
    # Callbacks first, in front of every middleware and route: gateways call them thousands of times a second.
    app.add_middleware(
        hooks.CallbackFastPath,
        state=app.state,
        max_request_bytes=settings.max_request_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    hooks.install(app)
    app.include_router(health.router)
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(public.router)
    # Every script, style and image the pages use is served from the package: nothing from elsewhere.
    assets.install(app)
    portal.install(app)
    console.install(app)
    # Letters and reports are laid out in a process of their own, beside the requests rather than between
    # them; the first would pay for loading WeasyPrint and the fonts there: paid now, in the background, so
    # that starting to serve is not slowed.
    letters.lay_out_in_a_process()
    letters.warm_up_in_background()
    return app
