"""/healthz answers while the process runs; /readyz says whether the database, its schema and every channel's
settings let this installation work, and answers 503 with the sentences when not."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from broadcaster.db import make_engine, make_sessions
from broadcaster.settings import Settings
from broadcaster.web.app import create_app


def test_healthz_and_a_ready_installation(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["cache-control"] == "no-store"
    document = ready.json()
    assert document["status"] == "ready" and document["problems"] == []
    assert document["database"] == "reachable" and document["migrations"]["current"] is True
    assert set(document["channels"]) >= {"email", "sms", "facebook", "radio"}
    assert all(channel["ok"] and channel["checked_at"] for channel in document["channels"].values())


def test_a_database_behind_its_migrations_is_not_ready(web_settings: Settings, tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(web_settings, make_sessions(empty))) as client:
        answer = client.get("/readyz")
    empty.dispose()
    assert answer.status_code == 503
    assert "run 'broadcaster db upgrade'" in " ".join(answer.json()["problems"])
    assert client.get("/healthz").status_code == 200


def test_a_channel_that_does_not_build_is_named_without_its_secret(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "esms")
    monkeypatch.setenv("BROADCASTER_SMS_SECRET_KEY", "bi-mat-khong-duoc-lo-ra")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    document = answer.json()
    assert document["channels"]["sms"]["ok"] is False and document["channels"]["email"]["ok"] is True
    assert any(problem.startswith("channel sms:") for problem in document["problems"])
    assert "bi-mat-khong-duoc-lo-ra" not in answer.text
