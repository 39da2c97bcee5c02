"""Engine, sessions and schema upgrades. SQLite is the embedded default; PostgreSQL for many workers."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.errors import ConfigurationError, UserError
from broadcaster.masking import mask_secrets
from broadcaster.storable import check_before_write

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL ends one of two transactions that wait on each other (deadlock detected) or that could not both
# have run one after the other (serialization failure); the one ended succeeds when it is simply run again.
RETRYABLE_STATES = frozenset({"40P01", "40001"})
log = logging.getLogger(__name__)
T = TypeVar("T")


def normalise_url(url: str) -> URL:
    """Parse a database URL; plain `postgresql://` means the psycopg 3 driver we install."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"setting BROADCASTER_DATABASE_URL is not a database URL: '{mask_secrets(url)}'"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"setting BROADCASTER_DATABASE_URL names a {parsed.get_backend_name()} database, which broadcaster "
            "does not work with: use SQLite (sqlite:///var/broadcaster.db) or PostgreSQL (postgresql://user@host/db)"
        )
    return parsed


def shown_url(url: str | URL) -> str:
    """The URL with any password masked (in its user part or its query), for messages and logs."""
    parsed = url if isinstance(url, URL) else normalise_url(url)
    return mask_secrets(parsed.render_as_string(hide_password=False))


def _begin_writing_before_savepoint(connection: Connection, _name: str) -> None:
    """A savepoint opened outside a transaction starts one, and SQLite starts it deferred: it reads first
    and asks for the write lock only at its first write. Once another connection has committed since that
    read, SQLite cannot hand the lock over and answers "database is locked" at once, without waiting (the
    busy timeout does not apply). Taking the write lock when the transaction begins makes the savepoint's
    writers queue on the busy timeout instead. Other transactions begin at their first write, which waits."""
    driver = connection.connection.dbapi_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the status command read while a worker writes; busy_timeout makes writers queue, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


SQLITE_HEADER = b"SQLite format 3\x00"


def _sqlite_file(path: Path, create: bool) -> None:
    """The database file is there and is a SQLite database, or is made readable by its owner only (0600: it
    holds phone numbers and password hashes; SQLite gives its journal files the same mode)."""
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        except OSError as exc:
            raise UserError(f"cannot create the database {path} (BROADCASTER_DATABASE_URL): {exc.strerror}") from None
    elif not path.is_file():
        raise UserError(
            f"there is no database at {path} (BROADCASTER_DATABASE_URL): run 'broadcaster db upgrade' to create it"
        )
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UserError(f"cannot read the database {path} (BROADCASTER_DATABASE_URL): {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise UserError(
            f"{path} is not a SQLite database (BROADCASTER_DATABASE_URL names it): "
            "name the database file, or move this file away"
        )


def make_engine(url: str, *, create: bool = True, **options: Any) -> Engine:
    """An engine for the URL. A SQLite file (and its folder) is created on first use only when `create`
    is true; otherwise a missing file is a sentence, so that reading never leaves an empty database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _sqlite_file(Path(parsed.database), create)
        engine = create_engine(parsed, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "savepoint", _begin_writing_before_savepoint)
    else:
        engine = create_engine(parsed, pool_pre_ping=True, **options)
    event.listen(engine, "before_execute", check_before_write)
    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed if the block succeeds, rolled back whole if it raises."""
    with sessions() as session, session.begin():
        yield session


def retryable(exc: BaseException) -> bool:
    """Whether the database ended the transaction only so that another could go on (run it again)."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_STATES


def retrying(work: Callable[[], T], *, attempts: int = 3) -> T:
    """`work` (one whole transaction: it opens and commits its own) run again when PostgreSQL ended it
    for a deadlock or a serialization failure; any other error, or the last attempt's, is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as exc:
            if attempt == attempts or not retryable(exc):
                raise
            log.warning("the database ended a transaction to let another go on; running it again (%d)", attempt)
    raise AssertionError("attempts must be at least 1")


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), "head")
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None


def _unreachable(engine: Engine, exc: OperationalError) -> UserError:
    return UserError(f"cannot reach the database at {shown_url(engine.url)}: {mask_secrets(str(exc.orig))}")


_REVISION = re.compile(r"^(down_)?revision\s*=\s*(?:\"([^\"]*)\"|None)", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration: the one no other migration names as its `down_revision`.

    Read from the migration files' own `revision =` lines, so that checking the schema does not load
    Alembic (a second of start-up for every command on a busy machine).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise ConfigurationError(f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}); expected one")
    return heads.pop()


def schema_is_current(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, "alembic_version"):
                return False
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    return current == [head_revision()]


def insert_ignoring_duplicates(
    session: Session, model: type[Any], rows: list[dict[str, Any]], *, count: bool = True
) -> int:
    """Insert rows; a row that would break a unique constraint is left out, not an error.

    Both databases do this in the statement, so two processes racing cannot both insert. Returns how
    many rows went in (counted through RETURNING: drivers' executemany row counts are unreliable),
    or 0 without counting when `count` is false.
    """
    if not rows:
        return 0
    table = model.__table__
    statement: Any
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql_insert(table).on_conflict_do_nothing()
    else:
        statement = sqlite_insert(table).on_conflict_do_nothing()
    if not count:
        session.connection().execute(statement, rows)
        return 0
    returning = statement.returning(*table.primary_key.columns)
    return len(session.connection().execute(returning, rows).all())
