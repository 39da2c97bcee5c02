"""python -m bench.console: the console's dashboard, a campaign's monitor, a deliveries search, the
composer (a new campaign, a draft, the live preview of its texts, saving it), the campaign's results page and
the report's four files with 1,000,000 delivery rows, on SQLite and on PostgreSQL, against `broadcaster
serve` in its own process: pages under `ab` (Debian's apache2-utils), the composer's posts from threads
posting what the page's form holds. Prints one table; the target is p95 ≤ 200 ms for a page or a preview,
≤ 500 ms for a save, ≤ 1 s for the results and the report's files.

The rows are written straight into the outbox by the database (INSERT … SELECT over a generated series,
then ANALYZE / VACUUM ANALYZE): one approved campaign whose SMS channel fired ten times this week, each
time to the 100,000 numbers of one subscriber list (each row names the list, as the fan-out writes it),
90 % sent, 5 % delivered, 3 % failed under five reasons, 2 % skipped; each row names one of the
directory's areas (in turn), as a fan-out writes the subscriber's area on it. The same campaign's radio
aired twice a day for the last 60 days on `--stations` stations (100: a province's district and commune
stations), each slot one delivery per station, 70 % confirmed aired, 10 % not aired (one of the four
reasons), 20 % not confirmed, and one slot in ten confirmed twice (a correction).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import lxml.html
import requests
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

from bench import world
from broadcaster import accounts, counts
from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import OnceRule, load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.cli.demo import compressed
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import example_campaigns, import_examples
from broadcaster.models import Area, Campaign, Occurrence, Station, SubscriberList
from broadcaster.settings import Settings, shipped_dir

PASSWORD = "bench-password-long"
OCCURRENCES = 10
STATIONS = 100
AIRING_DAYS = 60
SLOTS = {"morning": 5, "evening": 17}  # local hour of each radio slot
TARGET_MS = 200
RESULTS_TARGET_MS = 1000  # the results page and the report's files
SAVE_TARGET_MS = 500
DRAFT = "canh-bao-gia-danh-dien-luc"
# A campaign as a drafting officer writes it in the composer: plain words and fields, radio as in a letter.
RADIO = (
    "Ngày 5/12/2026, [Tên đơn vị] cảnh báo: kẻ gian giả danh nhân viên điện lực gọi điện đòi tiền điện, dọa cắt "
    "điện trong 2 giờ. 90% cuộc gọi loại này là lừa đảo. Bà con gọi ngay 0276 3631 168 để báo tin."
)
SMS = "[Tên viết tắt của đơn vị]: kẻ gian giả danh điện lực gọi đòi tiền là LỪA ĐẢO. Báo tin: [Đường dây nóng]"
FACEBOOK = "CẢNH BÁO lừa đảo giả danh điện lực.\nCập nhật ngày [Ngày phát]. Báo tin: [Đường dây nóng]"
REASONS = [
    "gateway said 'number barred' (permanent)",
    "gateway said 'subscriber absent' after 6 attempts",
    "gateway timed out after 6 attempts",
    "the number is not a mobile number",
    "gateway said 'content refused'",
]
SEARCHED = "+84900000777"  # a number written in every one of the ten occurrences


def _database(kind: str, folder: Path, scratch: ExitStack) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'console.db'}"
    return world.schema_url(scratch.enter_context(world.scratch_schema("console")))


def _settings(url: str, folder: Path) -> Settings:
    return Settings(
        database_url=url, output_dir=folder / "out", content_dir=shipped_dir("content"), data_dir=folder / "data"
    )


def fill(settings: Settings, rows: int, stations: int = STATIONS) -> str:
    """The directory, an approved campaign, its SMS occurrences this week and `rows` deliveries among them,
    and its radio slots of the last `AIRING_DAYS` days on `stations` stations with what they reported."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    now = datetime.now(settings.zone)
    with transaction(sessions) as session:
        import_examples(session)
        accounts.create_account(session, "bench", "admin", password=PASSWORD)
        accounts.create_account(session, "minh", "approver", password=None)
        spec = compressed(load_campaign_file(example_campaigns()[0]), now, 60, now)
        spec.channels["sms"].schedule = [OnceRule(at=(now + timedelta(days=1)).replace(tzinfo=None, microsecond=0))]
        campaign, _ = save_campaign(session, spec, "bench", settings)
        lifecycle.apply(session, campaign, "submit", "bench", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
        slug = campaign.slug
    week = now - timedelta(days=now.weekday())
    with transaction(sessions) as session:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == slug))
        for index in range(OCCURRENCES):
            fire = min(week + timedelta(hours=6 + 12 * index), now - timedelta(minutes=OCCURRENCES - index))
            session.add(
                Occurrence(
                    campaign_id=campaign_id,
                    channel="sms",
                    rule_key=f"now:bench{index}",
                    fire_at=fire,
                    state="expanded",
                    recipients=rows // OCCURRENCES,
                    expanded_at=fire,
                )
            )
    with transaction(sessions) as session:
        ids = list(session.scalars(select(Occurrence.id).where(Occurrence.rule_key.startswith("now:bench"))))
        areas = list(session.scalars(select(Area.name).order_by(Area.code)))
        listed = SubscriberList(slug="bench-thue-bao", name="Thuê bao thử (100.000 số)")
        session.add(listed)
        session.flush()
        list_id = listed.id
    _insert_rows(engine, ids, rows, areas, list_id)
    if stations:
        assert campaign_id is not None
        _insert_airing(engine, sessions, campaign_id, stations, now)
    engine.dispose()
    return slug


