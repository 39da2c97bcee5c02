"""`broadcaster db upgrade` on a database made by the release before issue 23 (tests/fixtures/before-issue-23.db:
the shipped directory, the Tây Ninh campaign approved by two people, a test list and a test send, written by
that release's own code at schema 0021) keeps everything and brings the schema to this version's.

On PostgreSQL the same database is rebuilt as that release left it: a fresh schema migrated to the fixture's
revision, then the fixture's rows copied in, table by table, parents first."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, Integer, MetaData, create_engine, func, inspect, select, text

from broadcaster.db import _alembic_config, head_revision, make_engine
from tests.conftest import Cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "before-issue-23.db"
TABLES = ("campaigns", "campaign_versions", "occurrences", "deliveries", "audit_log", "accounts", "subscribers")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        copy = tmp_path / "broadcaster.db"
        shutil.copyfile(FIXTURE, copy)
        copy.chmod(0o600)
        return f"sqlite:///{copy}"
    url = str(request.getfixturevalue("postgres_url"))
    fixture = create_engine(f"sqlite:///{FIXTURE}")
    target = make_engine(url)
    try:
        command.upgrade(_alembic_config(target), revision(fixture))
        copy_rows(fixture, target)
    finally:
        fixture.dispose()
        target.dispose()
    return url


def revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.scalar(text("SELECT version_num FROM alembic_version")))


def copy_rows(source: Engine, target: Engine) -> None:
    """Every row of `source` into the same tables of `target`, parents before children; then each table's id
    sequence (where the id is a number) set past the largest id copied, so that new rows get new ids."""
    read, written = MetaData(), MetaData()
    read.reflect(source)
    written.reflect(target)
    with source.connect() as origin, target.begin() as copy:
        for table in written.sorted_tables:
            if table.name == "alembic_version":
                continue
            found = [dict(row._mapping) for row in origin.execute(select(read.tables[table.name]))]
            if found:
                copy.execute(table.insert(), found)
            if "id" in table.columns and isinstance(table.c.id.type, Integer):
                copy.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce(max(id), 0) + 1, false)"
                        f" FROM {table.name}"
                    )
                )


def counted(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = MetaData()
            tables.reflect(connection, only=TABLES)
            return {
                name: connection.scalar(select(func.count()).select_from(tables.tables[name])) or 0 for name in TABLES
            }
    finally:
        engine.dispose()


def test_an_older_database_is_upgraded_and_keeps_everything(cli: Cli, database_url: str) -> None:
    before = counted(database_url)
    assert before["deliveries"] == 2 and before["campaigns"] == 1 and before["audit_log"] > 0
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert counted(database_url) == before
    engine = create_engine(database_url)
    try:
        assert revision(engine) == head_revision()
        with engine.connect() as connection:
            columns = [column["name"] for column in inspect(connection).get_columns("subscribers")]
    finally:
        engine.dispose()
    assert "name" in columns
    # The SMS sent before the lists were recorded name the lists their number is on, and are counted there.
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            details = [row[0] for row in connection.execute(text("SELECT details FROM deliveries ORDER BY id"))]
            kept = connection.execute(text("SELECT occurrence_id, list_id, state, number FROM delivery_list_counts"))
            kept_rows = sorted(tuple(row) for row in kept)
    finally:
        engine.dispose()
    assert [json.loads(item) if isinstance(item, str) else item for item in details] == [{"lists": [3]}] * 2
    assert kept_rows == [(1, 3, "sent", 2)]
    listed = cli("campaign", "list")
    assert listed.exit_code == 0 and "approved" in listed.stdout
    assert cli("user", "list").exit_code == 0
    assert cli("directory", "list", "subscribers", "--list", "thu-nghiem").exit_code == 0
