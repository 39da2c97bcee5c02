"""Processes: `run` (scheduler and workers in one process, the embedded default), `scheduler` (one active
at a time on PostgreSQL, standbys wait on an advisory lock) and `worker` (any number, anywhere).

SIGTERM and SIGINT stop claiming, let in-flight sends finish and record their results, release
unfinished leases, and exit normally.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.errors import ConfigurationError
from broadcaster.settings import Settings
from broadcaster.timetable import Timetable
from broadcaster.workers import Worker, WorkerStopped, why_stopped
from channels.base import configured_adapter, registered_channels

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x62726F61  # any fixed number; all schedulers of one database agree on it
# Advisory locks belong to the whole database: the schema in use is the lock's second half, so that
# deployments (or test runs) in two schemas of one database each have their own active scheduler.
LOCK = "pg_try_advisory_lock(CAST(:key AS integer), hashtext(current_schema()))"
UNLOCK = "pg_advisory_unlock(CAST(:key AS integer), hashtext(current_schema()))"


def worker_name(role: str) -> str:
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100000}"


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing in-flight sends, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def check_channels(settings: Settings, channels: Sequence[str]) -> None:
    """Build every adapter once before starting, so a wrong setting is one sentence now, not at 6 a.m."""
    problems = []
    for name in channels:
        try:
            configured_adapter(name, settings.output_dir, settings.clock).close()
        except ConfigurationError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise ConfigurationError("; ".join(problems))


def chosen_channels(names: Sequence[str] | None) -> list[str]:
    known = sorted(registered_channels())
    for name in names or []:
        if name not in known:
            raise ConfigurationError(f"unknown channel '{name}' (known channels: {', '.join(known)})")
    return list(names) if names else known


def run_workers(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: Sequence[str],
    stop: threading.Event,
    wake: threading.Event,
) -> None:
    """One worker thread per channel, so a slow channel never holds up another.

    A worker that cannot go on (disk full, database gone, an unexpected error) stops them all, and
    this raises `WorkerStopped` saying why: the process then exits non-zero, for a supervisor to see
    and restart, instead of running on without that channel.
    """
    workers = [
        Worker(sessions, settings, [channel], worker_name(f"worker-{channel}"), stop, wake) for channel in channels
    ]
    failures: list[str] = []

    def work(worker: Worker, channel: str) -> None:
        try:
            worker.run()
        except BaseException as exc:
            if not isinstance(exc, WorkerStopped | OSError | DBAPIError):
                log.exception("the %s worker failed", channel)
            failures.append(f"the {channel} worker stopped: {why_stopped(exc)}")
            stop.set()
            wake.set()

    threads = [
        threading.Thread(target=work, args=(w, c), name=f"worker-{c}", daemon=True)
        for w, c in zip(workers, channels, strict=True)
    ]
    for thread in threads:
        thread.start()
    log.info("working on %s", ", ".join(channels))  # from here a stop signal finishes in-flight sends first
    while any(thread.is_alive() for thread in threads):
        for thread in threads:
            thread.join(timeout=0.5)
    if failures:
        raise WorkerStopped(
            "; ".join(failures) + " — every worker of this process stopped; sends in flight were recorded and "
            "claims released where the database allowed (others are sent again when their lease ends)"
        )


def run_all(
    sessions: sessionmaker[Session], settings: Settings, channels: Sequence[str], stop: threading.Event
) -> None:
    """The embedded default: the timetable and the workers in one process."""
    wake = threading.Event()
    timetable = Timetable(sessions, settings, on_occurrence=wake.set)
    timetable.start()
    try:
        run_workers(sessions, settings, channels, stop, wake)
    finally:
        timetable.stop()


def run_scheduler(engine: Engine, sessions: sessionmaker[Session], settings: Settings, stop: threading.Event) -> None:
    """The timetable, one active at a time: on PostgreSQL a standby waits for the leader's advisory lock."""
    if engine.dialect.name != "postgresql":
        _run_timetable(sessions, settings, stop)
        return
    while not stop.is_set():
        with engine.connect() as connection:
            if not connection.execute(text(f"SELECT {LOCK}"), {"key": ADVISORY_LOCK_KEY}).scalar():
                log.info("another scheduler is active; standing by")
                connection.rollback()
                stop.wait(5)
                continue
            log.info("this scheduler is now the active one")
            try:
                _run_timetable(sessions, settings, stop, connection)
            finally:
                connection.execute(text(f"SELECT {UNLOCK}"), {"key": ADVISORY_LOCK_KEY})


def _run_timetable(
    sessions: sessionmaker[Session], settings: Settings, stop: threading.Event, leader: Connection | None = None
) -> None:
    timetable = Timetable(sessions, settings)
    timetable.start()
    try:
        while not stop.wait(5):
            if leader is not None:
                leader.execute(text("SELECT 1"))  # the lock lives as long as this connection
    finally:
        timetable.stop()