def _insert_airing(engine: object, sessions: object, campaign_id: int, stations: int, now: datetime) -> None:
    """`stations` stations, two radio slots a day for `AIRING_DAYS` days, one delivery per slot and station,
    and the stations' reports on them (by the database: INSERT … SELECT)."""
    with transaction(sessions) as session:  # type: ignore[arg-type]
        area_ids = list(session.scalars(select(Area.id).order_by(Area.code)))
        for index in range(stations):
            session.add(
                Station(
                    slug=f"bench-dtt-{index:03d}",
                    name=f"Đài Truyền thanh xã thử {index:03d}",
                    area_id=area_ids[index % len(area_ids)],
                    locales=["vi"],
                    folder=f"bench/{index:03d}",
                    slots={name: f"{hour:02d}:00" for name, hour in SLOTS.items()},
                )
            )
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(AIRING_DAYS):
            for slot, hour in SLOTS.items():
                fire = today - timedelta(days=AIRING_DAYS - day) + timedelta(hours=hour)
                session.add(
                    Occurrence(
                        campaign_id=campaign_id,
                        channel="radio",
                        rule_key=f"now:benchradio{day}{slot}",
                        slot=slot,
                        fire_at=fire,
                        state="expanded",
                        recipients=stations,
                        expanded_at=fire,
                    )
                )
    dialect = engine.dialect.name  # type: ignore[attr-defined]
    now_sql = "CURRENT_TIMESTAMP" if dialect == "postgresql" else "datetime('now')"
    true, false = ("true", "false") if dialect == "postgresql" else ("1", "0")
    deliveries = """
        INSERT INTO deliveries (occurrence_id, channel, rank, address, name, locale, details, state, due_at,
                                attempts, provider_id, done_at)
        SELECT o.id, 'radio', 1, s.slug, s.name, 'vi', NULL, 'sent', o.fire_at, 1, NULL, o.fire_at
        FROM occurrences AS o CROSS JOIN stations AS s
        WHERE o.rule_key LIKE 'now:benchradio%' AND s.slug LIKE 'bench-dtt-%'
    """
    # Per delivery: 0–6 aired, 7 not aired, 8–9 not confirmed; a tenth of them (id % 10 = 3) confirmed twice.
    reasons = "CASE d.id % 4 WHEN 0 THEN 'equipment' WHEN 1 THEN 'power' WHEN 2 THEN 'emergency' ELSE 'other' END"
    reports = f"""
        INSERT INTO airing_reports (delivery_id, station_id, aired, aired_at, reason, note, by, at)
        SELECT d.id, s.id, CASE WHEN d.id % 10 = 7 THEN {false} ELSE {true} END,
               CASE WHEN d.id % 10 = 7 THEN NULL ELSE d.due_at END,
               CASE WHEN d.id % 10 = 7 THEN {reasons} END, NULL, 'link:' || s.slug, {now_sql}
        FROM deliveries AS d JOIN stations AS s ON s.slug = d.address
        JOIN occurrences AS o ON o.id = d.occurrence_id
        WHERE o.rule_key LIKE 'now:benchradio%' AND d.id % 10 < 8 AND d.channel = 'radio'
        ORDER BY d.id
    """
    corrections = f"""
        INSERT INTO airing_reports (delivery_id, station_id, aired, aired_at, reason, note, by, at)
        SELECT delivery_id, station_id, {true}, aired_at, NULL, 'sửa lại', by, {now_sql}
        FROM airing_reports WHERE delivery_id % 10 = 3 ORDER BY id
    """
    with engine.begin() as connection:  # type: ignore[attr-defined]
        for statement in (deliveries, reports, corrections):
            connection.execute(text(statement))
    with transaction(make_sessions(engine)) as session:  # type: ignore[arg-type]
        counts.fold(session)
    if dialect == "sqlite":
        with engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(text("ANALYZE"))
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:  # type: ignore[attr-defined]
            for table in ("deliveries", "occurrences", "airing_reports", "stations"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))


