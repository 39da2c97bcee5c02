"""`broadcaster backup` then `broadcaster restore`: every campaign, version, delivery and audit entry comes back,
and what was written after the backup is gone; PostgreSQL is sent to pg_dump in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.models import Account, AuditEntry, Campaign, CampaignVersion, Delivery
from broadcaster.operations import sending
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.conftest import Cli
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, marked_test_list

COUNTED = (Campaign, CampaignVersion, Delivery, AuditEntry, Account)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0 for model in COUNTED}


def test_a_backup_restored_brings_back_everything_it_held(
    cli: Cli, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, settings, current(tmp_path, settings.today()))
    marked_test_list(sessions, tmp_path, ["0912345678", "0987654321"])
    with transaction(sessions) as session:
        sending.send_draft_test(session, accounts.acting_account(session, "lan"), slug, "sms", settings)
    Worker(sessions, settings, ["sms"], "w").drain()
    before = counts(sessions)
    assert before["Delivery"] == 2 and before["CampaignVersion"] >= 1 and before["AuditEntry"] > 0

    made = cli("backup", tmp_path / "sao-luu.db")
    assert made.exit_code == 0, made.output
    assert (tmp_path / "sao-luu.db").stat().st_mode & 0o077 == 0
    with transaction(sessions) as session:
        accounts.create_account(session, "sau-sao-luu", "drafter", password=None)
    assert counts(sessions)["Account"] == before["Account"] + 1

    refused = cli("restore", tmp_path / "sao-luu.db")
    assert refused.exit_code == 1 and "--replace" in refused.stderr
    restored = cli("restore", tmp_path / "sao-luu.db", "--replace")
    assert restored.exit_code == 0, restored.output
    assert counts(sessions) == before
    assert cli("db", "upgrade").exit_code == 0


def test_wrong_files_are_one_sentence(cli: Cli, sessions: sessionmaker[Session], tmp_path: Path) -> None:
    existing = tmp_path / "da-co.db"
    existing.write_text("x")
    assert "already exists" in cli("backup", existing).stderr
    not_a_backup = cli("restore", existing, "--replace")
    assert not_a_backup.exit_code == 1 and "is not a SQLite database" in not_a_backup.stderr
    assert "Traceback" not in not_a_backup.output


@pytest.mark.postgresql
def test_postgresql_is_backed_up_with_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    cli = Cli({"BROADCASTER_DATABASE_URL": postgres_url, "COLUMNS": "200"}, tmp_path)
    answer = cli("backup", tmp_path / "x.dump")
    assert answer.exit_code == 1 and "pg_dump --format=custom" in answer.stderr
    assert not (tmp_path / "x.dump").exists()
