"""An import stopped by Ctrl-C, or by a disk that is full, ends with its one sentence, no traceback, a non-zero
exit, and nothing half-written: no subscriber of the file in the database, no partial CSV left behind."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CONFIG
from tests.helpers import wait_for
from tests.moment import broadcaster_command, subprocess_environment


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")} | {
        "BROADCASTER_DATABASE_URL": f"sqlite:///{tmp_path / 'broadcaster.db'}",
        "COLUMNS": "200",
    }
    env = subprocess_environment(env)
    for step in (("db", "upgrade"), ("directory", "import", "areas", str(CONFIG / "directory" / "areas.csv"))):
        subprocess.run(broadcaster_command(*step), env=env, cwd=tmp_path, check=True, capture_output=True)
    return env


def numbers(path: Path, count: int, prefix: str = "0912") -> Path:
    path.write_text("phone,area\n" + "".join(f"{prefix}{i:06d},go-dau\n" for i in range(count)), encoding="utf-8")
    return path


def subscribers(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("select count(*) from subscribers").fetchone()
    connection.close()
    return int(count)


def _ctrl_c_heard() -> None:
    """A terminal's Ctrl-C reaches the command: a process that inherits SIGINT ignored (as a shell's background
    job does, or a test worker some library set so) would never hear it, and the import would run to its end."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_an_import_is_one_sentence_and_imports_nothing(
    environment: dict[str, str], tmp_path: Path
) -> None:
    source = numbers(tmp_path / "big.csv", 400_000)
    command = broadcaster_command("directory", "import", "subscribers", str(source), "--list", "big")
    wal = tmp_path / "broadcaster.db-wal"
    start = wal.stat().st_size if wal.exists() else 0
    with subprocess.Popen(
        command,
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_heard,
    ) as process:
        # The import is under way once its transaction starts writing to the write-ahead log.
        wait_for(lambda: wal.exists() and wal.stat().st_size > start + 1_000_000, 60, "the import to be writing")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=300)  # rolling back 400,000 rows is slow on a busy machine
    assert process.returncode == 1, stdout + stderr
    assert "interrupted; nothing was half-written" in stderr
    assert "Traceback" not in stdout + stderr and "Exception ignored" not in stderr
    assert subscribers(tmp_path / "broadcaster.db") == 0


def _small_files() -> None:
    """A process whose files may not grow past 1 MB: writing past it fails as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))


def test_a_disk_that_fills_while_writing_the_rejects_is_one_sentence_and_leaves_no_part(
    environment: dict[str, str], tmp_path: Path
) -> None:
    source = numbers(tmp_path / "wrong.csv", 100_000, prefix="12")  # every row rejected: 2 MB of rejects
    rejects = tmp_path / "r.csv"
    command = broadcaster_command(
        "directory", "import", "subscribers", str(source), "--list", "x", "--rejects", rejects
    )
    run = subprocess.run(
        command, env=environment, cwd=tmp_path, capture_output=True, text=True, preexec_fn=_small_files, check=False
    )
    assert run.returncode == 1
    assert "r.csv: cannot be written (File too large)" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert not rejects.exists() and not rejects.with_name("r.csv.part").exists()


def test_a_disk_that_fills_while_importing_is_one_sentence_and_imports_nothing(
    environment: dict[str, str], tmp_path: Path
) -> None:
    source = numbers(tmp_path / "big.csv", 200_000)
    command = broadcaster_command("directory", "import", "subscribers", str(source), "--list", "big")
    run = subprocess.run(
        command, env=environment, cwd=tmp_path, capture_output=True, text=True, preexec_fn=_small_files, check=False
    )
    assert run.returncode == 1
    assert "error: the database could not be used" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert subscribers(tmp_path / "broadcaster.db") == 0
