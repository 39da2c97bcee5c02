"""Shared fixtures: real databases (a SQLite file and the PostgreSQL server), shipped data, the CLI."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from broadcaster.cli import app
from broadcaster.cli import common as cli_common
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import import_examples
from broadcaster.settings import Settings, get_settings, shipped_dir
from tests.helpers import wait_for
from tests.moment import travel_if_asked

travel_if_asked()  # before anything reads the clock: the whole run at SUITE_MOMENT, when one is given

CONFIG = shipped_dir("config")
CONTENT = shipped_dir("content")
POSTGRES_URL = os.environ.get("BROADCASTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_unreachable() -> str | None:
    try:
        with create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(exc).__name__}: {str(exc).strip()[:200]})"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    reason = _postgres_unreachable()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the PostgreSQL tests must run")
    pytest.skip(f"{reason}; the PostgreSQL tests are skipped")


@pytest.fixture
def espeak_ng() -> None:
    """espeak-ng on this machine: skipped with the reason without it, except under CI=true."""
    if shutil.which("espeak-ng") is not None:
        return
    reason = "espeak-ng is not installed (Debian package espeak-ng; make test installs it as root)"
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the audio tests must run")
    pytest.skip(f"{reason}; the audio tests are skipped")


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium_available() -> None:
    """Debian's Chromium for the page tests: skipped with the reason without it, except under CI=true."""
    if CHROMIUM.exists():
        return
    reason = f"Chromium is not installed at {CHROMIUM} (Debian package chromium; make test installs it as root)"
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the page tests must run")
    pytest.skip(f"{reason}; the page tests are skipped")


