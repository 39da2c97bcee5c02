"""JSON over HTTP for adapters that send one request per message, through urllib3's connection pool.

urllib3 is the transport requests itself uses. Called directly it costs about half the CPU per
request of a `requests.Session`, which looks up proxies, netrc and CA settings in the environment
again for every request; here the environment is read once, when a host is first used. At one
request per SMS that difference is the fan-out's speed.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, TimeoutError


@dataclass(frozen=True)
class Answer:
    status: int
    headers: urllib3.HTTPHeaderDict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed body; ValueError when it is not JSON."""
        return json.loads(self.body)


class Unanswered(Exception):
    """The request got no answer: `timed_out` says whether the server was reached but too slow, and
    `maybe_taken` whether the request may have reached it (a read timeout, a connection reset after
    sending) as opposed to never having left (no connection could be made)."""

    def __init__(self, reason: str, *, timed_out: bool, maybe_taken: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out
        self.maybe_taken = maybe_taken


class JsonClient:
    """POSTs JSON and returns the answer, whatever its status; never retries (the core decides)."""

    def __init__(self, *, pool_size: int, connect_timeout: float, timeout: float) -> None:
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)
        self.pool_size = pool_size
        self._routes: dict[str, tuple[Any, str]] = {}
        self._managers: list[urllib3.PoolManager] = []

    def post(self, url: str, body: Any, headers: dict[str, str] | None = None) -> Answer:
        return self._call(
            "POST",
            url,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})},
        )

    def post_form(self, url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        """POST form fields (application/x-www-form-urlencoded), as an OAuth token endpoint wants them."""
        return self._call(
            "POST",
            url,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", **(headers or {})},
        )

    def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        """GET a URL (its query included) and return the answer, whatever its status."""
        return self._call("GET", url, None, {"Accept": "application/json", **(headers or {})})

    def _call(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        opener, target = self._route(url)
        try:
            response = opener.urlopen(
                method, target, body=body, headers=headers, timeout=self.timeout, retries=False, redirect=False
            )
        except NewConnectionError as exc:  # a subclass of the connect timeout, but nobody answered at all
            raise Unanswered(_reason(exc), timed_out=False) from None
        except ConnectTimeoutError as exc:  # no connection was made: the request never left
            raise Unanswered(str(exc), timed_out=True) from None
        except TimeoutError as exc:  # sent, and no answer in time: it may have been taken
            raise Unanswered(str(exc), timed_out=True, maybe_taken=True) from None
        except HTTPError as exc:  # a reset or a broken answer after sending
            raise Unanswered(_reason(exc), timed_out=False, maybe_taken=True) from None
        return Answer(response.status, response.headers, response.data)

    def close(self) -> None:
        for manager in self._managers:
            manager.clear()
        self._managers.clear()
        self._routes.clear()

    def _route(self, url: str) -> tuple[Any, str]:
        """What to call `urlopen` on for this URL, and with what: the host's own connection pool and
        the path, or, where the environment names a proxy for the host (HTTPS_PROXY, NO_PROXY…), a
        proxy manager and the whole URL. Worked out once per URL."""
        if url not in self._routes:
            parts = urlsplit(url)
            options: dict[str, Any] = {
                "maxsize": self.pool_size,
                "ca_certs": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or certifi.where(),
            }
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
                manager: urllib3.PoolManager = urllib3.ProxyManager(proxy, **options)
                self._routes[url] = (manager, url)
            else:
                manager = urllib3.PoolManager(**options)
                path = parts.path or "/"
                self._routes[url] = (manager.connection_from_url(url), f"{path}?{parts.query}" if parts.query else path)
            self._managers.append(manager)
        return self._routes[url]


def _reason(exc: BaseException) -> str:
    """The innermost cause, which is the one a person can act on ("Connection refused")."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__
