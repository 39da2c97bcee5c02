"""A real SMS gateway on loopback for tests: the generic-json contract, a ledger, injected faults.

The ledger records every message the gateway received and which ids it delivered. With
`honour_ids`, an id already delivered is answered "accepted" again but not delivered twice — what a
gateway that honours idempotency keys does.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Faults:
    """Shares of requests that fail, each way; `invalid` numbers are answered as invalid, for good."""

    server_error: float = 0.0
    rate_limited: float = 0.0
    slow: float = 0.0
    dropped: float = 0.0
    invalid: set[str] = field(default_factory=set)
    unauthorised: bool = False
    delay: float = 0.0
    retry_after: int = 1  # seconds, in a 429's Retry-After
    fail_first: int = 0  # the first this many requests answer HTTP 500, whatever the shares say
    seed: int = 881


@dataclass
class Ledger:
    received: Counter[str] = field(default_factory=Counter)  # id → how many times it arrived
    delivered: Counter[str] = field(default_factory=Counter)  # id → how many times it was delivered
    phones: dict[str, str] = field(default_factory=dict)  # id → phone
    requests: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def delivered_phones(self) -> Counter[str]:
        return Counter(self.phones[key] for key, count in self.delivered.items() for _ in range(count))


class Gateway:
    def __init__(self, faults: Faults | None = None, honour_ids: bool = True, slow_seconds: float = 1.0):
        self.faults = faults or Faults()
        self.honour_ids = honour_ids
        self.slow_seconds = slow_seconds
        self.ledger = Ledger()
        self.lock = threading.Lock()
        self.random = random.Random(self.faults.seed)
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                """Quiet: the tests read the ledger, not the server's log."""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                gateway.handle(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _draw(self) -> str | None:
        faults, draw = self.faults, self.random.random()
        for name, share in (
            ("server_error", faults.server_error),
            ("rate_limited", faults.rate_limited),
            ("slow", faults.slow),
            ("dropped", faults.dropped),
        ):
            if draw < share:
                return name
            draw -= share
        return None

    def handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self.lock:
            self.ledger.requests += 1
            fault = "unauthorised" if self.faults.unauthorised else self._draw()
            if self.ledger.requests <= self.faults.fail_first:
                fault = "server_error"
            if fault:
                self.ledger.faults[fault] += 1
        if self.faults.delay:
            time.sleep(self.faults.delay)
        if fault == "unauthorised":
            return _answer(handler, 401, {"error": "bad api key"})
        if fault == "server_error":
            return _answer(handler, 500, {"error": "internal"})
        if fault == "rate_limited":
            return _answer(handler, 429, {"error": "slow down"}, {"Retry-After": str(self.faults.retry_after)})
        if fault == "dropped":
            handler.close_connection = True
            handler.connection.close()  # the client sees the connection reset with no answer
            return None
        if fault == "slow":
            time.sleep(self.slow_seconds)  # the client gives up first; the messages were NOT taken
            return _answer(handler, 503, {"error": "timed out"})
        results = []
        with self.lock:
            for message in body["messages"]:
                key, phone = message["id"], message["to"]
                self.ledger.received[key] += 1
                self.ledger.phones[key] = phone
                if phone in self.faults.invalid:
                    results.append({"id": key, "status": "invalid", "reason": "no such subscriber"})
                    continue
                if not (self.honour_ids and self.ledger.delivered[key]):
                    self.ledger.delivered[key] += 1
                results.append({"id": key, "status": "accepted", "message_id": f"gw-{key}"})
        return _answer(handler, 200, {"results": results})


def _answer(
    handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
