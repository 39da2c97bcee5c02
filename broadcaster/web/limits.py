"""Request limits: a body over the size limit is refused with 413 before the app acts on any of it, and a
JSON body with a key given twice or nested too deep with 400 (`StrictJsonRoute`).

A declared Content-Length over the limit is refused at once; a body that arrives without one (chunked)
is counted as it is read, and the read fails with the same 413 as soon as it passes the limit, so a
handler never sees half of an upload.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadcaster import json_input


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, upload: bool):
        what = "upload" if upload else "request body"
        super().__init__(413, f"the {what} is larger than the limit of {_shown(limit)}")


def _shown(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000:
        return f"{size / 1_000:g} kB"
    return f"{size} bytes"


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_request_bytes: int, max_upload_bytes: int):
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, upload, over = body_limit(scope["headers"], self.max_request_bytes, self.max_upload_bytes)
        if over:
            await refuse(scope, send, BodyTooLarge(limit, upload))
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, upload)
            return message

        await self.app(scope, counting_receive, send)


def body_limit(
    headers: list[tuple[bytes, bytes]], max_request_bytes: int, max_upload_bytes: int
) -> tuple[int, bool, bool]:
    """(the limit this request's body is held to, whether it is an upload, whether its declared
    Content-Length is already over the limit: then it is refused at once)."""
    upload = False
    declared = b""
    for key, value in headers:
        name = key.lower()
        if name == b"content-type":
            upload = value.decode("latin-1").lower().startswith("multipart/form-data")
        elif name == b"content-length":
            declared = value
    limit = max_upload_bytes if upload else max_request_bytes
    return limit, upload, declared.isdigit() and int(declared) > limit


async def refuse(scope: Scope, send: Send, error: BodyTooLarge) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": "Content Too Large",
        "status": 413,
        "detail": error.detail,
        "instance": scope.get("path", ""),
    }
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class StrictJsonRequest(Request):
    """A request whose JSON body is read by `json_input.loads`: a key given twice or nesting past its limit
    is refused with 400 and its sentence, instead of the last key winning or a RecursionError."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = json_input.loads(await self.body())
            except json_input.JsonRefused as exc:
                raise HTTPException(400, str(exc)) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """The route class of every API router (`APIRouter(route_class=StrictJsonRoute)`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
