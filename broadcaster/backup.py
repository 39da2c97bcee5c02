"""`broadcaster backup` and `broadcaster restore` for the SQLite database (PostgreSQL has pg_dump).

A backup is SQLite's online backup: a consistent copy taken page by page while the workers and the console go
on writing (what the write-ahead log holds is included, which a file copy would miss). A restore copies a
backup over the database the settings name, in one step: stop every broadcaster process first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from broadcaster.db import SQLITE_HEADER, normalise_url, shown_url
from broadcaster.errors import UserError

PG_DUMP = "pg_dump --format=custom --file=broadcaster.dump 'postgresql://USER@HOST/DATABASE'"
PG_RESTORE = "pg_restore --clean --if-exists --dbname='postgresql://USER@HOST/DATABASE' broadcaster.dump"


def _sqlite_path(database_url: str, what: str) -> Path:
    parsed = normalise_url(database_url)
    if parsed.get_backend_name() != "sqlite":
        tool = PG_DUMP if what == "backup" else PG_RESTORE
        raise UserError(
            f"the database at {shown_url(parsed)} is PostgreSQL: {what} it with PostgreSQL's own tools, "
            f"for example: {tool}"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise UserError("BROADCASTER_DATABASE_URL names no database file to back up or restore")
    return Path(make_url(str(parsed)).database or "")


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.execute("PRAGMA busy_timeout=30000")
        origin.backup(copy)
    origin.close()
    copy.close()


def backup(database_url: str, target: Path) -> Path:
    """Copy the database to `target` (a new file), consistent while others write. Returns the file."""
    source = _sqlite_path(database_url, "backup")
    if not source.is_file():
        raise UserError(f"there is no database at {source} to back up (BROADCASTER_DATABASE_URL)")
    if target.exists():
        raise UserError(f"{target} already exists: name a new file for the backup")
    if not target.parent.is_dir():
        raise UserError(f"the folder {target.parent} does not exist: create it, or name another file")
    target.touch(mode=0o600)  # it holds phone numbers and password hashes, as the database does
    try:
        _copy(source, target)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise UserError(f"the backup could not be made: {exc}") from None
    return target


def restore(database_url: str, source: Path) -> Path:
    """Replace the database with the backup `source`. Returns the database file."""
    target = _sqlite_path(database_url, "restore")
    if not source.is_file():
        raise UserError(f"there is no backup at {source}")
    if not _is_sqlite(source):
        raise UserError(f"{source} is not a SQLite database: name a file made by 'broadcaster backup'")
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
        made_here = check.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('alembic_version', 'campaigns')"
        ).fetchone()[0]
    check.close()
    if made_here != 2:
        raise UserError(f"{source} is not a broadcaster database: name a file made by 'broadcaster backup'")
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.touch(mode=0o600)
    try:
        _copy(source, target)
    except sqlite3.Error as exc:
        raise UserError(f"the backup could not be restored (is a broadcaster process still running?): {exc}") from None
    return target
