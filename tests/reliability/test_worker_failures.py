"""A worker never dies silently. An SMTP server that is down is retried by the policy; one that refuses
the login pauses the channel with the reason; a full disk stops the worker with a sentence, its claims
released and a non-zero exit."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import processes
from broadcaster.accounts import TERMINAL
from broadcaster.clock import system_now
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import import_examples
from broadcaster.models import AuditEntry, Campaign, Delivery, DeliveryState, Occurrence, OccurrenceState
from broadcaster.operations.monitoring import campaign_monitor
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from tests.helpers import free_port, wait_for
from tests.moment import broadcaster_command, subprocess_environment
from tests.scenario import campaign, local

AGENCIES = ["group:so-ban-nganh"]


def letters_due_now(sessions: sessionmaker[Session], settings: Settings) -> int:
    """An approved e-mail campaign whose occurrence the timetable has just created."""
    now = system_now()
    campaign_id = campaign(
        sessions,
        settings,
        {"email": {"to": AGENCIES, "schedule": [{"at": local(now, settings)}]}},
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(sessions) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    return campaign_id


def deliveries(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


class Workers:
    """`processes.run_workers`, as `broadcaster worker` runs it, on a thread of the test."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, channels: list[str]) -> None:
        self.stop = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(sessions, settings, channels), daemon=True)

    def _run(self, sessions: sessionmaker[Session], settings: Settings, channels: list[str]) -> None:
        try:
            processes.run_workers(sessions, settings, channels, self.stop, threading.Event())
        except BaseException as exc:
            self.failure = exc

    def __enter__(self) -> Workers:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def smtp_settings(monkeypatch: pytest.MonkeyPatch, port: int, login: bool = False) -> None:
    monkeypatch.setenv("BROADCASTER_EMAIL_MODE", "smtp")
    monkeypatch.setenv("BROADCASTER_EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("BROADCASTER_EMAIL_PORT", str(port))
    monkeypatch.setenv("BROADCASTER_EMAIL_SECURITY", "plain")
    monkeypatch.setenv("BROADCASTER_EMAIL_SENDER", "vanthu@stttt.tayninh.example")
    monkeypatch.setenv("BROADCASTER_EMAIL_TIMEOUT", "3")
    if login:
        monkeypatch.setenv("BROADCASTER_EMAIL_USERNAME", "vanthu")
        monkeypatch.setenv("BROADCASTER_EMAIL_PASSWORD", "not-the-password")


def test_an_smtp_server_that_is_down_is_retried_by_the_policy_and_the_worker_goes_on(
    shipped: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    smtp_settings(monkeypatch, port)
    letters_due_now(shipped, settings)

    with Workers(shipped, settings, ["email"]) as workers:
        wait_for(lambda: tried_once(deliveries(shipped)))
        workers.thread.join(timeout=0.5)  # returns at once if the failure killed the worker
        assert workers.thread.is_alive() and workers.failure is None
    assert workers.failure is None

    rows = deliveries(shipped)
    assert rows and {row.state for row in rows} == {DeliveryState.PENDING}
    assert tried_once(rows) and all(row.due_at > system_now() for row in rows), "each waits for its retry time"
    assert {row.reason for row in rows} == {
        f"cannot connect to the SMTP server 127.0.0.1:{port}: [Errno 111] Connection refused"
    }


def tried_once(rows: list[Delivery]) -> bool:
    return bool(rows) and all(row.attempts == 1 and row.reason for row in rows)


class RefusingAuthenticator:
    def __init__(self) -> None:
        self.attempts = 0

    def __call__(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        self.attempts += 1
        return AuthResult(success=False, handled=False)


@pytest.fixture
def refusing_server() -> Iterator[tuple[int, RefusingAuthenticator]]:
    class Nothing:
        async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
            return "250 OK"

    authenticator = RefusingAuthenticator()
    port = free_port()
    controller = Controller(
        Nothing(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield port, authenticator
    controller.stop()


def test_an_smtp_server_that_refuses_the_login_pauses_the_channel_with_the_reason(
    shipped: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    refusing_server: tuple[int, RefusingAuthenticator],
) -> None:
    port, authenticator = refusing_server
    smtp_settings(monkeypatch, port, login=True)
    campaign_id = letters_due_now(shipped, settings)
    reason = (
        f"the SMTP server 127.0.0.1:{port} refused the login of 'vanthu'; "
        "check BROADCASTER_EMAIL_USERNAME and BROADCASTER_EMAIL_PASSWORD"
    )

    def paused() -> bool:
        with shipped() as session:
            found = session.get(Campaign, campaign_id)
            return bool(found and found.channels[0].paused)

    with Workers(shipped, settings, ["email"]) as workers:
        wait_for(paused)
        workers.thread.join(timeout=0.5)  # returns at once if the pause killed the worker
        assert workers.thread.is_alive() and workers.failure is None
    assert workers.failure is None and authenticator.attempts >= 1

    with shipped() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        status = campaign_monitor(session, TERMINAL, settings, found.slug)
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "pause-channel")).one()
    assert status.channels[0].paused and status.channels[0].pause_reason == reason
    assert audit.details == {"channel": "email", "reason": reason}
    rows = deliveries(shipped)
    assert rows and {(row.state, row.attempts, row.lease_owner) for row in rows} == {
        (DeliveryState.PENDING, 0, None)
    }, "nothing was burnt: the letters wait for the channel to be resumed"


# ---- a full disk ----------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, small filesystem (tmpfs) that a test can fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.strip()}); the disk-full tests need root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last page; returns the filler (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def worker_process(settings: Settings, tmp_path: Path, output_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env |= {"BROADCASTER_DATABASE_URL": settings.database_url, "BROADCASTER_OUTPUT_DIR": str(output_dir)}
    return subprocess.run(
        broadcaster_command("worker", "--channel", "email"),
        env=subprocess_environment(env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_full_disk_under_the_file_channel_stops_the_worker_with_a_sentence_and_releases_its_claims(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, small_disk: Path
) -> None:
    letters_due_now(shipped, settings)
    fill(small_disk)

    run = worker_process(settings, tmp_path, small_disk / "out")

    assert run.returncode == 1
    assert "error: the email worker stopped: the disk is full: No space left on device writing" in run.stderr
    assert "Traceback" not in run.stderr
    rows = deliveries(shipped)
    assert rows and {(row.state, row.attempts, row.lease_owner) for row in rows} == {
        (DeliveryState.PENDING, 0, None)
    }, "every claim was given back, no attempt spent"


def test_a_full_disk_under_the_sqlite_database_stops_the_worker_with_a_sentence(
    tmp_path: Path, small_disk: Path
) -> None:
    disk_settings = Settings(database_url=f"sqlite:///{small_disk / 'broadcaster.db'}", output_dir=tmp_path / "out")
    engine = make_engine(disk_settings.database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
    letters_due_now(sessions, disk_settings)
    filler = fill(small_disk)

    run = worker_process(disk_settings, tmp_path, tmp_path / "out")

    assert run.returncode == 1
    assert "error: the email worker stopped: the database could not be written or read: database or disk is full" in (
        run.stderr
    )
    assert "Traceback" not in run.stderr
    filler.unlink()
    with sessions() as session:
        occurrence = session.scalars(select(Occurrence)).one()
        written = session.scalar(select(func.count()).select_from(Delivery))
    engine.dispose()
    # The first write, the fan-out, was refused whole: the occurrence waits, nothing half-written.
    assert (occurrence.state, written) == (OccurrenceState.PENDING, 0)
