"""The web app on a real database, called through Starlette's test client (a real ASGI round trip)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.clock import StartedClock, system_now
from broadcaster.db import transaction
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import CONTENT, serving
from tests.moment import WEDNESDAY, coming


@pytest.fixture
def web_settings(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The app's settings. Its clock starts on a Wednesday at 10:00 (the one coming): the pages, their
    calendars and the SMS send window show the same whatever day and hour the tests run. A test marked
    `own_content` (pages that write templates, tests that edit them) gets a copy of the content folder."""
    content = CONTENT
    if request.node.get_closest_marker("own_content"):
        content = Path(shutil.copytree(CONTENT, tmp_path / "content"))
    settings = Settings(
        database_url=database_url,
        output_dir=tmp_path / "out",
        content_dir=content,
        data_dir=tmp_path / "data",
        max_request_bytes=200_000,
        max_upload_bytes=500_000,
    )
    return settings.with_clock(StartedClock(coming(WEDNESDAY, time(10), settings.zone)))


@pytest.fixture
def app(web_settings: Settings, sessions: sessionmaker[Session]) -> FastAPI:
    return create_app(web_settings, sessions)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Person:
    login: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def person(sessions: sessionmaker[Session], login: str, role: str, *, stations: list[str] | None = None) -> Person:
    """An account with a fresh API token."""
    with transaction(sessions) as session:
        account = accounts.create_account(session, login, role, password=None, stations=stations)
        return Person(account.login, accounts.create_token(session, account, "tests", system_now()).token)


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a loopback port the system chooses, for the browser tests."""
    with serving(app) as address:
        yield address
