"""Several people using the console at once while a worker keeps writing: no request meets a locked database.

On SQLite a transaction that began by reading (a savepoint's dry run, a page that reads then writes) cannot
take the write lock once another connection has committed since: SQLite answers "database is locked" at once,
without waiting. These tests drive the console's writes from threads against one database file while another
connection commits in a loop, and expect every answer to be the page or redirect the form gives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.operations import directory as directory_operations
from tests.web.console_helpers import form_token, marked_test_list, sign_in, staff

PEOPLE = 4
ROUNDS = 3
CSV = (
    "Số điện thoại,Khu vực,Ngôn ngữ\n0979141777,chau-thanh-tn,vi\n0912000111,tp-tay-ninh,vi\n12345,tp-tay-ninh,vi\n"
).encode()


def busy_writer(sessions: sessionmaker[Session], stop: threading.Event, list_slug: str) -> Callable[[], None]:
    """A worker's share of the database: short transactions committing one after another (audited toggles)."""

    def run() -> None:
        flag = False
        while not stop.is_set():
            flag = not flag
            with transaction(sessions) as session:
                directory_operations.mark_test_list(session, accounts.TERMINAL, list_slug, flag)

    return run


def one_person(app: FastAPI, login: str, statuses: list[int], failures: list[str]) -> None:
    """Upload a list (a dry run in a savepoint), look at the preview, download the rejected rows, confirm."""
    with TestClient(app, raise_server_exceptions=False) as client:
        sign_in(client, login)
        for round_number in range(ROUNDS):
            token = form_token(client.get("/directory").text)
            staged = client.post(
                "/directory/import",
                data={"csrf_token": token, "kind": "subscribers", "list_slug": f"{login}-{round_number}"},
                files={"file": (f"{login}.csv", CSV, "text/csv")},
                follow_redirects=False,
            )
            statuses.append(staged.status_code)
            if staged.status_code != 303:
                failures.append(f"upload: {staged.status_code} {staged.text[:200]}")
                continue
            location = staged.headers["location"]
            page = client.get(location)
            rejected = client.get(location + "/rejected.csv")
            confirmed = client.post(location, data={"csrf_token": form_token(page.text)})
            for what, answer in (("preview", page), ("rejected rows", rejected), ("confirm", confirmed)):
                statuses.append(answer.status_code)
                if answer.status_code != 200:
                    failures.append(f"{what}: {answer.status_code} {answer.text[:200]}")


def test_people_importing_at_once_while_a_worker_writes_never_meet_a_locked_database(
    app: FastAPI, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with transaction(sessions) as session:
        import_examples(session)
    logins = [staff(sessions, f"nguoi-{index}", "operator") for index in range(PEOPLE)]
    list_slug = marked_test_list(sessions, tmp_path, ["0979141777"])
    stop = threading.Event()
    writer = threading.Thread(target=busy_writer(sessions, stop, list_slug))
    statuses: list[int] = []
    failures: list[str] = []
    people = [threading.Thread(target=one_person, args=(app, login, statuses, failures)) for login in logins]
    writer.start()
    try:
        for thread in people:
            thread.start()
        for thread in people:
            thread.join(timeout=300)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert failures == []
    assert len(statuses) == PEOPLE * ROUNDS * 4 and 503 not in statuses
