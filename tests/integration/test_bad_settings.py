"""A wrong setting or a wrong file named by a setting is one sentence and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import Cli


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in list(os.environ):
        if name.startswith("BROADCASTER_"):
            monkeypatch.delenv(name)
    env = {"BROADCASTER_DATABASE_URL": f"sqlite:///{tmp_path / 'broadcaster.db'}", "COLUMNS": "200"}
    return Cli(env, tmp_path)


def refused(cli: Cli, *command: str) -> str:
    run = cli(*command)
    assert run.exit_code != 0, run.output
    assert "Traceback" not in run.output
    return run.stderr


def test_a_database_the_program_does_not_work_with_is_named(bare: Cli) -> None:
    bare.env["BROADCASTER_DATABASE_URL"] = "mysql://broadcaster:pw@127.0.0.1/broadcaster"
    said = refused(bare, "campaign", "list")
    assert "BROADCASTER_DATABASE_URL names a mysql database, which broadcaster does not work with" in said
    assert "pw@" not in said


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_is(bare: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    bare.env["BROADCASTER_DATABASE_URL"] = f"sqlite:///{notes}"
    for command in (("campaign", "list"), ("db", "upgrade")):
        assert f"{notes} is not a SQLite database" in refused(bare, *command)
    assert notes.read_text(encoding="utf-8") == "not a database\n"


def test_a_setting_that_is_not_json_names_itself(bare: Cli) -> None:
    bare.env["BROADCASTER_DAILY_CAPS"] = "{sms: 3"
    assert "setting BROADCASTER_DAILY_CAPS is not valid JSON" in refused(bare, "campaign", "list")


@pytest.mark.parametrize("port", ["0", "65536", "84686"])
def test_ports_are_1_to_65535_everywhere(bare: Cli, port: str) -> None:
    assert "--port" in refused(bare, "serve", "--port", port)
    assert "--port" in refused(bare, "run", "--web", "--port", port)
    bare.env["BROADCASTER_WEB_PORT"] = port
    assert "BROADCASTER_WEB_PORT" in refused(bare, "serve")
    bare.env.pop("BROADCASTER_WEB_PORT")
    bare.env["BROADCASTER_EMAIL_PORT"] = port
    assert "BROADCASTER_EMAIL_PORT" in refused(bare, "channels", "check")


def test_a_new_database_file_is_readable_by_its_owner_only(bare: Cli, tmp_path: Path) -> None:
    assert bare("db", "upgrade").exit_code == 0
    for path in tmp_path.glob("broadcaster.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
