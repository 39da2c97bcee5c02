"""python -m bench [--n N] [--only NAME…]: every benchmark, one table of results with ratios.

Each row is measured side by side in one run on this machine (shared and noisy: read the ratios).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, insert, select, text

from bench import world
from bench.gateway import GatewayProcess
from broadcaster.db import make_engine, transaction
from broadcaster.models import Agency, AgencyGroup, Base, Delivery, Occurrence
from broadcaster.outbox import expand
from broadcaster.settings import Settings

SMS_TEXT = (
    "So TT&TT Tay Ninh: ke gian gia danh lanh dao So goi dien moi lam viec, doi thong tin ca nhan, tai "
    "khoan, ket ban Zalo, bam link la LUA DAO. Bao tin: 02763631168"
)
console = Console(width=200)


@dataclass
class Row:
    name: str
    count: int
    seconds: float
    cpu_seconds: float | None = None
    rss_mb: float | None = None
    versus: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds


@dataclass
class Bench:
    n: int
    folder: Path
    gateway: GatewayProcess
    rows: list[Row] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)
    scratch: ExitStack = field(default_factory=ExitStack)  # the PostgreSQL schemas to drop at the end

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        console.print(
            f"  {row.name}: {row.count} in {row.seconds:.2f} s = {row.rate:,.0f}/s "
            f"{'' if row.cpu_seconds is None else f'({row.cpu_seconds / row.count * 1e6:.0f} CPU-µs each)'}"
        )
        return row


# ---- helpers ---------------------------------------------------------------------------------------------


def sqlite_settings(bench: Bench, name: str, **extra: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{bench.folder / name}.db",
        output_dir=bench.folder / f"{name}-out",
        rates={"sms": 1e9, "email": 1e9, "facebook": 1e9},
        **extra,
    )


def postgres_settings(bench: Bench, name: str, **extra: Any) -> Settings:
    schema = bench.scratch.enter_context(world.scratch_schema(name))
    return Settings(
        database_url=world.schema_url(schema),
        output_dir=bench.folder / f"{name}-out",
        rates={"sms": 1e9, "email": 1e9, "facebook": 1e9},
        **extra,
    )


def pipeline(settings: Settings, channel: str, env: dict[str, str], workers: int = 1) -> dict[str, float]:
    """The real workers, in their own process, until the fan-out is done."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.pipeline",
            "--settings",
            settings.model_dump_json(),
            "--channel",
            channel,
            "--workers",
            str(workers),
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def sms_env(url: str, dialect: str, batch: int | None = None) -> dict[str, str]:
    env = {
        "BROADCASTER_SMS_DIALECT": dialect,
        "BROADCASTER_SMS_URL": url,
        "BROADCASTER_SMS_API_KEY": "bench-key",
        "BROADCASTER_SMS_SECRET_KEY": "bench-secret",
        "BROADCASTER_SMS_BRANDNAME": "STTTT_TN",
    }
    if batch:
        env["BROADCASTER_SMS_BATCH_SIZE"] = str(batch)
    return env


def sms_world(settings: Settings, n: int) -> None:
    sessions = world.fresh(settings)
    world.subscribers(sessions, "bulk", n)
    world.campaign(sessions, settings, "bench", {"sms": {"to": ["list:bulk"], "max_parts": 1, "unaccented": True}})
    world.fire(sessions, settings)


