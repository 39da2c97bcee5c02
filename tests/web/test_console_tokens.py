"""API tokens: every change to them and to accounts is audited from any interface, a password reset or a
disable revokes them, and the console's token page lets a person revoke their own (an administrator,
anyone's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.models import AuditEntry
from broadcaster.operations import accounts as operations
from tests.web.conftest import person
from tests.web.console_helpers import PASSWORD, sign_in, staff
from tests.web.test_console_browser import ARTEFACTS, DESKTOP, shot


def _audit(sessions: sessionmaker[Session]) -> list[tuple[str, str, dict[str, Any]]]:
    with sessions() as session:
        return [
            (e.actor, e.action, dict(e.details)) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_a_password_reset_and_a_disable_revoke_the_accounts_tokens(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    lan = person(sessions, "lan", "drafter")
    minh = person(sessions, "minh", "drafter")
    assert client.get("/api/v1/me", headers=lan.headers).status_code == 200
    with transaction(sessions) as session:
        operations.reset_password(session, accounts.TERMINAL, "lan", "một-mật-khẩu-mới")
        operations.set_disabled(session, accounts.TERMINAL, "minh", True)
    with transaction(sessions) as session:
        operations.set_disabled(session, accounts.TERMINAL, "minh", False)
    for who in (lan, minh):
        answer = client.get("/api/v1/me", headers=who.headers)
        assert answer.status_code == 401 and answer.json()["detail"] == "the API token was revoked"
    actions = {(action, details.get("account")): details for _, action, details in _audit(sessions)}
    assert actions[("reset-password", "lan")]["tokens_revoked"] == 1
    assert actions[("disable-account", "minh")]["tokens_revoked"] == 1


def test_a_person_lists_and_revokes_their_own_tokens_but_not_anothers(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "lan", "drafter")
    staff(sessions, "minh", "approver")
    with transaction(sessions) as session:
        mine = operations.create_token(session, accounts.TERMINAL, "lan", "máy tính xách tay", _now(client))
        theirs = operations.create_token(session, accounts.TERMINAL, "minh", "kịch bản", _now(client))
    token = sign_in(client, "lan")
    page = client.get("/tokens")
    assert page.status_code == 200 and f'id="token-{mine.id}"' in page.text and "máy tính xách tay" in page.text
    assert f'id="token-{theirs.id}"' not in page.text and 'id="token-filter"' not in page.text
    refused = client.post(f"/tokens/{theirs.id}/revoke", data={"csrf_token": token})
    assert refused.status_code == 404 and f"Bạn không có mã truy cập {theirs.id}." in refused.text
    assert client.get("/tokens", params={"account": "minh"}).status_code == 403
    revoked = client.post(f"/tokens/{mine.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and f"Đã thu hồi mã {mine.id}" in revoked.text and "đã thu hồi" in revoked.text
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {mine.token}"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {theirs.token}"}).status_code == 200
    assert ("lan", "revoke-token", {"account": "lan", "token": mine.id, "name": "máy tính xách tay"}) in _audit(
        sessions
    )


def test_an_administrator_sees_and_revokes_anyones_token(client: TestClient, sessions: sessionmaker[Session]) -> None:
    staff(sessions, "quan-tri", "admin")
    minh = person(sessions, "minh", "approver")
    token = sign_in(client, "quan-tri")
    everyone = client.get("/tokens", params={"account": "*"})
    assert 'id="token-filter"' in everyone.text and "<td>minh</td>" in everyone.text
    with sessions() as session:
        row = operations.list_tokens(session, accounts.TERMINAL, "minh")[0]
    revoked = client.post(f"/tokens/{row.id}/revoke", params={"account": "*"}, data={"csrf_token": token})
    assert revoked.status_code == 200 and "đã thu hồi" in revoked.text
    assert client.get("/api/v1/me", headers=minh.headers).status_code == 401


def _now(client: TestClient) -> Any:
    app: Any = client.app
    return app.state.settings.clock.now()


def test_the_token_page_at_desktop_and_phone_width(
    server: str, browser: Any, sessions: sessionmaker[Session], chromium_available: None
) -> None:
    staff(sessions, "lan", "admin")
    person(sessions, "minh", "approver")
    with transaction(sessions) as session:
        for name in ("máy tính phòng Thanh tra", "kịch bản nhập danh bạ"):
            operations.create_token(session, accounts.TERMINAL, "lan", name, system_now())
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Tên tài khoản").fill("lan")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("#sign-in").click()
    page.goto(f"{server}/tokens?account=*")
    assert page.locator("#tokens tbody tr").count() == 3
    shot(page, "tokens-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "tokens-phone")
    page.locator("#tokens button").first.click()
    assert page.locator("#done").is_visible()
    assert (ARTEFACTS / "tokens-phone.png").exists()


def test_account_and_token_commands_are_audited(cli: Any, tmp_path: Path) -> None:
    assert cli("db", "upgrade").exit_code == 0
    added = cli("user", "add", "lan", "--role", "drafter", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    made = cli("user", "token", "create", "lan", "--name", "máy in")
    assert made.exit_code == 0, made.output
    token_id = made.stdout.split()[1]
    assert cli("user", "token", "list", "lan").exit_code == 0
    assert cli("user", "token", "revoke", token_id).exit_code == 0
    run = cli("user", "token", "revoke", "99999999999999999999999")
    assert run.exit_code != 0 and "Traceback" not in run.output
    from sqlalchemy import create_engine

    engine = create_engine(cli.env["BROADCASTER_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        entries = [(actor, action) for actor, action in connection.execute(select(AuditEntry.actor, AuditEntry.action))]
    engine.dispose()
    assert entries == [("terminal", "add-account"), ("terminal", "create-token"), ("terminal", "revoke-token")]
