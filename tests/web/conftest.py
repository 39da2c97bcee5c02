"""The web app on a real database, called through Starlette's test client (a real ASGI round trip)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import CHROMIUM, CONTENT


@pytest.fixture
def web_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        output_dir=tmp_path / "out",
        content_dir=CONTENT,
        data_dir=tmp_path / "data",
        max_request_bytes=200_000,
        max_upload_bytes=500_000,
        send_windows={},  # the pages' tests send SMS at whatever hour they run; windows are pinned elsewhere
    )


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
        return Person(account.login, accounts.create_token(session, account, "tests").token)


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a loopback port the system chooses, for the browser tests."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    served = uvicorn.Server(config)
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = served.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(timeout=10)


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
