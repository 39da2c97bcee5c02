"""python -m bench.load: the console under load — simulated staff using the console while the workers send
an SMS campaign to a loopback gateway and delivery reports arrive at the hook, on SQLite and on PostgreSQL.

Method: a database with the shipped directory, `--sms` subscribers and an approved emergency SMS campaign
that fires as the run starts (eSMS dialect, one request per message, to the loopback gateway of
`bench/gateway.py`). Then, as a department runs it: `broadcaster serve` (the console and the delivery-report
hook; `--serving` processes, by default two as the files in deploy/ run it) and `broadcaster run --channel sms`
(the timetable and a worker, which expands the campaign and sends). For `--seconds`:

- `--users` console users, each signed in with an account of its own, one request at a time with a pause of
  `--think` seconds on average between them (a person reading the page), choosing among the campaign list,
  the sending campaign's page, its monitor and the monitor's live refresh, the directory's agencies, and two
  saves: their own draft in the composer and their own agency in the directory's form;
- a reporter in a process of its own sends, for every SMS the gateway accepted, the eSMS delivery report (a
  GET callback: nine in ten delivered, one in ten not) at up to `--reports-per-second`, over keep-alive
  connections, as soon as the worker has recorded it as accepted.

An error is an answer 500 or above, a refused or dropped connection or no answer within 30 s. The table gives
per kind of request: requests, errors, other refusals (4xx, which would mean the benchmark is wrong), and the
50th, 95th and 99th percentile of the answer time; then SMS recorded as sent and reports applied (deliveries
now delivered or undelivered). Targets: 0 errors; console p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text

from bench import world
from bench.console import PASSWORD, draft_fields, form_fields
from bench.gateway import GatewayProcess
from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.installation import callback_token
from broadcaster.models import Delivery, DeliveryState
from broadcaster.settings import Settings, shipped_dir

TARGET_MS = 300
CAMPAIGN = "canh-bao-tai-cho"
TIMEOUT = 30
# How often each user does what: mostly reading, now and then saving.
ACTIONS = {
    "campaign list": 3,
    "campaign page": 3,
    "monitor (page)": 2,
    "monitor (live refresh)": 3,
    "directory (agencies)": 2,
    "save a draft": 1,
    "save an agency entry": 1,
}
SENT = (DeliveryState.ACCEPTED, DeliveryState.DELIVERED, DeliveryState.UNDELIVERED, DeliveryState.SENT)
REPORTED = (DeliveryState.DELIVERED, DeliveryState.UNDELIVERED)


@dataclass
class Tally:
    """What the users saw, per kind of request (times in ms)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    what_went_wrong: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, ms: float, status: int | str) -> None:
        """One answer: its HTTP status, or what stopped it (an exception's name and message)."""
        with self.lock:
            self.times[kind].append(ms)
            if isinstance(status, str) or status >= 500:
                self.errors[kind] += 1
                self.what_went_wrong.append(f"{kind} after {ms:.0f} ms: {status}")
            elif status >= 400:
                self.refused[kind] += 1
                self.what_went_wrong.append(f"{kind} after {ms:.0f} ms: {status}")


@dataclass
class Outcome:
    database: str
    tally: Tally
    seconds: float
    sms: int
    sent: int
    reports_sent: int
    reports_answered: int
    last_report_after: float
    applied: int
    load: tuple[float, float]
    all_sent_after: float | None  # seconds from the start until every SMS was recorded as sent
    log_problems: int  # lines of the processes' logs with an error, a traceback or a locked database

    def sending(self) -> str:
        if self.all_sent_after is None:
            rate = self.sent / self.seconds
            return f"SMS sent {self.sent:,} of {self.sms:,} in the {self.seconds:.0f} s ({rate:,.0f}/s)"
        rate = self.sms / self.all_sent_after
        return f"SMS sent {self.sent:,} of {self.sms:,}, all within {self.all_sent_after:.0f} s ({rate:,.0f}/s)"


# ---- the world ------------------------------------------------------------------------------------------------


def prepare(settings: Settings, sms: int, users: int) -> None:
    """The directory, the subscribers, the campaign (fired, not yet expanded) and one account per user."""
    sessions = world.fresh(settings)
    world.subscribers(sessions, "bench", sms)
    world.campaign(sessions, settings, CAMPAIGN, {"sms": {"to": ["list:bench"], "max_parts": 1, "unaccented": True}})
    world.fire(sessions, settings)
    with transaction(sessions) as session:
        for index in range(users):
            accounts.create_account(session, user_name(index), "admin", password=PASSWORD)
    sessions.kw["bind"].dispose()


def user_name(index: int) -> str:
    return f"can-bo-{index:02d}"


