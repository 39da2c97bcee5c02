"""A per-client request limit for the public pages, kept in memory only.

Clients are told apart by a keyed hash of their address (the key is random per process), so not even
memory holds an address, and nothing is written anywhere. Each process counts on its own. Behind a reverse
proxy, `broadcaster serve --proxy-headers` with BROADCASTER_TRUSTED_PROXIES makes the client's address the
one counted (`web.auth.client_address`), not the proxy's.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict, deque

from fastapi import Request

from broadcaster.web.auth import client_address


class ClientLimit:
    """At most `per_minute` requests per client in any 60 seconds."""

    def __init__(self, per_minute: int, clients: int = 10_000):
        self.per_minute = per_minute
        self.clients = clients
        self._key = secrets.token_bytes(16)
        self._seen: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _client(self, request: Request) -> bytes:
        address = client_address(request) or ""
        return hashlib.blake2b(address.encode(), key=self._key, digest_size=16).digest()

    def allow(self, request: Request) -> bool:
        now = time.monotonic()
        client = self._client(request)
        with self._lock:
            moments = self._seen.pop(client, None) or deque()
            while moments and now - moments[0] >= 60:
                moments.popleft()
            allowed = len(moments) < self.per_minute
            if allowed:
                moments.append(now)
            self._seen[client] = moments
            while len(self._seen) > self.clients:  # the oldest clients are forgotten first
                self._seen.popitem(last=False)
            return allowed
