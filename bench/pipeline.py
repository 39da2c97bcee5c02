"""Runs the real workers until a fan-out is finished, in a process of its own, and prints what it
cost: wall time, CPU time (this process and its worker processes) and peak RSS, as JSON."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time

from sqlalchemy import func, select

from broadcaster.db import make_engine, make_sessions
from broadcaster.delivery import Worker
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.settings import Settings


def unfinished(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with make_sessions(engine)() as session:
        pending = session.scalar(select(func.count()).where(Occurrence.state == OccurrenceState.PENDING)) or 0
        waiting = (
            session.scalar(
                select(func.count()).where(Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]))
            )
            or 0
        )
    engine.dispose()
    return pending + waiting


def work(settings_json: str, channels: list[str], name: str) -> None:
    settings = Settings.model_validate_json(settings_json)
    engine = make_engine(settings.database_url)
    worker = Worker(make_sessions(engine), settings, channels, name)
    idle = 0
    for adapter in worker.adapters.values():
        adapter.open()
    while idle < 3:
        if worker.step():
            idle = 0
        else:
            idle += 1
            time.sleep(0.05)
            if unfinished(settings):
                idle = 0
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settings", required=True)
    parser.add_argument("--channel", action="append", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.workers == 1:
        work(args.settings, args.channel, "bench-0")
    else:
        processes = [
            multiprocessing.Process(target=work, args=(args.settings, args.channel, f"bench-{index}"))
            for index in range(args.workers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "max_rss_kb": max(own.ru_maxrss, children.ru_maxrss)}))


if __name__ == "__main__":
    main()