def environment(settings: Settings, gateway: GatewayProcess, run: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("BROADCASTER_")}
    return clean | {
        "BROADCASTER_DATABASE_URL": settings.database_url,
        "BROADCASTER_OUTPUT_DIR": str(settings.output_dir),
        "BROADCASTER_DATA_DIR": str(settings.data_dir),
        "BROADCASTER_RATES": '{"sms": 1000000}',
        "BROADCASTER_SMS_DIALECT": "esms",
        "BROADCASTER_SMS_URL": gateway.url(run, "esms"),
        "BROADCASTER_SMS_API_KEY": "bench-key",
        "BROADCASTER_SMS_SECRET_KEY": "bench-secret",
        "BROADCASTER_SMS_BRANDNAME": "STTTT_TN",
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "broadcaster", *command], env=env, stdout=out, stderr=out)


def wait_listening(site: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"broadcaster serve stopped: see {log}")
        try:
            requests.get(f"{site}/login", timeout=5)
            return
        except requests.RequestException:  # not listening yet
            time.sleep(0.3)
    raise SystemExit(f"broadcaster serve did not start: see {log}")


# ---- one console user ----------------------------------------------------------------------------------------


class User:
    """One member of staff: signed in, with a draft and an agency of their own to save."""

    def __init__(self, site: str, index: int, today: Any):
        self.site = site
        self.index = index
        self.http = requests.Session()
        page = self.http.get(f"{site}/login", timeout=TIMEOUT).text
        signed = self.http.post(
            f"{site}/login",
            data={"login": user_name(index), "password": PASSWORD, "csrf_token": token_in(page)},
            timeout=TIMEOUT,
        )
        assert self.http.cookies.get("bc_console"), f"user {index} signed in ({signed.status_code})"
        self.token = token_in(self.http.get(f"{site}/compose", timeout=TIMEOUT).text)
        self.draft = f"ban-nhap-{index:02d}"
        saved = self.http.post(
            f"{site}/compose", data=draft_fields(self.token, today, self.draft), allow_redirects=False, timeout=TIMEOUT
        )
        assert saved.status_code == 303, f"user {index}'s draft is saved ({saved.status_code})"
        self.draft_form = form_fields(self.http.get(f"{site}/compose/{self.draft}", timeout=TIMEOUT).text)
        self.agency = {
            "csrf_token": self.token,
            "key": f"don-vi-tai-cho-{index:02d}",
            "name": f"Đơn vị thử tải số {index}",
            "emails": f"vanthu{index}@donvi.example",
            "groups": "thu-tai",
            "area": "tay-ninh",
        }

    def act(self, kind: str) -> int:
        """One request of this kind; its HTTP status."""
        site, campaign = self.site, f"/campaigns/{CAMPAIGN}"
        gets = {
            "campaign list": "/campaigns",
            "campaign page": campaign,
            "monitor (page)": f"{campaign}/monitor",
            "monitor (live refresh)": f"{campaign}/monitor/live",
            "directory (agencies)": "/directory/agencies",
        }
        if kind in gets:
            return self.http.get(site + gets[kind], timeout=TIMEOUT).status_code
        if kind == "save a draft":
            answer = self.http.post(f"{site}/compose", data=self.draft_form, allow_redirects=False, timeout=TIMEOUT)
        else:
            self.agency["name"] = f"Đơn vị thử tải số {self.index} ({random.randrange(1000)})"
            answer = self.http.post(
                f"{site}/directory/agencies/entry", data=self.agency, allow_redirects=False, timeout=TIMEOUT
            )
        return answer.status_code


