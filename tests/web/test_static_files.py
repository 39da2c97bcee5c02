"""What a phone on a slow network downloads: static files and pages compressed, static files kept by the
browser (versioned addresses for a year, others revalidated by ETag), and the shipped icon at /favicon.ico."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from broadcaster.web.assets import FOLDERS, asset_url

HTMX = FOLDERS["/static/"] / "htmx.min.js"


def raw_size(client: TestClient, path: str, encoding: str) -> tuple[int, str | None, bytes]:
    """The bytes that cross the network for `path` when the browser accepts `encoding`, and the decoded body."""
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as answer:
        assert answer.status_code == 200
        sent = sum(len(chunk) for chunk in answer.iter_raw())
        used = answer.headers.get("content-encoding")
    return sent, used, client.get(path, headers={"Accept-Encoding": encoding}).content


@pytest.mark.parametrize("encoding", ["br", "gzip", "zstd"])
def test_htmx_goes_out_compressed_in_the_encodings_browsers_accept(client: TestClient, encoding: str) -> None:
    sent, used, body = raw_size(client, "/static/htmx.min.js", encoding)
    assert used == encoding and body == HTMX.read_bytes()
    assert sent < HTMX.stat().st_size * 0.4, f"{sent} bytes of {HTMX.stat().st_size}"


def test_without_an_accepted_encoding_the_file_goes_as_it_is(client: TestClient) -> None:
    sent, used, _ = raw_size(client, "/static/htmx.min.js", "identity")
    assert used is None and sent == HTMX.stat().st_size


def test_a_versioned_address_is_kept_for_a_year_and_a_bare_one_is_revalidated(client: TestClient) -> None:
    versioned = asset_url("/static/htmx.min.js")
    assert re.fullmatch(r"/static/htmx\.min\.js\?v=[0-9a-f]{12}", versioned)
    kept = client.get(versioned)
    assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"
    bare = client.get("/static/htmx.min.js")
    assert bare.headers["cache-control"] == "no-cache" and bare.headers["etag"]
    again = client.get("/static/htmx.min.js", headers={"If-None-Match": bare.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    stale = client.get("/static/htmx.min.js?v=000000000000")  # a page from before the file changed
    assert stale.headers["cache-control"] == "no-cache"


def test_the_pages_name_their_static_files_by_version(client: TestClient) -> None:
    login = client.get("/login").text
    assert f'src="{asset_url("/static/htmx.min.js")}"' in login
    assert f'href="{asset_url("/console/static/console.css")}"' in login
    css = client.get(asset_url("/console/static/console.css"))
    assert css.status_code == 200 and "immutable" in css.headers["cache-control"]


def test_pages_go_out_compressed_too(client: TestClient) -> None:
    answer = client.get("/login", headers={"Accept-Encoding": "br"})
    assert answer.headers["content-encoding"] == "br" and "Accept-Encoding" in answer.headers["vary"]


@pytest.mark.parametrize("page", ["/login", "/portal", "/tra-cuu"])
def test_the_icon_is_served_everywhere_a_browser_asks_for_it(client: TestClient, page: str) -> None:
    assert client.get(page).status_code in (200, 401)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in icon.headers["cache-control"]
