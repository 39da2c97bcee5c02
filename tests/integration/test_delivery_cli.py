"""What staff do while a campaign runs: status, deliveries export, retry, send-now; scheduler standby."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.models import Delivery, DeliveryState
from tests.conftest import CONTENT, Cli, import_shipped_with_cli
from tests.helpers import ZONE, wait_for
from tests.moment import broadcaster_command, subprocess_environment

TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"
SLUG = "canh-bao-goi-gia-danh-lan-2"


def current(tmp_path: Path, today: date) -> Path:
    """The Tây Ninh campaign moved to run from the day before `today`, so that it may send then."""
    text = TAY_NINH.read_text(encoding="utf-8")
    for old, new in (
        ("2024-05-14", today - timedelta(days=1)),
        ("2024-05-15", today),
        ("2024-05-28", today + timedelta(days=5)),
        ("2024-06-14", today + timedelta(days=10)),
    ):
        text = text.replace(old, new.isoformat())
    path = tmp_path / "current.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def approved(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", current(cli.cwd, datetime.now(ZONE).date()), "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", SLUG, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", SLUG, "--as", "minh").exit_code == 0


def test_send_now_status_deliveries_and_retry(cli: Cli, database_url: str, tmp_path: Path) -> None:
    from broadcaster.settings import Settings
    from broadcaster.workers import Worker

    approved(cli)
    refused = cli("send-now", SLUG, "--channel", "pager", "--as", "minh")
    assert refused.exit_code == 1 and "has no pager channel" in refused.stderr
    queued = cli("send-now", SLUG, "--channel", "email", "--as", "minh")
    assert queued.exit_code == 0, queued.output

    settings = Settings(database_url=database_url, output_dir=tmp_path / "out")
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    Worker(sessions, settings, ["email"], "w").drain()
    with transaction(sessions) as session:  # two letters bounced for good, say
        session.execute(
            update(Delivery)
            .where(Delivery.id <= 2)
            .values(state=DeliveryState.FAILED, reason="550 mailbox unavailable")
        )
    engine.dispose()

    status = cli("status", SLUG)
    assert status.exit_code == 0, status.output
    email_line = next(line for line in status.stdout.splitlines() if "│ email" in line)
    cells = [cell.strip() for cell in email_line.split("│")[1:-1]]
    assert cells[3:8] == ["1", "0", "26", "2", "0"]  # no reports, nothing unknown: no columns for them
    assert "550 mailbox unavailable ×2" in cells[9]

    with transaction(make_sessions(engine)) as session:  # a provider's answer is not ours: it may hold a formula
        session.execute(update(Delivery).where(Delivery.id == 2).values(reason="=cmd|' /C calc'!A0"))
    engine.dispose()
    (tmp_path / "a-file").write_text("")
    blocked = cli("deliveries", SLUG, "--csv", tmp_path / "a-file" / "failed.csv")
    assert blocked.exit_code == 1
    assert blocked.stderr.strip().endswith(f"cannot be written, {tmp_path / 'a-file'} is a file and not a folder")

    export = tmp_path / "failed.csv"
    assert cli("deliveries", SLUG, "--state", "failed", "--csv", export).exit_code == 0
    rows = list(csv.DictReader(export.open(encoding="utf-8-sig")))
    assert [row["state"] for row in rows] == ["failed", "failed"] and rows[0]["reason"] == "550 mailbox unavailable"
    assert rows[1]["reason"] == "'=cmd|' /C calc'!A0"  # written as text a spreadsheet does not run

    retried = cli("retry", SLUG, "--failed", "--as", "minh")
    assert retried.exit_code == 0 and "re-queued 2 failed deliveries" in retried.stdout
    audit = cli("audit", SLUG).stdout
    assert "send-now" in audit and "retry" in audit


def test_send_now_refuses_a_campaign_that_is_not_approved(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "lan").exit_code == 0
    run = cli("send-now", SLUG, "--channel", "sms", "--as", "minh")
    assert run.exit_code == 1
    assert "is draft; only an approved or active campaign can be sent now" in run.stderr


def test_run_refuses_to_start_with_a_wrong_channel_setting(cli: Cli) -> None:
    approved(cli)
    cli.env["BROADCASTER_SMS_DIALECT"] = "esms"
    run = cli("run")
    assert run.exit_code == 1
    assert run.stderr.strip() == "error: sms: BROADCASTER_SMS_API_KEY is not set (the esms dialect needs it)"


@pytest.mark.postgresql
def test_a_standby_scheduler_takes_over_when_the_active_one_dies(postgres_url: str, tmp_path: Path) -> None:
    upgrade(make_engine(postgres_url))
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    env["BROADCASTER_DATABASE_URL"] = postgres_url

    def scheduler(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            broadcaster_command("scheduler"),
            env=subprocess_environment(env),
            cwd=tmp_path,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        return process, log

    def says(log: Path, text: str, timeout: float = 20) -> bool:
        return wait_for(lambda: text in log.read_text(encoding="utf-8", errors="replace"), timeout, repr(text))

    first, first_log = scheduler("first")
    assert says(first_log, "this scheduler is now the active one")
    second, second_log = scheduler("second")
    try:
        assert says(second_log, "another scheduler is active; standing by")
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert says(second_log, "this scheduler is now the active one", timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