def _insert_rows(engine: object, occurrence_ids: list[int], rows: int, areas: list[str], list_id: int) -> None:
    """INSERT … SELECT over a generated series, per occurrence, by the database itself; the numbers written
    are the subscribers of one list (`list_id`), which each row names, as the fan-out writes them."""
    per = rows // len(occurrence_ids)
    dialect = engine.dialect.name  # type: ignore[attr-defined]
    quoted = [name.replace("'", "''") for name in areas]
    area = f"CASE i % {len(areas)} " + " ".join(f"WHEN {k} THEN '{name}'" for k, name in enumerate(quoted)) + " END"
    postgresql = dialect == "postgresql"
    array = f"{'jsonb_build_array' if postgresql else 'json_array'}({list_id})"
    details = f"{'jsonb_build_object' if postgresql else 'json_object'}('area', {area}, 'lists', {array})"
    series = (
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) SELECT i FROM n"
        if dialect == "sqlite"
        else "SELECT generate_series(0, :last) AS i"
    )
    reasons = " ".join(f"WHEN {k} THEN '{r.replace(chr(39), chr(39) * 2)}'" for k, r in enumerate(REASONS))
    now = "CURRENT_TIMESTAMP" if dialect == "postgresql" else "datetime('now')"
    digits = "(i * 7 % 100000000)"
    number = f"lpad({digits}::text, 8, '0')" if dialect == "postgresql" else f"substr('0000000' || {digits}, -8, 8)"
    statement = text(f"""
        INSERT INTO deliveries (occurrence_id, channel, rank, address, name, locale, details, state, due_at,
                                attempts, lease_owner, lease_until, provider_id, reason, done_at)
        SELECT :occurrence, 'sms', 1, '+849' || {number}, NULL, 'vi', {details},
               CASE WHEN i % 100 < 90 THEN 'sent' WHEN i % 100 < 95 THEN 'accepted'
                    WHEN i % 100 < 98 THEN 'failed' ELSE 'skipped' END,
               {now}, 1, NULL, NULL, CASE WHEN i % 100 < 95 THEN 'p' || i ELSE NULL END,
               CASE WHEN i % 100 >= 98 THEN 'opted out' WHEN i % 100 >= 95 THEN CASE i % 5 {reasons} END END,
               {now}
        FROM ({series}) AS s
    """)
    subscribers = text(f"""
        INSERT INTO subscribers (list_id, phone, area_id, locale, opted_out, opted_out_on, name)
        SELECT {list_id}, '+849' || {number}, NULL, 'vi', {"false" if postgresql else "0"}, NULL, NULL
        FROM ({series}) AS s
    """)
    with engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(subscribers, {"last": per - 1})
        for occurrence in occurrence_ids:
            connection.execute(statement, {"occurrence": occurrence, "last": per - 1})
    with transaction(make_sessions(engine)) as session:  # type: ignore[arg-type]
        counts.fold(session)  # as `broadcaster run` does every few seconds
    if dialect == "sqlite":
        with engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(text("ANALYZE"))
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:  # type: ignore[attr-defined]
            connection.execute(text("VACUUM ANALYZE deliveries"))
            connection.execute(text("VACUUM ANALYZE occurrences"))


