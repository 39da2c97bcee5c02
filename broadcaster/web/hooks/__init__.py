"""Callbacks from providers: SMS delivery reports (DOMAIN §11), no account needed.

Gateways sign nothing, so the path carries an unguessable per-installation token
(`broadcaster.installation.callback_token`); a wrong token is a plain 404. The token never reaches a
log: the access log shows `/hooks/sms/***/…`. Every report is answered 200 once it is recorded or kept,
including interim statuses and ids nothing matches, so a gateway never retries what was taken; only a
callback that is not a report at all gets a 400 saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from broadcaster.clock import Clock
from broadcaster.db import retrying
from broadcaster.installation import callback_token, installation_id
from broadcaster.operations.reports import receive_callbacks
from broadcaster.reports import Applied
from broadcaster.web.limits import BodyTooLarge, body_limit, refuse
from channels.base import ReceivesCallbacks, Report, registered_channels

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
# A callback's token, and a campaign calendar's secret link (web/public/feeds.py), never reach the log.
_TOKEN_IN_PATH = re.compile(
    r"(/hooks/[a-z]+/|/feeds/campaigns/[^/?\s]+/|/portal/link/|/portal/calendar/[^/?\s]+/)[^/?\s]+"
)


_PATH = re.compile(r"/hooks/([a-z]+)/([^/]+)/([^/]+)")
_JSON = [(b"content-type", b"application/json")]
_PROBLEM = [(b"content-type", PROBLEM.encode())]


class CallbackFastPath:
    """The callback endpoint as a plain ASGI handler in front of the app: a gateway reports thousands of
    messages a second, and each callback is tiny, so it skips the routing, dependencies and middleware
    stack the pages and the API need (about half of a callback's server CPU went there). Every other path goes on to the
    app untouched. Parsing happens here; the database work is done by the app's one report writer thread
    over the sync sessions, many callbacks per transaction, and each callback is answered only once its
    transaction committed (so an answered report is never lost)."""

    def __init__(self, app: ASGIApp, state: Any, max_request_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: settings, sessions, the writer once made
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        channel, token, dialect = found.groups()
        if scope["method"] not in ("GET", "POST"):
            detail = f"{scope['method']} is not allowed on /hooks/{channel}/***/{dialect}"
            problem = {"title": "Method Not Allowed", "status": 405, "detail": detail}
            await _answer_json(send, 405, problem, [*_PROBLEM, (b"allow", b"GET, POST")])
            return
        writer = self._writer()
        installation = await writer.installation()
        reader = _callback_reader(channel)
        known = reader is not None and dialect in reader.callback_forms()
        if not hmac.compare_digest(token.encode(), self._token(installation).encode()) or reader is None or not known:
            await _answer_json(send, 404, {"title": "not found", "status": 404}, _PROBLEM)
            return
        body = await self._body(scope, receive, send)
        if body is None:
            return
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        try:
            reports = reader.parse_callback(dialect, query, body)
        except ValueError as exc:
            problem = {"title": "not a delivery report", "status": 400, "detail": str(exc)}
            await _answer_json(send, 400, problem, _PROBLEM)
            return
        applied = await writer.apply(dialect, reports)
        await _answer_json(send, 200, {"received": len(reports), "recorded": applied.applied}, _JSON)

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once a body over the size limit was refused (as `web.limits` does)."""
        limit, upload, over = body_limit(scope["headers"], self.max_request_bytes, self.max_upload_bytes)
        if over:
            await refuse(scope, send, BodyTooLarge(limit, upload))
            return None
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client left; nothing is answered to nobody
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await refuse(scope, send, BodyTooLarge(limit, upload))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _writer(self) -> ReportWriter:
        found: ReportWriter | None = getattr(self.state, "report_writer", None)
        if found is None:
            found = self.state.report_writer = ReportWriter(self.state.sessions, self.state.settings.clock)
        return found

    def _token(self, installation: str) -> str:
        found: str | None = getattr(self.state, "callback_token", None)
        if found is None:
            found = self.state.callback_token = callback_token(self.state.settings, installation)
        return found


def _callback_reader(channel: str) -> type[ReceivesCallbacks] | None:
    """The adapter that reads this channel's callbacks; None for a channel that has none (or no such channel)."""
    found = registered_channels().get(channel)
    return found if found is not None and issubclass(found, ReceivesCallbacks) else None


async def _answer_json(send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    start = [*headers, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": payload})


class ReportWriter:
    """One thread that writes delivery reports: what waits when it finishes a transaction goes into the next
    one together (up to `batch`), so a burst of callbacks costs a few commits instead of one each."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, batch: int = 500) -> None:
        self.sessions = sessions
        self.clock = clock
        self.batch = batch
        self.queue: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._installation: str | None = None
        self.thread = threading.Thread(target=self._run, name="report-writer", daemon=True)
        self.thread.start()

    async def installation(self) -> str:
        if self._installation is None:
            self._installation = await run_in_threadpool(self._read_installation)
        return self._installation

    def _read_installation(self) -> str:
        with self.sessions() as session, session.begin():
            return installation_id(session)

    async def apply(self, dialect: str, reports: list[Report]) -> Applied:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Applied] = loop.create_future()
        self.queue.put(_Work(dialect, reports, loop, done))
        return await done

    def _run(self) -> None:
        while True:
            work = [self.queue.get()]
            while len(work) < self.batch:
                try:
                    work.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self._write(work)

    def _write(self, work: list[_Work]) -> None:
        assert self._installation is not None  # read before any report is queued
        installation = self._installation

        def write_all() -> list[Applied]:
            # Workers update the same deliveries: on PostgreSQL the two can deadlock, and the loser is run again.
            with self.sessions() as session, session.begin():
                now = self.clock.now()
                return receive_callbacks(session, installation, [(item.dialect, item.reports) for item in work], now)

        try:
            results = retrying(write_all)
        except Exception as exc:  # nothing of this transaction was written: every callback in it is told so
            log.exception("could not record %d delivery report callbacks", len(work), extra={"action": "report"})
            for item in work:
                _answer(item, _fail, exc)
            return
        for item, result in zip(work, results, strict=True):
            _answer(item, _succeed, result)


@dataclass(frozen=True)
class _Work:
    dialect: str
    reports: list[Report]
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[Applied]


def _answer(item: _Work, how: Callable[[asyncio.Future[Applied], Any], None], value: object) -> None:
    """Hand the outcome back to the request's event loop; a loop that has closed (the server stopped) has
    nobody left to answer, and must not stop the writer."""
    with contextlib.suppress(RuntimeError):
        item.loop.call_soon_threadsafe(how, item.done, value)


def _succeed(done: asyncio.Future[Applied], result: Any) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[Applied], exc: Any) -> None:
    if not done.done():
        done.set_exception(exc)


class _NoTokenInAccessLog(logging.Filter):
    """uvicorn's access log line names the path: the token of a callback, a calendar link or a station's
    portal link is replaced by ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path = record.args[2]
            if path.startswith(("/hooks/", "/feeds/", "/portal/link/", "/portal/calendar/")):
                record.args = (*record.args[:2], _TOKEN_IN_PATH.sub(r"\1***", path), *record.args[3:])
        return True


def install(app: FastAPI) -> None:
    """Keep tokens out of uvicorn's access log (the endpoint itself is `CallbackFastPath`, set by the app)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(item, _NoTokenInAccessLog) for item in access.filters):
        access.addFilter(_NoTokenInAccessLog())
