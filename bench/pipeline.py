"""Runs the real workers until a fan-out is finished, in a process of its own, and prints what it
cost: wall time, CPU time (this process and its worker processes) and the peak RSS of the biggest of
them, as JSON."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from broadcaster.db import make_engine, make_sessions
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.settings import Settings
from broadcaster.workers import Worker


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


def peak_rss_kb() -> int:
    """This process's own peak resident set (VmHWM). getrusage's maxrss would also count the process
    that started this one: Linux carries it across exec, and the benchmark's own process is big."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def work(settings_json: str, channels: list[str], name: str, peaks: Any = None) -> int:
    """Run one worker until the fan-out is done; returns its peak RSS in kB (also put on `peaks`)."""
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
    peak = peak_rss_kb()
    if peaks is not None:
        peaks.put(peak)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settings", required=True)
    parser.add_argument("--channel", action="append", required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.workers == 1:
        peak = work(args.settings, args.channel, "bench-0")
    else:
        peaks: Any = multiprocessing.Queue()
        processes = [
            multiprocessing.Process(target=work, args=(args.settings, args.channel, f"bench-{index}", peaks))
            for index in range(args.workers)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        peak = max(peaks.get() for _ in processes)
    wall = time.perf_counter() - started
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({"wall": wall, "cpu": cpu, "max_rss_kb": max(peak, peak_rss_kb())}))


if __name__ == "__main__":
    main()
