"""A Zalo stand-in on loopback: the OA's ZNS API, its OAuth token endpoint and eSMS's ZNS endpoint, answering
as their published documentation says (the README's "Zalo (ZNS)" section).

- POST /message/template with the OA access token in the `access_token` header and JSON {phone,
  template_id, template_data, tracking_id}: {"error": 0, "message": "Success", "data": {"msg_id",
  "sent_time", "quota": {"dailyQuota", "remainingQuota"}}}, or a negative `error` with its `message`:
  -124 for an access token it did not issue or that expired, -109 for an unknown template, -112 for
  template data that misses a parameter or has one over its length, -118/-119/-108 as a phone's script
  says, -144 once the daily quota is used up.
- POST /v4/oa/access_token (form: refresh_token, app_id, grant_type=refresh_token; header secret_key):
  {"access_token", "refresh_token", "expires_in"} for a refresh token it issued and nobody used yet; the
  refresh token is single-use, and the access token it replaces stops working.
- POST /MainService.svc/json/SendZaloMessage_V4_post_json/ (eSMS): {"CodeResult": "100", "SMSID"}, 101
  for wrong keys, 124 for a RequestId already used, 789 for a template not set up for the OA.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

TEMPLATE_PATH = "/message/template"
OAUTH_PATH = "/v4/oa/access_token"
ESMS_PATH = "/MainService.svc/json/SendZaloMessage_V4_post_json/"
MESSAGES = {
    -108: "Phone number invalid",
    -109: "Template ID invalid",
    -112: "Template data invalid",
    -118: "Zalo account not existed",
    -119: "Account can not receive ZNS",
    -124: "Access token invalid",
    -144: "OA has exceeded daily quota",
}


@dataclass
class Ledger:
    sent: list[dict[str, Any]] = field(default_factory=list)  # every ZNS request taken, as received
    tried: Counter[str] = field(default_factory=Counter)  # phone → send requests received
    refreshes: int = 0  # refresh tokens exchanged
    refused_refreshes: int = 0  # refresh tokens refused (used before, or never issued)
    esms: list[dict[str, Any]] = field(default_factory=list)


class ZaloServer:
    def __init__(
        self,
        *,
        app_id: str = "4318827446119270000",
        app_secret: str = "app-secret-not-for-logs",
        templates: dict[str, dict[str, int]] | None = None,
        phones: dict[str, int] | None = None,
        daily_quota: int = 500,
        token_lifetime: int = 90000,
        esms_keys: tuple[str, str] = ("esms-api-key", "esms-secret-key"),
        esms_oa: str = "1397492183140006179",
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.templates = templates if templates is not None else {"2056446": {"ten": 30, "noi_dung": 400}}
        self.phones = phones or {}  # phone as sent (84…) → the error Zalo answers for it
        self.daily_quota = daily_quota
        self.token_lifetime = token_lifetime
        self.esms_keys, self.esms_oa = esms_keys, esms_oa
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()  # issued and not used yet
        self.ledger = Ledger()
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds the token endpoint takes to answer (a slow OAuth server)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without this, each answer waits for the client's
            # delayed acknowledgement (about 40 ms), as no real server's would.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                """Quiet: tests read the ledger."""

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == TEMPLATE_PATH:
                    return _answer(self, 200, server.template(self.headers.get("access_token") or "", json.loads(raw)))
                if self.path == OAUTH_PATH:
                    form = {name: values[0] for name, values in parse_qs(raw.decode()).items()}
                    return _answer(self, 200, server.oauth(self.headers.get("secret_key") or "", form))
                if self.path == ESMS_PATH:
                    return _answer(self, 200, server.esms(json.loads(raw)))
                return _answer(self, 404, {"error": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> ZaloServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def grant(self) -> tuple[str, str]:
        """An access token and refresh token as the OA's grant to the app gives them."""
        with self.lock:
            return self._issue()

    def _issue(self) -> tuple[str, str]:
        access, refresh = f"at-{uuid.uuid4().hex}", f"rt-{uuid.uuid4().hex}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return access, refresh

    # -- the OA's ZNS API --

    def template(self, access_token: str, body: dict[str, Any]) -> dict[str, Any]:
        phone = str(body.get("phone", ""))
        with self.lock:
            self.ledger.tried[phone] += 1
            if access_token not in self.access_tokens:
                return _error(-124)
            fields = self.templates.get(str(body.get("template_id", "")))
            if fields is None:
                return _error(-109)
            data = body.get("template_data") or {}
            if any(name not in data or len(str(data[name])) > limit for name, limit in fields.items()):
                return _error(-112)
            if phone in self.phones:
                return _error(self.phones[phone])
            if not phone.startswith("84") or not phone.isdigit():
                return _error(-108)
            if len(self.ledger.sent) >= self.daily_quota:
                return _error(-144)
            self.ledger.sent.append(body)
            remaining = self.daily_quota - len(self.ledger.sent)
        return {
            "error": 0,
            "message": "Success",
            "data": {
                "msg_id": uuid.uuid4().hex[:20],
                "sent_time": "1714529559833",
                "quota": {"dailyQuota": str(self.daily_quota), "remainingQuota": str(remaining)},
            },
        }

    def oauth(self, secret_key: str, form: dict[str, str]) -> dict[str, Any]:
        if self.delay:
            threading.Event().wait(self.delay)
        with self.lock:
            if secret_key != self.app_secret or form.get("app_id") != self.app_id:
                return {"error": -14001, "error_name": "Invalid app", "error_description": "app_id or secret_key"}
            refresh = form.get("refresh_token", "")
            if form.get("grant_type") != "refresh_token" or refresh not in self.refresh_tokens:
                self.ledger.refused_refreshes += 1
                return {
                    "error": -14014,
                    "error_name": "Invalid parameter",
                    "error_description": "Refresh token is invalid or was already used",
                }
            self.refresh_tokens.discard(refresh)  # single-use
            self.access_tokens.clear()  # the access token it replaces stops working
            access, new_refresh = self._issue()
            self.ledger.refreshes += 1
        return {"access_token": access, "refresh_token": new_refresh, "expires_in": str(self.token_lifetime)}

    def expire_access_tokens(self) -> None:
        """Every access token stops working (its 25 hours are over), refresh tokens still do."""
        with self.lock:
            self.access_tokens.clear()

    # -- eSMS's ZNS endpoint --

    def esms(self, body: dict[str, Any]) -> dict[str, Any]:
        if (body.get("ApiKey"), body.get("SecretKey")) != self.esms_keys:
            return {"CodeResult": "101", "ErrorMessage": "Sai ApiKey hoặc SecretKey"}
        with self.lock:
            if body.get("OAID") != self.esms_oa or str(body.get("TempID")) not in self.templates:
                return {"CodeResult": "789", "ErrorMessage": "Template chưa được cấu hình cho OA ID"}
            if any(entry.get("RequestId") == body.get("RequestId") for entry in self.ledger.esms):
                return {"CodeResult": "124", "ErrorMessage": "Trùng RequestId"}
            self.ledger.esms.append(body)
        return {"CodeResult": "100", "CountRegenerate": 0, "SMSID": f"{uuid.uuid4()}30"}


def _error(code: int) -> dict[str, Any]:
    return {"error": code, "message": MESSAGES[code]}


def _answer(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