def serve(settings: Settings, folder: Path, port: int) -> subprocess.Popen[bytes]:
    """`broadcaster serve` in its own process, on this database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BROADCASTER_")}
    env |= {
        "BROADCASTER_DATABASE_URL": settings.database_url,
        "BROADCASTER_OUTPUT_DIR": str(settings.output_dir),
        "BROADCASTER_DATA_DIR": str(settings.data_dir),
        "BROADCASTER_WEB_PORT": str(port),
    }
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "broadcaster", "serve"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
            return process
        except requests.RequestException:  # not listening yet, or too busy starting to answer in time
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"broadcaster serve did not start: see {folder / 'serve.log'}")


def sign_in(site: str) -> str:
    with requests.Session() as http:
        page = http.get(f"{site}/login").text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
        assert token is not None
        http.post(f"{site}/login", data={"login": "bench", "password": PASSWORD, "csrf_token": token.group(1)})
        cookie = http.cookies.get("bc_console")
    assert cookie, "signed in"
    return str(cookie)


def form_token(site: str, cookie: str, path: str) -> str:
    """The form token of the signed-in session, as the results page writes it in its export form."""
    page = requests.get(site + path, cookies={"bc_console": cookie}, timeout=60).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert token is not None, "the results page has its export form"
    return token.group(1)


def ab(url: str, cookie: str, n: int, concurrency: int, body: Path | None = None) -> dict[str, float]:
    """One `ab` run (a POST of the form in `body` when given): requests per second and the 50 %, 95 % and
    99 % latencies (ms)."""
    posted = ["-p", str(body), "-T", "application/x-www-form-urlencoded"] if body is not None else []
    answer = subprocess.run(
        ["ab", "-q", "-n", str(n), "-c", str(concurrency), "-C", f"bc_console={cookie}", *posted, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # ab counts an answer whose length differs from the first as failed; the live counts carry the time of
    # day, so only connection, receive and exception failures are errors here.
    failed = sum(int(count) for count in re.findall(r"(?:Connect|Receive|Exceptions): (\d+)", answer))
    non_2xx = re.search(r"Non-2xx responses:\s+(\d+)", answer)
    percent = {int(p): float(ms) for p, ms in re.findall(r"^\s+(\d+)%\s+(\d+)", answer, re.MULTILINE)}
    rate = float(re.search(r"Requests per second:\s+([\d.]+)", answer).group(1))  # type: ignore[union-attr]
    return {
        "rate": rate,
        "p50": percent[50],
        "p95": percent[95],
        "p99": percent[99],
        "errors": failed + (int(non_2xx.group(1)) if non_2xx else 0),
    }


def draft_fields(token: str, today: date, campaign: str = DRAFT) -> dict[str, object]:
    """The composer's fields for a new SMS, Facebook and radio campaign, as an officer fills them in."""
    return {
        "csrf_token": token,
        "campaign": campaign,
        "issuer": "tay-ninh-stttt",
        "number": "1021/STTTT-TTr",
        "subject": "cảnh báo cuộc gọi giả danh nhân viên điện lực",
        "priority": "ordinary",
        "valid_from": f"{today}",
        "valid_until": f"{today + timedelta(days=30)}",
        "template": "",
        "locales": ["vi"],
        "sms.on": "on",
        "sms.to": ["list:thue-bao-tay-ninh"],
        "sms.rule.0.kind": "once",
        "sms.rule.0.once_day": f"{today + timedelta(days=1)}",
        "sms.rule.0.once_time": "09:00",
        "sms.opt.unaccented": "on",
        "sms.opt.max_parts": "2",
        "facebook.on": "on",
        "facebook.to": ["page:sotttt-tay-ninh"],
        "facebook.rule.0.kind": "weekly",
        "facebook.rule.0.weekday": ["0", "3"],
        "facebook.rule.0.weekly_time": "19:00",
        "radio.on": "on",
        "radio.to": ["stations:all"],
        "radio.areas": "tay-ninh",
        "radio.rule.0.kind": "slots",
        "radio.rule.0.slot": ["morning", "evening"],
        "plain.sms.vi": SMS,
        "plain.facebook.vi": FACEBOOK,
        "plain.radio.vi": RADIO,
    }


