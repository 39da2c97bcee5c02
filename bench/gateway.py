"""A loopback SMS gateway fast enough not to be the bottleneck: an ASGI app under uvicorn with
several worker processes. It speaks eSMS (one message per request), the generic JSON batch contract
and Apprise's json:// posts, and keeps a ledger of every id it accepted, per run, written to a
folder when it shuts down so the benchmark can check that nothing was lost or doubled."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

LEDGER: dict[str, list[str]] = defaultdict(list)
COUNTS: dict[str, int] = defaultdict(int)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                _dump()
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    run, _, kind = scope["path"].strip("/").partition("/")
    data = json.loads(body) if body else {}
    if kind == "esms":
        LEDGER[run].append(data["RequestId"])
        answer: dict[str, Any] = {"CodeResult": "100", "CountRegenerate": 0, "SMSID": data["RequestId"]}
    elif kind == "batch":
        ids = [message["id"] for message in data["messages"]]
        LEDGER[run].extend(ids)
        answer = {"results": [{"id": key, "status": "accepted"} for key in ids]}
    else:  # apprise json:// and anything else: count the message
        COUNTS[run] += 1
        answer = {}
    payload = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _dump() -> None:
    folder = Path(os.environ["BENCH_LEDGER_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}.json"
    path.write_text(json.dumps({"ids": LEDGER, "counts": COUNTS}))


class GatewayProcess:
    def __init__(self, ledger_dir: Path, workers: int = 2):
        self.ledger_dir = ledger_dir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "BENCH_LEDGER_DIR": str(ledger_dir)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.gateway:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
                "--http",
                "httptools",
                "--loop",
                "uvloop",
            ],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the benchmark gateway did not start")

    def url(self, run: str, kind: str) -> str:
        return f"http://127.0.0.1:{self.port}/{run}/{kind}"

    def stop(self) -> tuple[dict[str, list[str]], dict[str, int]]:
        """Stop the gateway and return its merged ledger: ids per run, message counts per run."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        ids: dict[str, list[str]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for path in self.ledger_dir.glob("*.json"):
            data = json.loads(path.read_text())
            for run, values in data["ids"].items():
                ids[run].extend(values)
            for run, value in data["counts"].items():
                counts[run] += value
        return ids, counts
