"""Driving the console through the test client: accounts with passwords, the form token, signing in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts, directory
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import Issuer
from broadcaster.operations import campaigns as operations
from broadcaster.operations import directory as directory_operations
from broadcaster.settings import Settings

PASSWORD = "mật-khẩu-đủ-dài"


def staff(sessions: sessionmaker[Session], login: str, role: str, *, stations: list[str] | None = None) -> str:
    with transaction(sessions) as session:
        accounts.create_account(session, login, role, password=PASSWORD, stations=stations)
    return login


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "the page has a form token"
    return found.group(1)


def sign_in(client: TestClient, login: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; the dashboard's form token (for the next forms) is returned."""
    token = form_token(client.get("/login").text)
    answer = client.post("/login", data={"login": login, "password": password, "csrf_token": token})
    assert answer.status_code == 200, answer.text  # followed the redirect
    return form_token(answer.text) if 'name="csrf_token"' in answer.text else ""


def draft_campaign(sessions: sessionmaker[Session], settings: Settings, login: str, path: Path) -> str:
    """The directory imported and a campaign file saved as a draft by `login` (as the composer would)."""
    with transaction(sessions) as session:
        if session.scalar(select(Issuer.id).limit(1)) is None:
            import_examples(session)
        actor = accounts.acting_account(session, login)
        saved = operations.save(session, actor, operations.read_file(path), path.name, settings)
    return saved.campaign.slug


def approved_campaign(sessions: sessionmaker[Session], settings: Settings, path: Path) -> str:
    """A campaign drafted and submitted by 'lan' (admin) and approved by 'minh' (approver)."""
    staff(sessions, "lan", "admin")
    staff(sessions, "minh", "approver")
    slug = draft_campaign(sessions, settings, "lan", path)
    with transaction(sessions) as session:
        operations.change_status(session, accounts.acting_account(session, "lan"), slug, "submit", settings=settings)
    with transaction(sessions) as session:
        operations.change_status(session, accounts.acting_account(session, "minh"), slug, "approve", settings=settings)
    return slug


def marked_test_list(sessions: sessionmaker[Session], tmp_path: Path, phones: list[str]) -> str:
    """A subscriber list of staff phones, marked as test."""
    source = tmp_path / "thu-nghiem.csv"
    source.write_text("Số điện thoại\n" + "".join(f"{phone}\n" for phone in phones), encoding="utf-8")
    with transaction(sessions) as session:
        directory.import_subscribers(session, source, "thu-nghiem", "Điện thoại cán bộ (thử nghiệm)")
        directory_operations.mark_test_list(session, accounts.TERMINAL, "thu-nghiem", True)
    return "thu-nghiem"


def foreign_draft(sessions: sessionmaker[Session], settings: Settings, login: str, alert: str) -> str:
    """The slug of the draft `login` imported from a foreign alert in tests/fixtures/cap."""
    from broadcaster.cap.importing import import_alert
    from broadcaster.cap.reading import parse_alert

    document = Path(__file__).resolve().parents[1] / "fixtures" / "cap" / alert
    with transaction(sessions) as session:
        import_examples(session)
        parsed = parse_alert(document.read_bytes(), document.name)
        return import_alert(session, parsed, settings, login, document.name, "tay-ninh-stttt").slug


def screenshot(folder: Path, page: Any, name: str) -> None:
    """A browser test's whole page as a picture under var/artefacts/, to be looked at (`partial` it per folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
