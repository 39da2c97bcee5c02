"""`broadcaster backup` then `broadcaster restore`: every campaign, version, delivery and audit entry comes back,
and what was written after the backup is gone; PostgreSQL is sent to pg_dump in one sentence, and the README's
pg_dump and pg_restore lines, run as written, bring the same rows back."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.backup import PG_DUMP, PG_RESTORE
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.models import Account, AuditEntry, Campaign, CampaignVersion, Delivery
from broadcaster.operations import sending
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.conftest import CONTENT, IN_CI, Cli
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, marked_test_list

COUNTED = (Campaign, CampaignVersion, Delivery, AuditEntry, Account)
README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = "postgresql://USER@HOST/DATABASE"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0 for model in COUNTED}


def rows(sessions: sessionmaker[Session]) -> dict[str, list[Any]]:
    """Every row of the counted tables, in the order of their ids."""
    with sessions() as session:
        return {
            model.__name__: [tuple(row) for row in session.execute(select(model.__table__).order_by(model.id))]
            for model in COUNTED
        }


def filled(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> dict[str, int]:
    """An approved campaign, a test list and a test send through the program; what it counts then."""
    slug = approved_campaign(sessions, settings, current(tmp_path, settings.today()))
    marked_test_list(sessions, tmp_path, ["0912345678", "0987654321"])
    with transaction(sessions) as session:
        sending.send_draft_test(session, accounts.acting_account(session, "lan"), slug, "sms", settings)
    Worker(sessions, settings, ["sms"], "w").drain()
    made = counts(sessions)
    assert made["Delivery"] == 2 and made["CampaignVersion"] >= 1 and made["AuditEntry"] > 0
    return made


def test_a_backup_restored_brings_back_everything_it_held(
    cli: Cli, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    before = filled(sessions, settings, tmp_path)

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


@pytest.fixture
def postgres_tools() -> None:
    """pg_dump and pg_restore on this machine: skipped with the reason without them, except under CI=true."""
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (Debian package postgresql-client)"
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the PostgreSQL backup test must run")
    pytest.skip(f"{reason}; the PostgreSQL backup test is skipped")


def as_written(line: str, database_url: str) -> list[str]:
    """A command line of the README, with the database it names replaced by `database_url`."""
    plain = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    assert PLACEHOLDER in line
    return shlex.split(line.replace(PLACEHOLDER, plain))


@pytest.mark.postgresql
def test_the_readmes_pg_dump_and_pg_restore_bring_back_every_row(
    postgres_databases: Callable[[], str], postgres_tools: None, tmp_path: Path
) -> None:
    readme = README.read_text(encoding="utf-8")
    assert f"`{PG_DUMP}`" in readme and f"`{PG_RESTORE}`" in readme
    original, second = postgres_databases(), postgres_databases()
    engine = make_engine(original)
    upgrade(engine)
    sessions = make_sessions(engine)
    settings = Settings(database_url=original, output_dir=tmp_path / "out", content_dir=CONTENT)
    filled(sessions, settings, tmp_path)
    before = rows(sessions)

    dumped = subprocess.run(as_written(PG_DUMP, original), cwd=tmp_path, capture_output=True, text=True)
    assert dumped.returncode == 0, dumped.stderr
    with transaction(sessions) as session:
        accounts.create_account(session, "sau-sao-luu", "drafter", password=None)
    engine.dispose()

    for target in (second, original):  # into a new database, then in place of the one that went on
        restored = subprocess.run(as_written(PG_RESTORE, target), cwd=tmp_path, capture_output=True, text=True)
        assert restored.returncode == 0, restored.stderr
        back = make_engine(target)
        try:
            assert counts(make_sessions(back)) == {name: len(found) for name, found in before.items()}
            assert rows(make_sessions(back)) == before
            upgrade(back)  # the restored database is current: nothing to do, nothing refused
        finally:
            back.dispose()