def form_fields(page: str) -> list[tuple[str, str]]:
    """What a browser posts from the composer's form as the page shows it."""
    form = lxml.html.fromstring(page).get_element_by_id("composer")
    return [(name, value) for name, value in form.form_values() if name]


def draft(site: str, cookie: str, today: date) -> list[tuple[str, str]]:
    """The campaign written in the composer and saved as a draft; its form's fields as its page posts them."""
    with requests.Session() as http:
        http.cookies.set("bc_console", cookie)
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', http.get(f"{site}/compose").text)
        assert token is not None
        saved = http.post(f"{site}/compose", data=draft_fields(token.group(1), today), allow_redirects=False)
        assert saved.status_code == 303, f"the draft is saved ({saved.status_code})"
        return form_fields(http.get(f"{site}/compose/{DRAFT}").text)


def posts(
    url: str, cookie: str, fields: list[tuple[str, str]], n: int, concurrency: int, fresh: str | None = None
) -> dict[str, float]:
    """`n` posts of the form, `concurrency` at a time: requests per second and latencies (ms), as `ab` gives.
    With `fresh`, that field says something new in each post (a report nobody asked for before)."""
    local = threading.local()

    def one(index: int) -> tuple[float, bool]:
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.cookies.set("bc_console", cookie)
        if fresh is not None:
            fields_now = [
                (name, f"{value} ({uuid.uuid4().hex[:8]})" if name == fresh else value) for name, value in fields
            ]
        else:
            fields_now = fields
        started = time.perf_counter()
        try:
            answer = local.http.post(url, data=fields_now, allow_redirects=False, timeout=60)
        except requests.ConnectionError:  # a kept-alive connection the server closed while idle: a new one
            started = time.perf_counter()
            answer = local.http.post(url, data=fields_now, allow_redirects=False, timeout=60)
        return (time.perf_counter() - started) * 1000, answer.status_code >= 400

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    times = sorted(ms for ms, _ in results)

    def percentile(p: int) -> float:
        return times[min(len(times) - 1, round(p / 100 * len(times)) - 1)]

    return {
        "rate": n / elapsed,
        "p50": percentile(50),
        "p95": percentile(95),
        "p99": percentile(99),
        "errors": sum(failed for _, failed in results),
    }


def composer_posts() -> dict[str, str]:
    return {
        "composer preview (radio, as one types)": "/compose/check/radio/vi",
        "composer preview (SMS, as one types)": "/compose/check/sms/vi",
        "composer timetable (Facebook, as one types)": "/compose/timetable/facebook",
        "composer save (draft)": "/compose",
    }


def pages(slug: str) -> dict[str, str]:
    return {
        "dashboard": "/",
        "monitor (page)": f"/campaigns/{slug}/monitor",
        "monitor (live refresh)": f"/campaigns/{slug}/monitor/live",
        "monitor (reasons, once a view)": f"/campaigns/{slug}/monitor/reasons",
        "deliveries search": f"/campaigns/{slug}/deliveries?address=0900000777",
        "results (page)": f"/campaigns/{slug}/results",
        "composer (new campaign)": "/compose",
        "composer (a draft)": f"/compose/{DRAFT}",
    }


REPORT_FILES = ("xlsx", "csv", "docx", "pdf")


def target_ms(name: str) -> int:
    if name.startswith(("results", "report")):
        return RESULTS_TARGET_MS
    return SAVE_TARGET_MS if "save" in name else TARGET_MS


