"""Headers every answer of the app carries, whatever page family it comes from (console, portal, API, its
docs, callbacks): a Content-Security-Policy that lets a page load only what this site serves and be framed
only by this site, no MIME sniffing, a referrer kept to this site, and `Cache-Control: no-store` on anything
that does not say how it may be cached (API answers and CSV exports carry phone numbers).

A response that sets one of these headers itself keeps its own (the public verification page is stricter:
`frame-ancestors 'none'`, no referrer, a minute of public caching). Static files are left to cache.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Inline styles are allowed: htmx adds one for its indicators and the letter's preview frame is the e-mail's
# own HTML with its <style>. Scripts come only from this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "SAMEORIGIN",
    "x-content-type-options": "nosniff",
    # Not no-referrer: a browser then sends `Origin: null` with a form, which the portal's Origin check refuses.
    "referrer-policy": "same-origin",
}
STATIC_PREFIXES = ("/static/", "/console/static/", "/tra-cuu/tra-cuu.css")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(STATIC_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
