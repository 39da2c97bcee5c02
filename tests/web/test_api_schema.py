"""Schemathesis against the app's own OpenAPI document: whatever a client sends, no answer is a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.clock import system_now
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import import_examples
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import CONTENT


@pytest.fixture
def populated(tmp_path: Path) -> Iterator[tuple[sessionmaker[Session], Settings]]:
    url = f"sqlite:///{tmp_path / 'broadcaster.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
    yield sessions, Settings(database_url=url, content_dir=CONTENT, output_dir=tmp_path / "out", data_dir=tmp_path)
    engine.dispose()


@pytest.fixture
def admin_token(populated: tuple[sessionmaker[Session], Settings]) -> str:
    with transaction(populated[0]) as session:
        account = accounts.create_account(session, "an", "admin", password=None)
        return accounts.create_token(session, account, "schemathesis", system_now()).token


def test_no_request_gets_a_server_error(populated: tuple[sessionmaker[Session], Settings], admin_token: str) -> None:
    sessions, app_settings = populated
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(app_settings, sessions))
    headers = {"Authorization": f"Bearer {admin_token}"}
    failures: list[str] = []
    called: set[str] = set()

    @given(case=schema.as_strategy())
    @settings(
        max_examples=250,  # over some 25 operations: keeps the run to a minute or so on a busy machine
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Case) -> None:
        response = case.call(headers=headers)
        called.add(f"{case.method} {case.path}")
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")
        elif response.status_code >= 400:
            media_type = response.headers.get("content-type", [""])[0]  # each header as a list of its values
            assert media_type.startswith("application/problem+json"), case.formatted_path

    call()
    assert not failures, "\n".join(failures)
    assert len(called) >= 15, f"only {sorted(called)} were tried"