def measure(
    kind: str,
    rows: int,
    n: int,
    concurrency: int,
    port: int,
    only: list[str] | None = None,
    stations: int = STATIONS,
) -> list[tuple[str, dict[str, float]]]:
    with ExitStack() as scratch:  # a PostgreSQL schema dropped at the end, however the run ends
        folder = Path(tempfile.mkdtemp(prefix=f"bench-console-{kind}-"))
        url = _database(kind, folder, scratch)
        settings = _settings(url, folder)
        started = time.perf_counter()
        slug = fill(settings, rows, stations)
        filled = time.perf_counter() - started
        process = serve(settings, folder, port)
        results = [("(filling the outbox)", {"seconds": filled})]
        try:
            site = f"http://127.0.0.1:{port}"
            cookie = sign_in(site)
            fields = draft(site, cookie, settings.today())
            for name, path in pages(slug).items():
                if only and not any(word in name for word in only):
                    continue
                ab(site + path, cookie, max(5, n // 10), 1)  # warm: templates compiled, pages in the caches
                results.append((name, ab(site + path, cookie, n, concurrency)))
            token = form_token(site, cookie, f"/campaigns/{slug}/results")
            for kind in REPORT_FILES:
                name = f"report (.{kind})"
                if only and not any(word in name for word in only):
                    continue
                body = folder / f"{kind}.form"
                body.write_text(urlencode({"csrf_token": token, "format": kind, "text": "Báo cáo."}), encoding="utf-8")
                path = site + f"/campaigns/{slug}/results/report"
                ab(path, cookie, max(3, n // 20), 1, body)
                results.append((name, ab(path, cookie, max(5, n // 4), concurrency, body)))
                if kind in ("pdf", "docx"):
                    # Each with a text of its own: laid out afresh, as a clerk's first export is.
                    form = [("csrf_token", token), ("format", kind), ("text", "Báo cáo.")]
                    fresh = posts(path, cookie, form, max(5, n // 4), concurrency, fresh="text")
                    results.append((f"report (.{kind}, a new text each time)", fresh))
            for name, path in composer_posts().items():
                if only and not any(word in name for word in only):
                    continue
                posts(site + path, cookie, fields, max(5, n // 10), 1)
                results.append((name, posts(site + path, cookie, fields, n, concurrency)))
        finally:
            process.terminate()
            process.wait(timeout=30)
            shutil.rmtree(folder, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="delivery rows in the outbox")
    parser.add_argument("--n", type=int, default=200, help="requests per page")
    parser.add_argument("-c", "--concurrency", type=int, default=4, help="requests in flight at once")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], action="append", help="one database only")
    parser.add_argument("--stations", type=int, default=STATIONS, help="radio stations airing for 60 days")
    parser.add_argument("--port", type=int, default=18731)
    parser.add_argument("--page", action="append", help="only the pages whose name contains this word")
    args = parser.parse_args(argv)
    if shutil.which("ab") is None:
        raise SystemExit("ab is not installed: it is in the Debian package apache2-utils (make debian-packages)")
    table = Table(
        title=f"console pages with {args.rows:,} delivery rows: ab -n {args.n} -c {args.concurrency} "
        f"against broadcaster serve (target p95 ≤ {TARGET_MS} ms, a save ≤ {SAVE_TARGET_MS} ms; results and "
        f"report files ≤ {RESULTS_TARGET_MS} ms)"
    )
    for column in ("database", "page", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "within target"):
        table.add_column(column, justify="left" if column in ("database", "page") else "right")
    for kind in args.only or ["sqlite", "postgresql"]:
        for name, result in measure(kind, args.rows, args.n, args.concurrency, args.port, args.page, args.stations):
            if "seconds" in result:
                table.add_row(kind, name, f"{result['seconds']:.0f} s", "", "", "", "", "")
                continue
            within = "yes" if result["p95"] <= target_ms(name) and not result["errors"] else "NO"
            table.add_row(
                kind,
                name,
                f"{result['rate']:.1f}",
                f"{result['p50']:.0f}",
                f"{result['p95']:.0f}",
                f"{result['p99']:.0f}",
                f"{result['errors']:.0f}",
                within,
            )
    Console().print(table)


if __name__ == "__main__":
    main()
