"""python -m bench.rates [--rate R] [--seconds S] [--workers W]: is a channel's rate shared by its workers?

W worker processes (`broadcaster worker --channel sms`, 4 by default) send an emergency SMS to R × S
numbers through the eSMS dialect (one request per message), with BROADCASTER_RATES={"sms": R}, to a
loopback gateway in this process that notes the arrival instant of every request. Run on SQLite, then
on PostgreSQL. The table gives, per database: the most requests the gateway saw in any one-second
window (a window starting at every arrival), the sustained rate (requests after the first, over the
time from the first to the last arrival) and the fewest in any whole second between the first and the
last, against the targets: at most R × 1.05 in any window, at least 0.9 R sustained.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bench import world
from broadcaster.db import make_engine, make_sessions
from broadcaster.models import Delivery, DeliveryState
from broadcaster.settings import Settings

console = Console(width=200)


class CountingGateway:
    """eSMS on loopback: answers every send with CodeResult 100 and notes when it arrived."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.ids: set[str] = set()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.monotonic()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with gateway.lock:
                    gateway.arrivals.append(arrived)
                    gateway.ids.add(str(body.get("RequestId")))
                answer = json.dumps({"CodeResult": "100", "SMSID": body.get("RequestId")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/esms"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Figures:
    database: str
    requests: int
    distinct: int
    busiest_window: int
    sustained: float
    quietest_second: int


def measure(arrivals: list[float]) -> tuple[int, float, int]:
    """(most in any one-second window, sustained per second, fewest in a whole second in between)."""
    times = sorted(arrivals)
    busiest = max(bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times))
    span = times[-1] - times[0]
    sustained = (len(times) - 1) / span if span > 0 else float("inf")
    whole = int(span)
    seconds = [0] * max(whole, 1)
    for moment in times:
        slot = int(moment - times[0])
        if slot < whole:
            seconds[slot] += 1
    return busiest, sustained, min(seconds)


def settings_for(database: str, folder: Path, scratch: ExitStack) -> Settings:
    if database == "sqlite":
        url = f"sqlite:///{folder / 'rates.db'}"
    else:
        url = world.schema_url(scratch.enter_context(world.scratch_schema("rates")))
    return Settings(database_url=url, output_dir=folder / "out")


def waiting(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with make_sessions(engine)() as session:
        states = [DeliveryState.PENDING, DeliveryState.SENDING]
        count = session.scalar(select(func.count()).where(Delivery.state.in_(states))) or 0
    engine.dispose()
    return count


def run(database: str, rate: float, seconds: float, workers: int, folder: Path, scratch: ExitStack) -> Figures:
    folder.mkdir(parents=True, exist_ok=True)
    settings = settings_for(database, folder, scratch)
    count = int(rate * seconds)
    sessions = world.fresh(settings)
    world.subscribers(sessions, "bulk", count)
    world.campaign(sessions, settings, "rates", {"sms": {"to": ["list:bulk"], "max_parts": 1, "unaccented": True}})
    world.fire(sessions, settings)
    gateway = CountingGateway()
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env.update(
        {
            "BROADCASTER_DATABASE_URL": settings.database_url,
            "BROADCASTER_OUTPUT_DIR": str(folder / "out"),
            "BROADCASTER_RATES": json.dumps({"sms": rate}),
            "BROADCASTER_CLAIM_BATCH": "50",
            "BROADCASTER_POLL_SECONDS": "0.1",
            "BROADCASTER_SMS_DIALECT": "esms",
            "BROADCASTER_SMS_URL": gateway.url,
            "BROADCASTER_SMS_API_KEY": "bench-key",
            "BROADCASTER_SMS_SECRET_KEY": "bench-secret",
            "BROADCASTER_SMS_BRANDNAME": "STTTT_TN",
        }
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "broadcaster", "worker", "--channel", "sms"],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"worker-{database}-{index}.log").open("wb"),
        )
        for index in range(workers)
    ]
    try:
        deadline = time.monotonic() + seconds * 3 + 60
        while (len(gateway.arrivals) < count or waiting(settings)) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        gateway.stop()
    if len(gateway.arrivals) < count:
        raise RuntimeError(f"only {len(gateway.arrivals)} of {count} messages arrived on {database}")
    busiest, sustained, quietest = measure(gateway.arrivals)
    return Figures(database, len(gateway.arrivals), len(gateway.ids), busiest, sustained, quietest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=50.0, help="the configured SMS rate R, messages a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the run lasts at that rate")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--only", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    rate = args.rate
    table = Table(title=f"{args.workers} worker processes, configured SMS rate R = {rate:g}/s, eSMS on loopback")
    for column in ("database", "requests", "distinct ids", "busiest 1-s window", "sustained /s", "quietest second"):
        table.add_column(column)
    table.add_column("targets: ≤ R × 1.05, ≥ 0.9 R")
    with tempfile.TemporaryDirectory(prefix="bench-rates-") as folder, ExitStack() as scratch:
        for database in args.only or ["sqlite", "postgresql"]:
            figures = run(database, rate, args.seconds, args.workers, Path(folder) / database, scratch)
            met = figures.busiest_window <= rate * 1.05 and figures.sustained >= 0.9 * rate
            table.add_row(
                figures.database,
                f"{figures.requests:,}",
                f"{figures.distinct:,}",
                f"{figures.busiest_window} ({figures.busiest_window / rate:.3f} R)",
                f"{figures.sustained:.1f} ({figures.sustained / rate:.3f} R)",
                str(figures.quietest_second),
                "met" if met else "NOT met",
            )
    console.print(table)


if __name__ == "__main__":
    main()
