"""A command that reads the database never creates one: a SQLite path that does not exist is a
sentence, and no folder or empty file is left behind. `db upgrade` creates it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli

READERS = [
    ("status",),
    ("deliveries", "canh-bao"),
    ("campaign", "list"),
    ("directory", "list", "areas"),
    ("audit", "canh-bao"),
    ("worker", "--channel", "email"),
]


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Cli, Path]:
    for name in list(os.environ):
        if name.startswith("BROADCASTER_"):
            monkeypatch.delenv(name)
    path = tmp_path / "not" / "made" / "broadcaster.db"
    env = {"BROADCASTER_DATABASE_URL": f"sqlite:///{path}", "BROADCASTER_OUTPUT_DIR": str(tmp_path / "out")}
    return Cli(env, tmp_path), path


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_reading_a_database_that_does_not_exist_says_so_and_creates_nothing(
    nowhere: tuple[Cli, Path], command: tuple[str, ...]
) -> None:
    cli, path = nowhere
    run = cli(*command)
    assert run.exit_code == 1
    assert f"there is no database at {path} (BROADCASTER_DATABASE_URL): run 'broadcaster db upgrade'" in run.stderr
    assert "Traceback" not in run.output
    assert not path.parent.parent.exists()


def test_db_upgrade_creates_the_database_and_its_folder(nowhere: tuple[Cli, Path]) -> None:
    cli, path = nowhere
    assert cli("db", "upgrade").exit_code == 0
    assert path.is_file()
    run = cli("status")
    assert run.exit_code == 0, run.output
