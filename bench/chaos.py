"""python -m bench.chaos [--n N] [--kills K] [--postgres]: kill -9 worker processes at random moments
during a fan-out, restart each time, and check the gateway's ledger: nothing lost, and nothing
delivered twice where the gateway honours the idempotency key. Resends (a batch in flight at a kill,
sent again after its lease expired) are counted and bounded by kills × batch size."""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from sqlalchemy import func, select

from bench import world
from bench.__main__ import postgres_settings, sqlite_settings
from bench.gateway import GatewayProcess
from broadcaster.db import make_engine, make_sessions
from broadcaster.models import FINAL, Delivery, DeliveryState, Occurrence, OccurrenceState

BATCH = 100
console = Console(width=160)


def progress(url: str) -> tuple[int, int]:
    """Deliveries with an outcome recorded, and what is still to do: deliveries to send plus
    occurrences not yet fully expanded (a kill can cut an expansion)."""
    engine = make_engine(url)
    with make_sessions(engine)() as session:
        done = select(func.count()).where(Delivery.state.in_(FINAL))
        unsent = select(func.count()).where(Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]))
        unexpanded = select(func.count()).where(Occurrence.state == OccurrenceState.PENDING)
        counts = (session.scalar(done) or 0, (session.scalar(unsent) or 0) + (session.scalar(unexpanded) or 0))
    engine.dispose()
    return counts


def kill_mid_fan_out(command: list[str], env: dict[str, str], url: str, target: int, jitter: float) -> None:
    """Start a worker, let it record outcomes until `target` deliveries are done (at least one of its
    own), then kill -9 it `jitter` seconds later: mid-batch, mid-write, wherever it is then."""
    started_with, _ = progress(url)
    worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        done, left = progress(url)
        if (done >= target and done > started_with) or not left:
            break
        time.sleep(0.05)
    time.sleep(jitter)
    worker.send_signal(signal.SIGKILL)
    worker.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--seed", type=int, default=881)
    args = parser.parse_args()
    chance = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="broadcaster-chaos-") as folder, ExitStack() as scratch:
        from bench.__main__ import Bench

        gateway = GatewayProcess(Path(folder) / "ledger")
        bench = Bench(args.n, Path(folder), gateway, scratch=scratch)
        settings = postgres_settings(bench, "chaos") if args.postgres else sqlite_settings(bench, "chaos")
        sessions = world.fresh(settings)
        world.subscribers(sessions, "bulk", args.n)
        world.campaign(sessions, settings, "chaos", {"sms": {"to": ["list:bulk"], "max_parts": 1, "unaccented": True}})
        world.fire(sessions, settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
        env.update(
            {
                "BROADCASTER_DATABASE_URL": settings.database_url,
                "BROADCASTER_OUTPUT_DIR": str(settings.output_dir),
                "BROADCASTER_LEASE_SECONDS": "3",
                "BROADCASTER_POLL_SECONDS": "0.2",
                "BROADCASTER_RATES": '{"sms": 1e9}',
                "BROADCASTER_SMS_DIALECT": "generic-json",
                "BROADCASTER_SMS_URL": gateway.url("chaos", "batch"),
                "BROADCASTER_SMS_BATCH_SIZE": str(BATCH),
            }
        )
        command = [sys.executable, "-m", "broadcaster", "worker", "--channel", "sms"]
        started = time.monotonic()
        # Kill points spread over the fan-out: after a random share of it is done, plus a random delay.
        targets = sorted(int(chance.uniform(0.0, 0.9) * args.n) for _ in range(args.kills))
        for kill, target in enumerate(targets, start=1):
            kill_mid_fan_out(command, env, settings.database_url, target, chance.uniform(0.0, 0.5))
            done, left = progress(settings.database_url)
            console.print(f"kill -9 number {kill}: {done:,} done, {left:,} deliveries still to go")
        last = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while progress(settings.database_url)[1]:
            time.sleep(0.5)
        last.send_signal(signal.SIGTERM)
        last.wait(timeout=60)
        elapsed = time.monotonic() - started
        ids, _ = gateway.stop()
        received = ids.get("chaos", [])
        unique = set(received)
        lost = args.n - len(unique)
        resent = len(received) - len(unique)
        console.print(
            f"[bold]chaos: {args.n:,} recipients, {args.kills} kills, {elapsed:.0f} s on "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}[/]"
        )
        console.print(f"lost = {lost}")
        in_flight = max(BATCH, settings.record_every)
        console.print(
            f"duplicates with keys honoured = 0: every resend carried its delivery's key "
            f"({len(unique):,} distinct keys for {args.n:,} recipients)"
        )
        console.print(
            f"duplicates without keys honoured = resends after a kill = {resent} "
            f"(bound: {args.kills} kills × {in_flight} in flight = {args.kills * in_flight})"
        )
        if lost or resent > args.kills * in_flight:
            sys.exit(1)


if __name__ == "__main__":
    main()
