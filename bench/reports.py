"""python -m bench.reports: delivery-report ingestion — eSMS GET callbacks per second into the web app
as `broadcaster serve` runs it, every report repeated, none lost and none applied twice.

Method: a database with N accepted SMS (the real fan-out of one campaign, then marked accepted with an
SMSID, as the worker records them); `broadcaster serve` in its own process (one uvicorn process, access
log on, as shipped); this process sends each delivery's final report, shaped as eSMS sends it (SMSID,
RequestId, phonenumber, SendStatus 5 or 4…), `--repeats` times, the copies shuffled among the others,
over `--connections` keep-alive connections from an asyncio client. Time runs from the first callback
sent to the last answered. Then the database: every delivery must be delivered or undelivered (lost = 0),
the answers' `recorded` must sum to N (a repeat applied again would count twice), nothing unmatched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table
from sqlalchemy import String, cast, create_engine, func, literal, select, text, update

from bench import world
from broadcaster.clock import system_now
from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Delivery, DeliveryState, Occurrence, UnmatchedReport
from broadcaster.outbox import expand
from broadcaster.settings import Settings, shipped_dir
from channels.sms_dialects.base import request_id


@dataclass
class Run:
    database: str
    deliveries: int
    callbacks: int
    seconds: float
    answered_200: int
    recorded: int
    settled: int
    unmatched: int
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.callbacks / self.seconds


def prepare(settings: Settings, count: int) -> list[tuple[str, str]]:
    """N accepted SMS; returns each one's callback query (path part after the token) inputs."""
    sessions = world.fresh(settings)
    world.subscribers(sessions, "bench", count)
    sms = {"to": ["list:bench"], "max_parts": 1, "unaccented": True}
    world.campaign(sessions, settings, "bench-reports", {"sms": sms})
    world.fire(sessions, settings)
    with sessions() as session:
        occurrence = session.scalars(select(Occurrence.id)).one()
        installation = installation_id(session)
    expand(sessions, settings, occurrence)
    now = system_now()
    with sessions.begin() as session:  # as the worker records what eSMS accepted
        session.execute(
            update(Delivery).values(
                state=DeliveryState.ACCEPTED, done_at=now, provider_id=literal("sms-") + cast(Delivery.id, String)
            )
        )
    with sessions() as session:
        rows = session.execute(select(Delivery.id, Delivery.address)).all()
    queries = []
    for delivery_id, address in rows:
        key = f"{installation}.o{occurrence}:{address}"
        delivered = delivery_id % 10 != 0
        query = {
            "SMSID": f"sms-{delivery_id}",
            "SendFailed": "0" if delivered else "1",
            "SendStatus": "5" if delivered else "4",
            "SendSuccess": "1" if delivered else "0",
            "TotalPrice": "850.0000" if delivered else "0.0000",
            "TotalReceiver": "1",
            "TotalSent": "1",
            "RequestId": request_id(key),
            "TypeId": "2",
            "telcoid": "1",
            "phonenumber": "0" + address[3:],
        }
        queries.append((f"sms-{delivery_id}", urlencode(query)))
    return queries


async def call_back(port: int, paths: list[str], connections: int) -> tuple[int, int]:
    """Send every GET over keep-alive connections; (answers 200, sum of `recorded`)."""
    work: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        work.put_nowait(path)
    totals = [0, 0]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while not work.empty():
            path = work.get_nowait()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            body = await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                totals[0] += 1
                totals[1] += json.loads(body)["recorded"]
        writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return totals[0], totals[1]


def serve(settings: Settings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("BROADCASTER_")},
        "BROADCASTER_DATABASE_URL": settings.database_url,
        "BROADCASTER_DATA_DIR": str(settings.data_dir),
        "BROADCASTER_OUTPUT_DIR": str(settings.output_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "broadcaster", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            asyncio.run(asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1))
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the web app did not start")


def cpu_of(pid: int) -> float:
    """User+system seconds of a process and its live children (uvicorn's serving processes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(
    name: str, database_url: str, folder: Path, count: int, repeats: int, connections: int, workers: int
) -> Run:
    settings = Settings(
        database_url=database_url,
        output_dir=folder / "out",
        content_dir=shipped_dir("content"),
        data_dir=folder / "data",
    )
    queries = prepare(settings, count)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        installation = str(connection.execute(text("SELECT id FROM installation")).scalar())
    base = f"/hooks/sms/{callback_token(settings, installation)}/esms"
    paths = [f"{base}?{query}" for _, query in queries for _ in range(repeats)]
    random.Random(881).shuffle(paths)
    port = 20000 + random.randrange(20000)
    server = serve(settings, port, workers)
    try:
        cpu_before = cpu_of(server.pid)
        started = time.perf_counter()
        answered, recorded = asyncio.run(call_back(port, paths, connections))
        seconds = time.perf_counter() - started
        cpu = cpu_of(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    with engine.connect() as connection:
        settled = connection.execute(
            select(func.count()).where(Delivery.state.in_([DeliveryState.DELIVERED, DeliveryState.UNDELIVERED]))
        ).scalar_one()
        unmatched = connection.execute(select(func.count()).select_from(UnmatchedReport)).scalar_one()
    engine.dispose()
    return Run(name, count, len(paths), seconds, answered, recorded, settled, unmatched, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="accepted SMS, each reported")
    parser.add_argument("--repeats", type=int, default=2, help="times eSMS sends each report")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    parser.add_argument("--workers", type=int, default=1, help="serving processes (broadcaster serve --workers)")
    options = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as name:
        folder = Path(name)
        sizes = (options.n, options.repeats, options.connections, options.workers)
        runs.append(measure("sqlite", f"sqlite:///{folder / 'bench.db'}", folder, *sizes))
        if options.postgres:
            with world.scratch_schema("reports") as schema:
                (folder / "pg").mkdir()
                runs.append(measure("postgresql", world.schema_url(schema), folder / "pg", *sizes))
    table = Table(
        title=f"delivery-report ingestion: {options.n} SMS, each report sent {options.repeats}×, "
        f"{options.connections} connections, {options.workers} serving process(es), "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for column in (
        "database",
        "callbacks",
        "seconds",
        "per second",
        "server CPU-µs each",
        "answered 200",
        "recorded",
        "lost",
        "applied twice",
        "unmatched",
    ):
        table.add_column(column, justify="left" if column == "database" else "right")
    for run in runs:
        table.add_row(
            run.database,
            str(run.callbacks),
            f"{run.seconds:.1f}",
            f"{run.per_second:,.0f}",
            f"{run.cpu_seconds / run.callbacks * 1e6:,.0f}",
            str(run.answered_200),
            str(run.recorded),
            str(run.deliveries - run.settled),
            str(max(0, run.recorded - run.deliveries)),
            str(run.unmatched),
        )
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
