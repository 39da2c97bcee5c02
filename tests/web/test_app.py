"""The app's skeleton: who is calling, what they may do, and every refusal as a problem document."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.accounts import Actor
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.settings import Settings
from broadcaster.signing import signing_secret
from broadcaster.web.app import create_app
from broadcaster.web.auth import require
from tests.helpers import free_port, wait_for
from tests.moment import broadcaster_command, subprocess_environment
from tests.web.conftest import person

PROBLEM = "application/problem+json"


def answered(url: str) -> httpx.Response | None:
    """The server's answer, or None while nothing listens yet."""
    try:
        return httpx.get(url, timeout=2)
    except httpx.TransportError:
        return None


def _is_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and isinstance(body["detail"], str) and body["detail"]
    return dict(body)


def test_a_token_signs_the_caller_in_with_exactly_its_accounts_permissions(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    lan = person(sessions, "Lan", "drafter")
    answer = client.get("/api/v1/me", headers=lan.headers)
    assert answer.status_code == 200
    assert answer.json()["login"] == "lan"
    assert set(answer.json()["permissions"]) == set(accounts.ROLES["drafter"])


def test_no_token_a_wrong_scheme_and_an_unknown_token_get_401_with_a_sentence(client: TestClient) -> None:
    missing = _is_problem(client.get("/api/v1/me"), 401)
    assert "Authorization: Bearer" in str(missing["detail"])
    basic = _is_problem(client.get("/api/v1/me", headers={"Authorization": "Basic bGFuOnB3"}), 401)
    assert "Bearer" in str(basic["detail"])
    unknown = client.get("/api/v1/me", headers={"Authorization": "Bearer bct_nothing"})
    assert _is_problem(unknown, 401)["detail"] == "the API token is not known"
    assert unknown.headers["www-authenticate"] == "Bearer"


def test_revoked_and_expired_tokens_and_disabled_accounts_get_401(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    lan = person(sessions, "lan", "drafter")
    minh = person(sessions, "minh", "approver")
    hai = person(sessions, "hai", "operator")
    with transaction(sessions) as session:
        accounts.revoke_token(session, 1, system_now())
        session.execute(text("UPDATE api_tokens SET expires_at = created_at WHERE id = 2"))
        accounts.set_disabled(session, "hai", True)
    assert _is_problem(client.get("/api/v1/me", headers=lan.headers), 401)["detail"] == "the API token was revoked"
    assert _is_problem(client.get("/api/v1/me", headers=minh.headers), 401)["detail"] == "the API token has expired"
    assert "disabled" in str(_is_problem(client.get("/api/v1/me", headers=hai.headers), 401)["detail"])


def test_a_missing_permission_is_403_naming_it(app: FastAPI, sessions: sessionmaker[Session]) -> None:
    # A route guarded by the dependency every router uses.
    @app.get("/api/v1/test-approve")
    def guarded(actor: Annotated[Actor, Depends(require("campaigns:approve"))]) -> dict[str, str]:
        return {"who": actor.login}

    lan = person(sessions, "lan", "drafter")
    minh = person(sessions, "minh", "approver")
    with TestClient(app) as client:
        refused = _is_problem(client.get("/api/v1/test-approve", headers=lan.headers), 403)
        assert "campaigns:approve" in str(refused["detail"])
        assert client.get("/api/v1/test-approve", headers=minh.headers).json() == {"who": "minh"}


def test_unknown_paths_and_wrong_methods_are_problem_documents(client: TestClient) -> None:
    assert "/api/v1/nowhere" in str(_is_problem(client.get("/api/v1/nowhere"), 404)["detail"])
    assert "DELETE is not allowed" in str(_is_problem(client.delete("/api/v1/me"), 405)["detail"])


def test_a_body_over_the_limit_is_refused_with_413_whether_declared_or_streamed(app: FastAPI) -> None:
    @app.post("/api/v1/test-echo")
    def echo(body: dict[str, str]) -> dict[str, int]:
        return {"fields": len(body)}

    json_type = {"Content-Type": "application/json"}
    with TestClient(app) as client:
        declared = client.post("/api/v1/test-echo", content=b"x" * 300_000, headers=json_type)
        assert "larger than the limit of 200 kB" in str(_is_problem(declared, 413)["detail"])

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"a": "'
            for _ in range(10):
                yield b"y" * 50_000
            yield b'"}'

        streamed = client.post("/api/v1/test-echo", content=chunks(), headers=json_type)
        assert "larger than the limit of 200 kB" in str(_is_problem(streamed, 413)["detail"])
        assert client.post("/api/v1/test-echo", json={"a": "b"}).json() == {"fields": 1}


def test_the_openapi_document_is_version_3_1_under_the_api_prefix(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/me" in document["paths"]


def test_the_signing_secret_is_generated_once_into_the_data_folder_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite://", data_dir=tmp_path / "data")
    first = signing_secret(settings)
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_secret(settings) == first and len(first) >= 32
    assert Settings(database_url="sqlite://", secret_key="k" * 40).secret_key is not None
    assert "k" * 40 not in repr(Settings(database_url="sqlite://", secret_key="k" * 40))


def test_the_app_refuses_a_database_that_is_not_set_up(tmp_path: Path) -> None:
    from broadcaster.errors import UserError

    with pytest.raises(UserError, match="broadcaster db upgrade"):
        create_app(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path))


def test_broadcaster_serve_answers_on_loopback_and_stops_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    env = subprocess_environment(
        {**os.environ, "BROADCASTER_DATABASE_URL": sqlite_url, "BROADCASTER_DATA_DIR": str(tmp_path / "data")}
    )
    subprocess.run(broadcaster_command("db", "upgrade"), env=env, check=True, cwd=tmp_path)
    port = free_port()
    server = subprocess.Popen(
        broadcaster_command("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        answer = wait_for(lambda: answered(f"http://127.0.0.1:{port}/api/v1/me"), what="the server to answer")
        assert answer.status_code == 401 and answer.headers["content-type"].startswith(PROBLEM)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    secret = (tmp_path / "data" / "secret_key").read_text().strip()
    assert secret not in output


def test_serve_with_several_processes_answers_and_stops_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    env = subprocess_environment(
        {**os.environ, "BROADCASTER_DATABASE_URL": sqlite_url, "BROADCASTER_DATA_DIR": str(tmp_path / "data")}
    )
    refused = subprocess.run(broadcaster_command("serve", "--workers", "2"), env=env, cwd=tmp_path, capture_output=True)
    assert refused.returncode == 1 and b"run 'broadcaster db upgrade'" in refused.stderr
    subprocess.run(broadcaster_command("db", "upgrade"), env=env, check=True, cwd=tmp_path)
    port = free_port()
    command = broadcaster_command("serve", "--port", str(port), "--workers", "2")
    server = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        answer = wait_for(lambda: answered(f"http://127.0.0.1:{port}/api/v1/me"), 60, "the server to answer")
        assert answer.status_code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
