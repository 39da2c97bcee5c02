"""Static files for phones on slow networks: sent compressed, kept by the browser.

Compression is the app's `CompressMiddleware` (starlette-compress: zstd, brotli or gzip as the browser
accepts), for pages and static files alike. Caching is here: a page names a file with `asset_url`, which
adds a version (`/static/htmx.min.js?v=3f2a…`, a hash of the file's bytes), and such an address is kept for a
year as immutable — a new file is a new address. An address without its current version is kept too, but
asked again with its ETag each time (a 304 and no body when unchanged). `/favicon.ico` is the shipped icon.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

WEB = Path(__file__).resolve().parent
# Where each static prefix is served from: every file a page names lives in one of these folders.
FOLDERS = {"/static/": WEB / "static", "/console/static/": WEB / "console" / "static"}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ICON = WEB / "static" / "favicon.ico"


@lru_cache(maxsize=256)
def _version(path: Path, modified_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def file_version(path: Path) -> str:
    """A short hash of the file's bytes (computed again only when the file changes)."""
    status = path.stat()
    return _version(path, status.st_mtime_ns, status.st_size)


def asset_url(address: str) -> str:
    """`/static/portal.css` → `/static/portal.css?v=<hash>`: the versioned address a page uses."""
    for prefix, folder in FOLDERS.items():
        if address.startswith(prefix):
            return f"{address}?v={file_version(folder / address.removeprefix(prefix))}"
    raise ValueError(f"'{address}' is not under a static folder ({', '.join(FOLDERS)})")


class CachedStaticFiles(StaticFiles):
    """StaticFiles (with its ETag and Last-Modified) that says how long a browser may keep each answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            wanted = _query_version(scope)
            current = file_version(Path(str(self.directory)) / path) if wanted else None
            response.headers["Cache-Control"] = IMMUTABLE if wanted and wanted == current else REVALIDATE
        return response


def _query_version(scope: Scope) -> str | None:
    raw: bytes = scope.get("query_string", b"")
    query = raw.decode("latin-1")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "v" and value:
            return value
    return None


def install(app: FastAPI) -> None:
    """The static folders and the icon every browser asks for at `/favicon.ico`."""
    app.mount("/console/static", CachedStaticFiles(directory=FOLDERS["/console/static/"]), name="console-static")
    app.mount("/static", CachedStaticFiles(directory=FOLDERS["/static/"]), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(ICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
