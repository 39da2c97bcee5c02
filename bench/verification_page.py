"""python -m bench.verification_page: how fast the public verification page answers, and how it loads on
a cheap phone on a slow mobile link (Chromium through Playwright, network and CPU throttled).

Prints one table. The server runs in this process (uvicorn on a loopback port) over a SQLite file with
the shipped directory and the Tây Ninh letter approved and in force.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import requests
import uvicorn
from rich.console import Console
from rich.table import Table

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.cli.demo import compressed
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import example_campaigns, import_examples
from broadcaster.settings import Settings, shipped_dir
from broadcaster.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
# A cheap phone on a poor 3G link: 400 kbit/s down, 150 kbit/s up, 400 ms round trip, CPU 6x slower.
SLOW_LINK = {"offline": False, "latency": 400, "downloadThroughput": 400_000 // 8, "uploadThroughput": 150_000 // 8}
CPU_SLOWDOWN = 6


def serve(folder: Path) -> tuple[str, uvicorn.Server]:
    url = f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(
        database_url=url,
        output_dir=folder / "out",
        content_dir=shipped_dir("content"),
        data_dir=folder / "data",
        public_requests_per_minute=1_000_000,  # the benchmark is one very busy client
    )
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessions(engine)
    now = datetime.now(settings.zone)
    with transaction(sessions) as session:
        import_examples(session)
        spec = compressed(load_campaign_file(example_campaigns()[0]), now, 60, now)
        campaign, _ = save_campaign(session, spec, "lan", settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, sessions), host="127.0.0.1", port=0, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}", server


QUERIES = {
    "page": "/tra-cuu",
    "number (official)": "/tra-cuu?so=%2B84+276+3631+168",
    "number (unknown)": "/tra-cuu?so=0912345678",
    "letter (genuine)": "/tra-cuu?van-ban=881%2FSTTTT-TTr&ngay=14%2F05%2F2024",
    "letter (invented)": "/tra-cuu?van-ban=882%2FSTTTT-TTr&ngay=14%2F05%2F2024",
    "warning page": "/tra-cuu/canh-bao/canh-bao-goi-gia-danh-lan-2",
    "letter text": "/tra-cuu/cong-van/canh-bao-goi-gia-danh-lan-2",
    "CAP alert": "/cap/127.0.0.1.canh-bao-goi-gia-danh-lan-2.1.xml",
    "Atom feed": "/cap/alerts.atom",
}


def server_times(site: str, n: int) -> list[tuple[str, float, float, int]]:
    rows = []
    with requests.Session() as http:
        for name, path in QUERIES.items():
            http.get(site + path).raise_for_status()  # warm: templates compiled, caches filled
            times = []
            size = 0
            for _ in range(n):
                started = time.perf_counter()
                answer = http.get(site + path)
                times.append((time.perf_counter() - started) * 1000)
                size = len(answer.content)
            times.sort()
            rows.append((name, statistics.median(times), times[int(len(times) * 0.95) - 1], size))
    return rows


def slow_phone(site: str) -> list[tuple[str, float, int]]:
    """(what, milliseconds until the page is loaded, bytes transferred) on the throttled phone."""
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for what, path in (("first visit", "/tra-cuu"), ("number answer", QUERIES["number (unknown)"])):
            context = browser.new_context(viewport={"width": 360, "height": 740})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW_LINK)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            received: list[int] = []
            cdp.on("Network.loadingFinished", lambda event, into=received: into.append(int(event["encodedDataLength"])))
            started = time.perf_counter()
            page.goto(site + path, wait_until="load")
            rows.append((what, (time.perf_counter() - started) * 1000, sum(received)))
            context.close()
        browser.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="requests per query")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        site, server = serve(Path(folder))
        table = Table(title=f"verification page: server answers over loopback ({args.n} requests each)")
        for column in ("query", "median ms", "p95 ms", "bytes"):
            table.add_column(column, justify="right" if column != "query" else "left")
        for name, median, p95, size in server_times(site, args.n):
            table.add_row(name, f"{median:.1f}", f"{p95:.1f}", str(size))
        console = Console()
        console.print(table)
        table = Table(title=f"on a slow phone: 3G 400 kbit/s, 400 ms RTT, CPU {CPU_SLOWDOWN}x slower")
        for column in ("load", "ms until loaded", "bytes transferred"):
            table.add_column(column, justify="right" if column != "load" else "left")
        for what, ms, size in slow_phone(site):
            table.add_row(what, f"{ms:.0f}", str(size))
        console.print(table)
        server.should_exit = True


if __name__ == "__main__":
    main()