def timed(function: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


# ---- SMS ----------------------------------------------------------------------------------------------------


def ours_sms(
    bench: Bench, name: str, settings: Settings, dialect: str, kind: str, workers: int = 1, batch: int | None = None
) -> Row:
    sms_world(settings, bench.n)
    cost = pipeline(settings, "sms", sms_env(bench.gateway.url(name, kind), dialect, batch), workers)
    bench.expected[name] = bench.n
    return bench.add(Row(name, bench.n, cost["wall"], cost["cpu"], cost["max_rss_kb"] / 1024))


def bare_per_message(bench: Bench, name: str) -> Row:
    url = bench.gateway.url(name, "esms")
    session = requests.Session()

    def loop() -> None:
        for index in range(bench.n):
            session.post(
                url,
                json={
                    "ApiKey": "k",
                    "SecretKey": "s",
                    "Phone": f"09{index:08d}",
                    "Content": SMS_TEXT,
                    "Brandname": "STTTT_TN",
                    "SmsType": "2",
                    "IsUnicode": "0",
                    "Sandbox": "0",
                    "RequestId": f"{name}-{index}",
                },
                timeout=10,
            ).raise_for_status()

    wall, cpu = timed(loop)
    bench.expected[name] = bench.n
    return bench.add(Row(name, bench.n, wall, cpu))


def apprise_per_message(bench: Bench, name: str) -> Row:
    import apprise

    sender = apprise.Apprise()
    sender.add(f"json://127.0.0.1:{bench.gateway.port}/{name}/apprise")

    def loop() -> None:
        for _ in range(bench.n):
            if not sender.notify(body=SMS_TEXT, title="Canh bao"):
                raise RuntimeError("Apprise failed to notify")

    wall, cpu = timed(loop)
    bench.expected[f"count:{name}"] = bench.n
    return bench.add(Row(name, bench.n, wall, cpu))


def bare_batched(bench: Bench, name: str, size: int = 100) -> Row:
    url = bench.gateway.url(name, "batch")
    session = requests.Session()

    def loop() -> None:
        for start in range(0, bench.n, size):
            messages = [
                {"id": f"{name}-{index}", "to": f"+849{index:08d}", "text": SMS_TEXT, "unicode": False}
                for index in range(start, min(bench.n, start + size))
            ]
            session.post(url, json={"messages": messages}, timeout=30).raise_for_status()

    wall, cpu = timed(loop)
    bench.expected[name] = bench.n
    return bench.add(Row(name, bench.n, wall, cpu))


def bare_outbox_round_trip(bench: Bench, lease: int = 500, chunk: int = 100) -> Row:
    """What a durable outbox costs SQLite alone, with no HTTP and no Python around it: the same
    table and indexes, N rows written with executemany, then leased 500 at a time by
    UPDATE … RETURNING and given their outcome 100 at a time, each in its own transaction."""
    path = bench.folder / "bare-round-trip.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        for table in ("areas", "issuers", "campaigns", "occurrences", "deliveries"):
            Base.metadata.tables[table].create(connection)
    engine.dispose()
    due = "2026-01-01 00:00:00.000000"
    rows = [
        (1, "sms", 0, f"+849{index:08d}", "vi", '{"area": "Huyện Gò Dầu"}', "pending", due, 0)
        for index in range(bench.n)
    ]

    def round_trip() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO deliveries (occurrence_id, channel, rank, address, locale, details, state, due_at, attempts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        connection.execute("COMMIT")
        while True:
            connection.execute("BEGIN IMMEDIATE")
            leased = connection.execute(
                "UPDATE deliveries SET state = 'sending', lease_owner = 'w', lease_until = ?, attempts = attempts + 1 "
                "WHERE id IN (SELECT id FROM deliveries WHERE channel = 'sms' AND state = 'pending' AND due_at <= ? "
                "AND done_at IS NULL ORDER BY rank, due_at LIMIT ?) RETURNING id, address, details",
                (due, due, lease),
            ).fetchall()
            connection.execute("COMMIT")
            if not leased:
                break
            for start in range(0, len(leased), chunk):
                ids = [row[0] for row in leased[start : start + chunk]]
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(
                    "UPDATE deliveries SET state = 'accepted', lease_owner = NULL, lease_until = NULL, done_at = ? "
                    f"WHERE id IN ({', '.join('?' * len(ids))}) AND lease_owner = 'w'",
                    (due, *ids),
                )
                connection.execute("COMMIT")
        connection.close()

    wall, cpu = timed(round_trip)
    return bench.add(Row("sms-batch floor: bare sqlite3 outbox round trip, no HTTP", bench.n, wall, cpu))


# ---- outbox ---------------------------------------------------------------------------------------------------


def outbox_write(bench: Bench, settings: Settings, name: str) -> Row:
    sessions = world.fresh(settings)
    world.subscribers(sessions, "bulk", bench.n)
    world.campaign(sessions, settings, "bench", {"sms": {"to": ["list:bulk"], "max_parts": 1, "unaccented": True}})
    world.fire(sessions, settings)
    with sessions() as session:
        occurrence = session.scalar(select(Occurrence.id))
    assert occurrence is not None
    wall, cpu = timed(lambda: expand(sessions, settings, occurrence))
    with sessions() as session:
        rows = [dict(row._mapping) for row in session.execute(select(Delivery.__table__).order_by(Delivery.id))]
    return bench.add(Row(name, bench.n, wall, cpu)), rows  # type: ignore[return-value]


def bare_executemany(bench: Bench, rows: list[dict[str, Any]]) -> Row:
    path = bench.folder / "bare-outbox.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:  # an identical table: same columns, constraints and indexes
        for table in ("areas", "issuers", "campaigns", "occurrences", "deliveries"):
            Base.metadata.tables[table].create(connection)
    engine.dispose()
    columns = [column.name for column in Base.metadata.tables["deliveries"].columns if column.name != "id"]
    values = [tuple(_sqlite_value(row[column]) for column in columns) for row in rows]
    statement = (
        f"INSERT INTO deliveries ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        "ON CONFLICT DO NOTHING"
    )

    def load() -> None:
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        with connection:
            connection.executemany(statement, values)
        connection.close()

    wall, cpu = timed(load)
    return bench.add(Row("outbox write: bare sqlite3 executemany", len(rows), wall, cpu))


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def postgres_copy(bench: Bench, rows: list[dict[str, Any]]) -> Row:
    import psycopg

    schema = bench.scratch.enter_context(world.scratch_schema("copy"))
    engine = create_engine(world.POSTGRES)
    with engine.begin() as connection:
        connection.execute(text(f'SET search_path TO "{schema}"'))
        for table in ("areas", "issuers", "campaigns", "occurrences", "deliveries"):
            Base.metadata.tables[table].create(connection)
        # The parent occurrence is not copied over: its foreign key goes, the rest of the table stays identical.
        connection.execute(text("ALTER TABLE deliveries DROP CONSTRAINT fk_deliveries_occurrence_id_occurrences"))
    columns = [column.name for column in Base.metadata.tables["deliveries"].columns if column.name != "id"]
    values = [tuple(json.dumps(v) if isinstance(v, dict) else v for v in (row[c] for c in columns)) for row in rows]

    def copy() -> None:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test") as connection:
            connection.execute(f'SET search_path TO "{schema}"')
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY deliveries ({', '.join(columns)}) FROM STDIN") as out,
            ):
                for value in values:
                    out.write_row(value)

    wall, cpu = timed(copy)
    return bench.add(Row("outbox write: bare PostgreSQL COPY", len(rows), wall, cpu))


# ---- e-mail ----------------------------------------------------------------------------------------------------


def smtp_server(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("aiosmtpd did not start")


def email_letters(bench: Bench, letters: int = 2000) -> tuple[Row, Row]:
    import smtplib
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = smtp_server(port)
    try:
        settings = sqlite_settings(bench, "email")
        sessions = world.fresh(settings)
        with transaction(sessions) as session:
            agencies = [
                {"key": f"don-vi-{index}", "name": f"Đơn vị số {index}", "emails": [f"vanthu{index}@donvi.example"]}
                for index in range(letters)
            ]
            session.execute(insert(Agency), agencies)
            ids = session.scalars(select(Agency.id).where(Agency.key.like("don-vi-%"))).all()
            session.execute(insert(AgencyGroup), [{"agency_id": agency, "group": "bench"} for agency in ids])
        world.campaign(sessions, settings, "bench", {"email": {"to": ["group:bench"]}})
        world.fire(sessions, settings)
        env = {
            "BROADCASTER_EMAIL_MODE": "smtp",
            "BROADCASTER_EMAIL_HOST": "127.0.0.1",
            "BROADCASTER_EMAIL_PORT": str(port),
            "BROADCASTER_EMAIL_SECURITY": "plain",
            "BROADCASTER_EMAIL_SENDER": "vanthu@stttt.tayninh.example",
        }
        cost = pipeline(settings, "email", env)
        ours = bench.add(Row("e-mail letters: ours (SQLite, rendered per agency)", letters, cost["wall"], cost["cpu"]))
        message = _sample_letter(settings)

        def loop() -> None:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                for index in range(letters):
                    smtp.sendmail("vanthu@stttt.tayninh.example", [f"vanthu{index}@donvi.example"], message)

        wall, cpu = timed(loop)
        bare = bench.add(Row("e-mail letters: bare smtplib loop, one connection", letters, wall, cpu))
        return ours, bare
    finally:
        server.terminate()
        server.wait()


def _sample_letter(settings: Settings) -> bytes:
    """One letter exactly as ours rendered it, sent as is by the bare loop."""
    from broadcaster.db import make_sessions
    from broadcaster.models import Campaign
    from broadcaster.rendering import Composer
    from channels.base import AgencyFacts, Recipient
    from channels.email import EmailChannel, EmailOptions

    engine = make_engine(settings.database_url)
    with make_sessions(engine)() as session:
        campaign = session.scalars(select(Campaign)).one()
        composer = Composer.for_campaign(campaign, campaign.channels[0], settings)
        bulletin = composer.compose(
            "sample",
            Recipient("vanthu0@donvi.example", AgencyFacts(), "Đơn vị số 0"),
            datetime.now(settings.zone),
        )
    adapter = EmailChannel(
        EmailOptions(mode="smtp", host="x", sender="vanthu@stttt.tayninh.example"), output_dir=settings.output_dir
    )
    return adapter.build(bulletin)  # CRLF line ends, as on the wire


# ---- scheduler lateness ---------------------------------------------------------------------------------------


def lateness(bench: Bench, rules: int = 1000) -> Row:
    settings = sqlite_settings(bench, "lateness", poll_seconds=0.5)
    sessions = world.fresh(settings)
    start = datetime.now(settings.zone).replace(microsecond=0) + timedelta(seconds=30)
    schedule = [
        {"at": (start + timedelta(seconds=60 * index / rules)).strftime("%Y-%m-%d %H:%M:%S")} for index in range(rules)
    ]
    world.campaign(sessions, settings, "bench", {"facebook": {"to": ["page:sotttt-tay-ninh"], "schedule": schedule}})
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env = {
        **clean,
        "BROADCASTER_DATABASE_URL": settings.database_url,
        "BROADCASTER_OUTPUT_DIR": str(settings.output_dir),
        "BROADCASTER_RATES": '{"facebook": 1000000}',
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "broadcaster", "run", "--channel", "facebook"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep((start - datetime.now(settings.zone)).total_seconds() + 70)
    service.terminate()
    service.wait(timeout=60)
    with sessions() as session:
        delays = sorted(
            (done - fire).total_seconds()
            for fire, done in session.execute(
                select(Occurrence.fire_at, Delivery.done_at).join(Delivery, Delivery.occurrence_id == Occurrence.id)
            )
            if done is not None
        )
    p50, p99 = delays[len(delays) // 2], delays[int(len(delays) * 0.99) - 1]
    row = Row(
        f"scheduler: {rules} rules over a minute",
        len(delays),
        60.0,
        note=f"fire → sent p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms",
    )
    bench.rows.append(row)
    console.print(f"  {row.name}: {row.note}")
    return row


# ---- the run ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="SMS recipients (default 100,000)")
    parser.add_argument("--email", type=int, default=2000)
    parser.add_argument("--only", action="append", help="sms, batched, outbox, email, memory, scheduler")
    args = parser.parse_args()
    only = set(args.only or ["sms", "batched", "outbox", "email", "memory", "scheduler"])
    with tempfile.TemporaryDirectory(prefix="broadcaster-bench-") as folder:
        gateway = GatewayProcess(Path(folder) / "ledger")
        bench = Bench(args.n, Path(folder), gateway)
        try:
            with bench.scratch:
                run(bench, only, args)
        finally:
            ids, counts = gateway.stop()
        report(bench, ids, counts, args)


def run(bench: Bench, only: set[str], args: argparse.Namespace) -> None:
    if "sms" in only:
        console.print(f"[bold]per-message SMS (eSMS dialect), N = {bench.n:,}[/]")
        ours = ours_sms(bench, "sms-esms-sqlite", sqlite_settings(bench, "esms-sqlite"), "esms", "esms")
        pg1 = ours_sms(bench, "sms-esms-pg-1", postgres_settings(bench, "esms-pg1"), "esms", "esms", workers=1)
        pg2 = ours_sms(bench, "sms-esms-pg-2", postgres_settings(bench, "esms-pg2"), "esms", "esms", workers=2)
        bare = bare_per_message(bench, "sms-bare-requests")
        peer = apprise_per_message(bench, "sms-apprise")
        for row in (ours, pg1, pg2):
            row.versus = {"bare requests loop": row.rate / bare.rate, "Apprise": row.rate / peer.rate}
    if "batched" in only or "memory" in only:
        console.print(f"[bold]batched SMS (100 numbers per request), N = {bench.n:,}[/]")
        ours = ours_sms(
            bench, "sms-batch-sqlite", sqlite_settings(bench, "batch-sqlite"), "generic-json", "batch", batch=100
        )
        two = ours_sms(
            bench,
            "sms-batch-sqlite-2",
            sqlite_settings(bench, "batch-sqlite-2"),
            "generic-json",
            "batch",
            workers=2,
            batch=100,
        )
        bare = bare_batched(bench, "sms-batch-bare")
        floor = bare_outbox_round_trip(bench)
        for row in (ours, two):
            row.versus = {"bare batched loop": row.rate / bare.rate, "bare outbox round trip": row.rate / floor.rate}
    if "outbox" in only:
        console.print(f"[bold]outbox write, N = {bench.n:,}[/]")
        row, rows = outbox_write(bench, sqlite_settings(bench, "outbox-sqlite"), "outbox write: ours (SQLite)")
        bare = bare_executemany(bench, rows)
        row.versus = {"bare executemany": row.rate / bare.rate}
        pg, pg_rows = outbox_write(bench, postgres_settings(bench, "outbox-pg"), "outbox write: ours (PostgreSQL)")
        copy = postgres_copy(bench, pg_rows)
        pg.versus = {"bare COPY": pg.rate / copy.rate}
    if "email" in only:
        console.print(f"[bold]e-mail, {args.email:,} letters[/]")
        ours, bare = email_letters(bench, args.email)
        ours.versus = {"bare smtplib": ours.rate / bare.rate}
    if "scheduler" in only:
        console.print("[bold]scheduler lateness[/]")
        lateness(bench)


def report(bench: Bench, ids: dict[str, list[str]], counts: dict[str, int], args: argparse.Namespace) -> None:
    table = Table(
        title=f"broadcaster benchmarks — {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for column in ("benchmark", "count", "seconds", "per second", "CPU-µs each", "peak RSS MB", "ratios", "ledger"):
        table.add_column(column)
    for row in bench.rows:
        ledger = ""
        run = row.name if row.name in bench.expected else None
        if run is not None:
            received = ids.get(run, [])
            lost = bench.expected[run] - len(set(received))
            ledger = f"lost {lost}, doubled {len(received) - len(set(received))}"
        elif f"count:{row.name}" in bench.expected:
            ledger = f"lost {bench.expected[f'count:{row.name}'] - counts.get(row.name, 0)}"
        ratios = ", ".join(f"{value:.2f}× {name}" for name, value in row.versus.items())
        table.add_row(
            row.name,
            f"{row.count:,}",
            f"{row.seconds:.2f}",
            f"{row.rate:,.0f}",
            "" if row.cpu_seconds is None else f"{row.cpu_seconds / row.count * 1e6:.0f}",
            "" if row.rss_mb is None else f"{row.rss_mb:.0f}",
            ratios or row.note,
            ledger,
        )
    console.print(table)


if __name__ == "__main__":
    main()