def token_in(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found is not None, "the page has its form token"
    return found.group(1)


def use(user: User, tally: Tally, think: float, until: float, seed: int) -> None:
    """The user's session: pause, act, note the answer's time, until the run ends."""
    chance = random.Random(seed)
    kinds, weights = list(ACTIONS), list(ACTIONS.values())
    while True:
        pause = chance.uniform(0.5 * think, 1.5 * think)
        if time.monotonic() + pause >= until:
            return
        time.sleep(pause)
        kind = chance.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            status: int | str = user.act(kind)
        except requests.RequestException as exc:
            status = f"{type(exc).__name__}: {str(exc)[:300]}"
        tally.note(kind, (time.perf_counter() - started) * 1000, status)


# ---- the delivery reports -----------------------------------------------------------------------------------


def report_query(provider_id: str, address: str, delivered: bool) -> str:
    """The GET query eSMS calls back with once the telco reports."""
    return urlencode(
        {
            "SMSID": provider_id,
            "SendFailed": "0" if delivered else "1",
            "SendStatus": "5" if delivered else "4",
            "SendSuccess": "1" if delivered else "0",
            "TotalPrice": "850.0000" if delivered else "0.0000",
            "TotalReceiver": "1",
            "TotalSent": "1",
            "RequestId": provider_id,  # the gateway answers with the RequestId as its SMSID
            "TypeId": "2",
            "telcoid": "1",
            "phonenumber": "0" + address[3:],
        }
    )


def report(database_url: str, port: int, base: str, rate: float, seconds: float, totals: Any) -> None:
    """Send each accepted SMS's report once, at most `rate` a second, for `seconds`; totals[0] sent,
    totals[1] answered 200, totals[2] the milliseconds from the start to the last answer."""
    asyncio.run(_report(database_url, port, base, rate, seconds, totals))


async def _report(database_url: str, port: int, base: str, rate: float, seconds: float, totals: Any) -> None:
    engine = create_engine(database_url)
    queue: asyncio.Queue[str] = asyncio.Queue()
    began = time.monotonic()
    until = began + seconds
    seen = [0]

    def newly_accepted() -> list[str]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Delivery.id, Delivery.provider_id, Delivery.address)
                .where(Delivery.state == DeliveryState.ACCEPTED, Delivery.id > seen[0])
                .order_by(Delivery.id)
                .limit(5000)
            ).all()
        if rows:
            seen[0] = rows[-1][0]
        return [f"{base}?{report_query(str(p), a, i % 10 != 0)}" for i, p, a in rows]

    async def feed() -> None:
        while time.monotonic() < until:
            found = await asyncio.to_thread(newly_accepted)
            for path in found:
                queue.put_nowait(path)
            if len(found) < 5000:
                await asyncio.sleep(0.5)

    # One slot every 1/rate seconds: a connection takes the next slot, waits for it, then sends.
    interval, next_slot = 1 / rate, [time.monotonic()]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < until:
            try:
                path = await asyncio.wait_for(queue.get(), timeout=max(0.01, until - time.monotonic()))
            except TimeoutError:
                break
            slot = next_slot[0] = max(next_slot[0] + interval, time.monotonic())
            await asyncio.sleep(max(0.0, slot - time.monotonic()))
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            totals[0] += 1
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(h.split(b":", 1)[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
            )
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                totals[1] += 1
            totals[2] = round((time.monotonic() - began) * 1000)
        writer.close()

    await asyncio.gather(feed(), *(connection() for _ in range(32)))
    engine.dispose()


def watch(engine: Any, sms: int, started: float, until: float) -> Callable[[], float | None]:
    """Samples, every second, how many SMS are recorded as sent; returns a function giving the seconds from
    `started` until all `sms` were (None if they never were within the run)."""
    reached: list[float] = []

    def sample() -> None:
        while time.monotonic() < until and not reached:
            with engine.connect() as connection:
                if (connection.scalar(select(func.count()).where(Delivery.state.in_(SENT))) or 0) >= sms:
                    reached.append(time.monotonic() - started)
            time.sleep(1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()

    def all_sent_after() -> float | None:
        watcher.join()
        return reached[0] if reached else None

    return all_sent_after


# ---- one database --------------------------------------------------------------------------------------------


def measure(
    name: str, database_url: str, folder: Path, gateway: GatewayProcess, options: argparse.Namespace
) -> Outcome:
    settings = Settings(
        database_url=database_url,
        output_dir=folder / "out",
        content_dir=shipped_dir("content"),
        data_dir=folder / "data",
    )
    prepare(settings, options.sms, options.users)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        installation = str(connection.execute(text("SELECT id FROM installation")).scalar())
    base = f"/hooks/sms/{callback_token(settings, installation)}/esms"
    env = environment(settings, gateway, name)
    port = 20000 + random.randrange(20000)
    site = f"http://127.0.0.1:{port}"
    serve = ["serve", "--port", str(port), "--workers", str(options.serving)]
    server = start(serve, env, folder / "serve.log")
    sender: subprocess.Popen[bytes] | None = None
    try:
        wait_listening(site, server, folder / "serve.log")
        today = settings.today()
        users = [User(site, index, today) for index in range(options.users)]
        load_before = os.getloadavg()[0]
        sender = start(["run", "--channel", "sms"], env, folder / "run.log")
        started = time.monotonic()
        until = started + options.seconds
        tally = Tally()
        all_sent_after = watch(engine, options.sms, started, until)
        totals: Any = multiprocessing.Array("q", 3)
        reporter = multiprocessing.Process(
            target=report, args=(database_url, port, base, options.reports_per_second, options.seconds, totals)
        )
        reporter.start()
        threads = [
            threading.Thread(target=use, args=(user, tally, options.think, until, index))
            for index, user in enumerate(users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reporter.join(timeout=60)
        seconds = time.monotonic() - started
        load_after = os.getloadavg()[0]
    finally:
        for process in (sender, server):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
    finished = all_sent_after()
    with engine.connect() as connection:
        sent = connection.scalar(select(func.count()).where(Delivery.state.in_(SENT))) or 0
        applied = connection.scalar(select(func.count()).where(Delivery.state.in_(REPORTED))) or 0
    engine.dispose()
    return Outcome(
        name,
        tally,
        seconds,
        options.sms,
        sent,
        totals[0],
        totals[1],
        totals[2] / 1000,
        applied,
        (load_before, load_after),
        finished,
        log_problems(folder / "serve.log", folder / "run.log"),
    )


PROBLEM = re.compile(r"\bERROR\b|Traceback|database is locked")


def log_problems(*logs: Path) -> int:
    """Lines in the processes' logs that say something went wrong, even if no answer showed it."""
    return sum(1 for log in logs for line in log.read_text(errors="replace").splitlines() if PROBLEM.search(line))


def on_postgresql(work: Callable[[str], Outcome]) -> Outcome:
    with world.scratch_schema("load") as schema:
        return work(world.schema_url(schema))


# ---- the table ------------------------------------------------------------------------------------------------


def percentile(times: list[float], p: int) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def show(outcomes: list[Outcome], options: argparse.Namespace) -> None:
    console = Console(width=200)
    table = Table(
        title=f"the console under load: {options.users} users (pause {options.think} s on average) for "
        f"{options.seconds:.0f} s, {options.sms:,} SMS, reports at up to {options.reports_per_second:,.0f}/s, "
        f"{options.serving} serving process(es) (target: 0 errors, p95 ≤ {TARGET_MS} ms)"
    )
    for column in ("database", "request", "requests", "errors", "4xx", "p50 ms", "p95 ms", "p99 ms", "target met"):
        table.add_column(column, justify="left" if column in ("database", "request") else "right")
    for outcome in outcomes:
        tally = outcome.tally
        every = [ms for kind in ACTIONS for ms in tally.times[kind]]
        for kind in [*ACTIONS, "all console requests"]:
            times = every if kind not in ACTIONS else tally.times[kind]
            errors = sum(tally.errors.values()) if kind not in ACTIONS else tally.errors[kind]
            refused = sum(tally.refused.values()) if kind not in ACTIONS else tally.refused[kind]
            if not times:
                continue
            table.add_row(
                outcome.database,
                kind,
                f"{len(times):,}",
                str(errors),
                str(refused),
                *(f"{percentile(times, p):.0f}" for p in (50, 95, 99)),
                "yes" if errors == 0 and percentile(times, 95) <= TARGET_MS else "NO",
            )
    console.print(table)
    for outcome in outcomes:
        for wrong in outcome.tally.what_went_wrong:
            console.print(f"{outcome.database}: {wrong}")
    for outcome in outcomes:
        console.print(
            f"{outcome.database}: {outcome.seconds:.0f} s; {outcome.sending()}; reports sent {outcome.reports_sent:,}, "
            f"the last answered after {outcome.last_report_after:.0f} s "
            f"({outcome.reports_sent / max(outcome.last_report_after, 1):,.0f}/s), "
            f"answered 200 {outcome.reports_answered:,}, "
            f"applied {outcome.applied:,}; log lines with an error, a traceback or 'database is locked' "
            f"{outcome.log_problems}; load average {outcome.load[0]:.1f} before, {outcome.load[1]:.1f} after "
            f"({os.cpu_count()} cores)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=300, help="how long the users work (default 5 minutes)")
    parser.add_argument("--users", type=int, default=20, help="console users at once (default 20)")
    parser.add_argument("--sms", type=int, default=100_000, help="SMS the campaign sends (default 100,000)")
    parser.add_argument(
        "--reports-per-second", type=float, default=2000, help="delivery reports sent at most (default 2,000)"
    )
    parser.add_argument("--think", type=float, default=1.0, help="a user's pause between requests, seconds")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], action="append", help="one database only")
    parser.add_argument(
        "--serving", type=int, default=2, help="serving processes, `serve --workers` (default 2, as deploy/ runs it)"
    )
    options = parser.parse_args()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        folder = Path(name)
        gateway = GatewayProcess(folder / "ledger")
        try:
            for database in options.only or ["sqlite", "postgresql"]:
                (folder / database).mkdir()
                if database == "sqlite":
                    url = f"sqlite:///{folder / 'sqlite' / 'broadcaster.db'}"
                    outcomes.append(measure(database, url, folder / database, gateway, options))
                else:
                    outcomes.append(
                        on_postgresql(lambda url: measure("postgresql", url, folder / "postgresql", gateway, options))
                    )
        finally:
            gateway.stop()
    show(outcomes, options)


if __name__ == "__main__":
    main()
