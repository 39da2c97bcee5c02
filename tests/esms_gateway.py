"""A real eSMS stand-in on loopback that sends delivery reports (DOMAIN §3, §11).

It answers SendMultipleMessage_V4_post_json as eSMS documents (CodeResult 100 with an SMSID, 101 for
wrong keys, 124 for a RequestId already used that day), calls each message's CallbackUrl with an HTTP
GET carrying SMSID, RequestId, phonenumber, SendStatus, SendSuccess, SendFailed, TotalSent,
TotalPrice, TotalReceiver, TypeId and telcoid (retrying up to 5 times when the call fails), and answers
GetSendStatus?RefId=<SMSID> for what it sent (the final status, or SendStatus 2 for a message that
never settles). eSMS documents no look-up by RequestId, so none is served here. What it does per phone
is scripted by `Script`: interim statuses first, repeats, a report before the send's answer, no report at
all, undelivered, a message that never settles, a dropped connection after recording the message.
"""

from __future__ import annotations

import json
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SEND_PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
STATUS_PATH = "/MainService.svc/json/GetSendStatus"
WAITING = 2  # SendStatus "waiting to send": an interim status


@dataclass(frozen=True)
class Script:
    """What happens to the messages to one phone."""

    delivered: bool = True  # final SendStatus 5 with SendSuccess 1; else 4 with SendFailed 1
    interim: tuple[int, ...] = ()  # statuses reported before the final one (1, 2, 7)
    repeats: int = 1  # how many times the final report is sent
    early: bool = False  # the report is sent before the send request is answered
    report: bool = True  # False: no callback ever; only GetSendStatus tells
    drop_first: bool = False  # the first request is recorded, then the connection is dropped unanswered
    fail_after_drop: int = 0  # after a dropped first request, answer this many HTTP 500s
    taken_elsewhere: bool = False  # someone else used the same RequestId today: eSMS answers 124
    # False: the message never leaves "waiting to send" (SendStatus 2): no final report is ever called
    # back, and GetSendStatus answers SendStatus 2 with nothing sent, every time it is asked.
    settles: bool = True


@dataclass
class Sent:
    sms_id: str
    request_id: str
    phone: str  # as sent: 0912…
    callback: str | None
    script: Script


@dataclass
class Ledger:
    sent: dict[str, Sent] = field(default_factory=dict)  # SMSID → message
    by_request: dict[str, str] = field(default_factory=dict)  # RequestId → SMSID
    requests: Counter[str] = field(default_factory=Counter)  # phone → send requests received
    callbacks: Counter[int] = field(default_factory=Counter)  # HTTP status of each callback answered
    callbacks_failed: int = 0  # callbacks that got no answer at all
    look_ups: int = 0
    asked: Counter[str] = field(default_factory=Counter)  # SMSID → GetSendStatus look-ups of it