@pytest.fixture
def browser(chromium_available: None) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, launched as every page test launches it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a loopback port the system chooses; its address."""
    # As `broadcaster serve` runs it: uvicorn believes no X-Forwarded-* header (the app decides, web.auth).
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", proxy_headers=False)
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    wait_for(lambda: served.started, what="the web server to start")
    port = served.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A fresh schema on the real server for one test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def postgres_databases(postgres_available: None) -> Iterator[Callable[[], str]]:
    """Makes whole fresh databases on the real server (for what works on a database, not a schema: pg_dump,
    pg_restore); each is dropped after the test."""
    made: list[str] = []
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")

    def fresh() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    try:
        yield fresh
    finally:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'broadcaster.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'broadcaster.db'}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, output_dir=tmp_path / "out", content_dir=CONTENT)


def sqlite_file(url: object) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    parsed = make_url(str(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


@dataclass
class Templates:
    """SQLite databases built once per test process and copied into each test that starts from them.

    Running the migrations and importing the shipped directory for every test cost most of the suite's
    time; a copy of the same file is the same starting point. PostgreSQL tests still build each schema.
    """

    folder: Path
    built: dict[str, Path] = field(default_factory=dict)
    shipped: set[Path] = field(default_factory=set)  # test databases that start with the shipped directory

    def restore(self, name: str, target: Path, build: Callable[[Path], None]) -> None:
        if name not in self.built:
            path = self.folder / f"{name}.db"
            build(path)
            self.built[name] = path
        # The backup API copies what is still in the write-ahead log too, which a file copy would miss.
        with sqlite3.connect(self.built[name]) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


def _migrated(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()


def _with_examples(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with transaction(make_sessions(engine)) as session:
        import_examples(session)
    engine.dispose()


@pytest.fixture
def sessions(
    settings: Settings, templates: Templates, request: pytest.FixtureRequest
) -> Iterator[sessionmaker[Session]]:
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Chosen before any other fixture writes (an installation id, an account): nothing is replaced later.
        if "shipped" in request.fixturenames:
            templates.restore("shipped", path, _with_examples)
            templates.shipped.add(path)
        else:
            templates.restore("schema", path, _migrated)
    engine = make_engine(settings.database_url)
    upgrade(engine)  # on a copy, finds the schema current and does nothing
    yield make_sessions(engine)
    engine.dispose()


@pytest.fixture
def shipped(sessions: sessionmaker[Session], templates: Templates) -> sessionmaker[Session]:
    if sqlite_file(sessions.kw["bind"].url) not in templates.shipped:
        with transaction(sessions) as session:
            import_examples(session)
    return sessions


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Cli:
    """The real `broadcaster` command, in-process, with its own environment."""

    def __init__(self, env: dict[str, str], cwd: Path, templates: Templates | None = None):
        self.env = env
        self.cwd = cwd
        self.templates = templates

    def __call__(self, *args: str | Path, input: str | None = None) -> Run:
        get_settings.cache_clear()
        cli_common.engine.cache_clear()
        runner = CliRunner()
        previous = Path.cwd()
        os.chdir(self.cwd)
        try:
            result = runner.invoke(app, [str(arg) for arg in args], input=input, env=self.env, catch_exceptions=False)
        finally:
            os.chdir(previous)
            get_settings.cache_clear()
            cli_common.engine.cache_clear()
        return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, templates: Templates) -> Cli:
    env = {
        "BROADCASTER_DATABASE_URL": database_url,
        "BROADCASTER_OUTPUT_DIR": str(tmp_path / "out"),
        "BROADCASTER_USER": "",
        "COLUMNS": "200",
    }
    for name in list(os.environ):
        if name.startswith("BROADCASTER_"):
            monkeypatch.delenv(name)
    return Cli(env, tmp_path, templates)


# The people the CLI tests act as: Lan drafts and submits, Minh approves and sends. Both may do everything,
# so that what stops Lan approving her own campaign is the two-person rule, not a missing permission.
PEOPLE = {"lan": "admin", "minh": "admin"}


def import_shipped_with_cli(cli: Cli) -> None:
    """The shipped directory and the accounts of PEOPLE, made by the commands themselves.

    On SQLite the commands run once per test process and each test starts from a copy of that database.
    """
    path = sqlite_file(cli.env["BROADCASTER_DATABASE_URL"])
    if path is None or cli.templates is None or path.exists():
        _run_shipped_imports(cli)
        return

    def build(template: Path) -> None:
        env = cli.env | {"BROADCASTER_DATABASE_URL": f"sqlite:///{template}"}
        _run_shipped_imports(Cli(env, template.parent))

    path.parent.mkdir(parents=True, exist_ok=True)
    cli.templates.restore("shipped-by-cli", path, build)


def _run_shipped_imports(cli: Cli) -> None:
    folder = CONFIG / "directory"
    steps = [
        ("db", "upgrade"),
        *(("user", "add", name, "--role", role, "--no-password") for name, role in PEOPLE.items()),
        ("directory", "import", "areas", folder / "areas.csv"),
        ("directory", "import", "issuers", *sorted((CONFIG / "issuers").glob("*.yaml"))),
        ("directory", "import", "agencies", *sorted(folder.glob("agencies-*.csv"))),
        ("directory", "import", "stations", folder / "stations.csv"),
        ("directory", "import", "pages", folder / "pages.csv"),
        ("directory", "import", "subscribers", folder / "subscribers-tay-ninh.csv", "--list", "thue-bao-tay-ninh"),
        ("directory", "import", "subscribers", folder / "subscribers-binh-phuoc.csv", "--list", "thue-bao-binh-phuoc"),
    ]
    for step in steps:
        run = cli(*step)
        assert run.exit_code == 0, run.output


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The HTML of every layout WeasyPrint is asked for, each cache of layouts (letters, report figures)
    empty to begin with."""
    from broadcaster import letters
    from broadcaster.operations import report_files

    with report_files._AHEAD:  # a layout an earlier test began is done before this one counts its own
        pass
    made: list[str] = []
    real = letters._lay_out

    def counted(html: str) -> bytes:
        made.append(html)
        return real(html)

    monkeypatch.setattr(letters, "_lay_out", counted)
    monkeypatch.setattr(letters, "_LETTERS", letters.Layouts(keep=16))
    monkeypatch.setattr(report_files, "_FIGURES", letters.Layouts(keep=8))
    yield made
