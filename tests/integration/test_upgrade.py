"""`broadcaster db upgrade` on a database made by the release before issue 23 (tests/fixtures/before-issue-23.db:
the shipped directory, the Tây Ninh campaign approved by two people, a test list and a test send, written by
that release's own code at schema 0021) keeps everything and brings the schema to this version's."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from broadcaster.db import head_revision
from tests.conftest import Cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "before-issue-23.db"
TABLES = ("campaigns", "campaign_versions", "occurrences", "deliveries", "audit_log", "accounts", "subscribers")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    copy = tmp_path / "broadcaster.db"
    shutil.copyfile(FIXTURE, copy)
    copy.chmod(0o600)
    return f"sqlite:///{copy}"


def counted(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        found = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
    connection.close()
    return found


def test_an_older_database_is_upgraded_and_keeps_everything(cli: Cli, database_url: str) -> None:
    path = Path(database_url.removeprefix("sqlite:///"))
    before = counted(path)
    assert before["deliveries"] == 2 and before["campaigns"] == 1 and before["audit_log"] > 0
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert counted(path) == before
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
        columns = [row[1] for row in connection.execute("PRAGMA table_info(subscribers)")]
    connection.close()
    assert "name" in columns
    listed = cli("campaign", "list")
    assert listed.exit_code == 0 and "approved" in listed.stdout
    assert cli("user", "list").exit_code == 0
    assert cli("directory", "list", "subscribers", "--list", "thu-nghiem").exit_code == 0
