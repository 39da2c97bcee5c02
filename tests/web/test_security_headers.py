"""Every page family answers with the security headers, personal data is never cached by others, and
behind a reverse proxy the client's address and scheme come from the proxy's headers only when the proxy
is trusted (`broadcaster serve --proxy-headers`, BROADCASTER_TRUSTED_PROXIES)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import serving
from tests.web.conftest import person
from tests.web.console_helpers import sign_in, staff
from tests.web.test_portal import new_link, signed_in, slots  # noqa: F401 (slots is a fixture)


def assert_protected(answer: httpx.Response) -> None:
    headers = answer.headers
    assert "frame-ancestors" in headers["content-security-policy"], answer.url
    assert (
        "script-src 'self'" in headers["content-security-policy"]
        or "default-src 'none'" in headers["content-security-policy"]
    )
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert (
        headers["x-frame-options"] in ("SAMEORIGIN", "DENY")
        or "frame-ancestors 'none'" in headers["content-security-policy"]
    )


def test_every_page_family_carries_the_security_headers(
    client: TestClient,
    sessions: sessionmaker[Session],
    slots: dict[str, list[int]],  # noqa: F811 (the fixture imported above)
) -> None:
    reader = person(sessions, "hai", "operator")
    for path in ("/login", "/api/v1/docs", "/api/v1/openapi.json", "/nothing-here", "/tra-cuu", "/portal"):
        assert_protected(client.get(path))
    assert_protected(client.get("/api/v1/me", headers=reader.headers))
    staff(sessions, "lan", "admin")
    sign_in(client, "lan")
    for path in ("/", "/campaigns", "/accounts"):
        assert_protected(client.get(path))
    client.cookies.clear()
    signed_in(client, new_link(sessions))
    assert_protected(client.get("/portal"))


def test_answers_with_personal_data_are_not_kept_by_caches(
    client: TestClient,
    sessions: sessionmaker[Session],
    slots: dict[str, list[int]],  # noqa: F811 (the fixture imported above)
) -> None:
    reader = person(sessions, "hai", "operator")
    for path in ("/api/v1/campaigns/phat-thanh/deliveries", "/api/v1/campaigns/phat-thanh/deliveries.csv"):
        answer = client.get(path, headers=reader.headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store", path
    lookup = client.get("/tra-cuu", params={"so": "0912345678"})
    assert lookup.headers["cache-control"].startswith("private")
    assert client.get("/tra-cuu").headers["cache-control"] == "public, max-age=60"
    assert "no-store" not in client.get("/static/htmx.min.js").headers.get("cache-control", "")


@pytest.mark.parametrize("proxy_headers", [False, True], ids=["no-proxy-headers", "proxy-headers"])
def test_the_public_limit_counts_the_client_behind_a_trusted_proxy_only(
    web_settings: Settings, sessions: sessionmaker[Session], proxy_headers: bool
) -> None:
    settings = web_settings.model_copy(
        update={"public_requests_per_minute": 2, "proxy_headers": proxy_headers, "trusted_proxies": ["127.0.0.1"]}
    )
    with serving(create_app(settings, sessions)) as address:
        first = [httpx.get(f"{address}/tra-cuu", headers={"X-Forwarded-For": "203.0.113.1"}) for _ in range(2)]
        other = httpx.get(f"{address}/tra-cuu", headers={"X-Forwarded-For": "203.0.113.2"})
        forged = httpx.get(f"{address}/tra-cuu", headers={"X-Forwarded-For": "203.0.113.9, 127.0.0.1"})
    assert [answer.status_code for answer in first] == [200, 200]
    if proxy_headers:  # each client counted on its own, and a forged hop before the proxy changes nothing
        assert other.status_code == 200 and forged.status_code == 200
    else:  # without --proxy-headers every request is the proxy's
        assert other.status_code == 429 and forged.status_code == 429


def test_cookies_are_secure_when_a_trusted_proxy_says_the_client_used_tls(
    web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.1"}
    trusting = web_settings.model_copy(update={"proxy_headers": True, "trusted_proxies": ["127.0.0.0/8"]})
    with serving(create_app(trusting, sessions)) as address:
        assert "secure" in httpx.get(f"{address}/login", headers=https).headers["set-cookie"].lower()
        assert "secure" not in httpx.get(f"{address}/login").headers["set-cookie"].lower()
    elsewhere = web_settings.model_copy(update={"proxy_headers": True, "trusted_proxies": ["10.0.0.0/8"]})
    with serving(create_app(elsewhere, sessions)) as address:
        assert "secure" not in httpx.get(f"{address}/login", headers=https).headers["set-cookie"].lower()