class EsmsGateway:
    def __init__(
        self,
        api_key: str,
        secret_key: str,
        scripts: dict[str, Script] | None = None,
        used_request_ids: set[str] | None = None,
    ) -> None:
        self.api_key, self.secret_key = api_key, secret_key
        self.scripts = scripts or {}
        self.used = set(used_request_ids or ())  # RequestIds someone else already used today
        self.ledger = Ledger()
        self.lock = threading.Lock()
        self.outbox: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self.stray: list[dict[str, str]] = []  # callbacks for ids nobody sent from here, to send as well
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                """Quiet: tests read the ledger."""

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                gateway.send(self, body)

            def do_GET(self) -> None:
                gateway.look_up(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._call_back_forever, daemon=True),
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{SEND_PATH}"

    def __enter__(self) -> EsmsGateway:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.outbox.put(None)
        self.threads[1].join(timeout=10)
        self.server.shutdown()
        self.server.server_close()

    def wait_for_callbacks(self) -> None:
        """Until every callback queued so far has been made."""
        self.outbox.join()

    # -- sending --

    def send(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if body.get("ApiKey") != self.api_key or body.get("SecretKey") != self.secret_key:
            return _answer(handler, 200, {"CodeResult": "101", "ErrorMessage": "Sai ApiKey hoặc SecretKey"})
        phone, request_id = str(body["Phone"]), str(body.get("RequestId") or "")
        script = self.scripts.get(phone, Script())
        with self.lock:
            self.ledger.requests[phone] += 1
            attempt = self.ledger.requests[phone]
            taken = request_id in self.ledger.by_request or request_id in self.used or script.taken_elsewhere
            if not taken:
                sms_id = f"{uuid.uuid4()}{attempt}"
                sent = Sent(sms_id, request_id, phone, body.get("CallbackUrl"), script)
                self.ledger.sent[sms_id] = sent
                self.ledger.by_request[request_id] = sms_id
        if script.drop_first and attempt == 1:
            if not taken:
                self._queue_reports(sent)
            handler.close_connection = True
            handler.connection.close()  # recorded, then no answer: the sender cannot know
            return None
        if script.drop_first and attempt <= 1 + script.fail_after_drop:
            return _answer(handler, 500, {"error": "internal"})
        if taken:
            return _answer(handler, 200, {"CodeResult": "124", "ErrorMessage": "Trùng RequestId"})
        if script.early:
            self._report_now(sent)  # the callback is answered before the sender hears "100"
        else:
            self._queue_reports(sent)
        return _answer(handler, 200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id})

    # -- reports --

    def _final(self, sent: Sent) -> dict[str, str]:
        ok = sent.script.delivered
        return self._query(sent, 5 if ok else 4, success=1 if ok else 0, failed=0 if ok else 1)

    def _query(self, sent: Sent, status: int, success: int = 0, failed: int = 0) -> dict[str, str]:
        return {
            "SMSID": sent.sms_id,
            "SendFailed": str(failed),
            "SendStatus": str(status),
            "SendSuccess": str(success),
            "TotalPrice": "850.0000" if success else "0.0000",
            "TotalReceiver": "1",
            "TotalSent": "1",
            "RequestId": sent.request_id,
            "TypeId": "2",
            "telcoid": "1",
            "phonenumber": sent.phone,
        }

    def _reports(self, sent: Sent) -> list[dict[str, str]]:
        if not sent.script.report or not sent.callback:
            return []
        interim = [self._query(sent, status) for status in sent.script.interim]
        if not sent.script.settles:
            return interim
        return interim + [self._final(sent)] * sent.script.repeats

    def _queue_reports(self, sent: Sent) -> None:
        for query in self._reports(sent):
            assert sent.callback is not None
            self.outbox.put((sent.callback, query))

    def _report_now(self, sent: Sent) -> None:
        for query in self._reports(sent):
            assert sent.callback is not None
            self._call_back(sent.callback, query)

    def report_stray(self, callback: str, sms_id: str, request_id: str, phone: str) -> None:
        """A report for a message this installation never sent (another system's, or garbage)."""
        stray = Sent(sms_id, request_id, phone, callback, Script())
        self.outbox.put((callback, self._final(stray)))

    def _call_back_forever(self) -> None:
        while (item := self.outbox.get()) is not None:
            try:
                self._call_back(*item)
            finally:
                self.outbox.task_done()
        self.outbox.task_done()

    def _call_back(self, callback: str, query: dict[str, str]) -> None:
        for _ in range(5):  # eSMS retries a callback up to 5 times
            try:
                with urllib.request.urlopen(f"{callback}?{urlencode(query)}", timeout=10) as answer:
                    with self.lock:
                        self.ledger.callbacks[answer.status] += 1
                    return
            except urllib.error.HTTPError as error:
                with self.lock:
                    self.ledger.callbacks[error.code] += 1
                return
            except OSError:
                continue
        with self.lock:
            self.ledger.callbacks_failed += 1

    # -- look-up --

    def look_up(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path != STATUS_PATH:
            return _answer(handler, 404, {"error": "not found"})
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        if query.get("ApiKey") != self.api_key or query.get("SecretKey") != self.secret_key:
            return _answer(handler, 200, {"CodeResponse": "101", "SMSID": query.get("RefId", "")})
        with self.lock:
            self.ledger.look_ups += 1
            self.ledger.asked[query.get("RefId", "")] += 1
            sent = self.ledger.sent.get(query.get("RefId", ""))
        if sent is None:
            return _answer(handler, 200, {"CodeResponse": "99", "SMSID": query.get("RefId", "")})
        final = self._final(sent) if sent.script.settles else self._query(sent, WAITING)
        answer = {
            "CodeResponse": "100",
            "SMSID": sent.sms_id,
            "SendFailed": int(final["SendFailed"]),
            "SendStatus": int(final["SendStatus"]),
            "SendSuccess": int(final["SendSuccess"]),
            "TotalPrice": float(final["TotalPrice"]),
            "TotalReceiver": 1,
            "TotalSent": 1,
        }
        return _answer(handler, 200, answer)


def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
