"""The REST API: the whole story with tokens alone, the same rows and audit as the CLI, idempotent POSTs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.clock import FixedClock, SystemClock, system_now
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, Campaign, Occurrence, Subscriber, SubscriberList
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from broadcaster.workers import Worker
from tests.conftest import CONFIG, Cli, import_shipped_with_cli
from tests.integration.test_delivery_cli import SLUG, current

PASSWORD = "mật-khẩu-đủ-dài-2024"
DIRECTORY = CONFIG / "directory"


def sign_in(client: TestClient, sessions: sessionmaker[Session], login: str, role: str) -> dict[str, str]:
    """An account made by an administrator; its owner signs in through the API and gets a token."""
    with transaction(sessions) as session:
        accounts.create_account(session, login, role, password=PASSWORD)
    answer = client.post("/api/v1/tokens", json={"login": login, "password": PASSWORD, "name": "tests"})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def upload(client: TestClient, headers: dict[str, str], kind: str, path: Path, **form: str) -> httpx.Response:
    with path.open("rb") as handle:
        return client.post(
            f"/api/v1/directory/{kind}/import", headers=headers, files={"file": (path.name, handle)}, data=form
        )


def import_directory(client: TestClient, operator: dict[str, str]) -> None:
    steps = [
        ("areas", DIRECTORY / "areas.csv", {}),
        *(("issuers", path, {}) for path in sorted((CONFIG / "issuers").glob("*.yaml"))),
        *(("agencies", path, {}) for path in sorted(DIRECTORY.glob("agencies-*.csv"))),
        ("stations", DIRECTORY / "stations.csv", {}),
        ("pages", DIRECTORY / "pages.csv", {}),
        ("subscribers", DIRECTORY / "subscribers-tay-ninh.csv", {"list": "thue-bao-tay-ninh"}),
    ]
    for kind, path, form in steps:
        answer = upload(client, operator, kind, path, **form)
        assert answer.status_code == 200, answer.text
        assert answer.json()["summary"].startswith(f"{kind} from {path.name}: ")


def approve_numbers(client: TestClient, approver: dict[str, str]) -> None:
    for issuer in ("tay-ninh-stttt", "binh-phuoc-stttt"):
        decided = client.post(f"/api/v1/directory/issuers/{issuer}/numbers/approve", headers=approver)
        assert decided.status_code == 200 and decided.json()["proposed"] is None, decided.text


def test_the_whole_story_works_through_the_api_alone_with_tokens(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    operator = sign_in(client, sessions, "Hải", "operator")
    drafter = sign_in(client, sessions, "Lan", "drafter")
    approver = sign_in(client, sessions, "Minh", "approver")
    import_directory(client, operator)
    # The issuers' numbers, imported by the operator, come into force once someone else approves them.
    waiting = client.get("/api/v1/directory/issuers/tay-ninh-stttt/numbers", headers=drafter).json()
    assert waiting["in_force"]["hotlines"] == [] and waiting["proposed_by"] == "hải"
    approve_numbers(client, approver)
    listed = client.get("/api/v1/directory/subscribers", headers=drafter).json()
    assert listed["rows"][0][0] == "thue-bao-tay-ninh"

    with current(tmp_path, web_settings.today()).open("rb") as handle:
        created = client.post("/api/v1/campaigns/file", headers=drafter, files={"file": ("current.yaml", handle)})
    assert created.status_code == 201, created.text
    assert created.json()["campaign"]["status"] == "draft" and created.json()["created"] is True

    submitted = client.post(f"/api/v1/campaigns/{SLUG}/submit", headers=drafter)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted", submitted.text
    refused = client.post(f"/api/v1/campaigns/{SLUG}/approve", headers=drafter)
    assert refused.status_code == 403 and "campaigns:approve" in refused.json()["detail"]
    approved = client.post(f"/api/v1/campaigns/{SLUG}/approve", headers=approver)
    assert approved.status_code == 200 and approved.json()["approved_by"] == "minh"

    sent = client.post(f"/api/v1/campaigns/{SLUG}/send-now", headers=operator, json={"channel": "email"})
    assert sent.status_code == 202, sent.text
    Worker(sessions, web_settings, ["email"], "w").drain()

    first = client.get(f"/api/v1/campaigns/{SLUG}/deliveries", headers=approver, params={"limit": 10}).json()
    assert len(first["rows"]) == 10 and first["next_cursor"] == first["rows"][-1]["id"]
    rest = client.get(
        f"/api/v1/campaigns/{SLUG}/deliveries", headers=approver, params={"after": first["next_cursor"], "limit": 1000}
    ).json()
    assert rest["next_cursor"] is None
    everyone = [row["address"] for row in first["rows"] + rest["rows"]]
    assert len(everyone) == len(set(everyone)) == 28
    assert {row["state"] for row in first["rows"] + rest["rows"]} == {"sent"}
    exported = client.get(f"/api/v1/campaigns/{SLUG}/deliveries.csv", headers=approver)
    assert len(list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))) == 28

    status = client.get("/api/v1/status", headers=drafter, params={"campaign": SLUG}).json()
    email = next(c for c in status["campaigns"][0]["channels"] if c["channel"] == "email")
    assert email["deliveries"]["sent"] == 28

    audit = client.get(f"/api/v1/campaigns/{SLUG}/audit", headers=drafter).json()
    assert [(entry["actor"], entry["action"]) for entry in audit] == [
        ("lan", "create"),
        ("lan", "submit"),
        ("minh", "approve"),
        ("hải", "send-now"),
    ]
    assert {entry["client"] for entry in audit} == {"testclient"}


def test_validation_problems_come_back_with_their_field_paths(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    drafter = sign_in(client, sessions, "lan", "drafter")
    answer = client.post(
        "/api/v1/campaigns/validate",
        headers=drafter,
        json={"campaign": "Không Hợp Lệ", "issuer": "nowhere", "channels": {"sms": {"to": [], "schedule": [{}]}}},
    )
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    where = {error["where"] for error in answer.json()["errors"]}
    assert {"campaign", "number", "channels.sms.schedule[0]"} <= where
    assert answer.json()["detail"].startswith("body has")


def test_a_retried_create_or_send_now_with_the_same_idempotency_key_acts_once(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    operator = sign_in(client, sessions, "hai", "operator")
    admin = sign_in(client, sessions, "an", "admin")
    approver = sign_in(client, sessions, "minh", "approver")
    import_directory(client, operator)
    approve_numbers(client, approver)
    content = current(tmp_path, web_settings.today()).read_bytes()
    keyed = {**admin, "Idempotency-Key": "tao-chien-dich-1"}
    answers = [
        client.post("/api/v1/campaigns/file", headers=keyed, files={"file": ("c.yaml", content)}) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json() and answers[1].headers["idempotent-replayed"] == "true"
    other = client.post("/api/v1/campaigns/file", headers=keyed, files={"file": ("c.yaml", content + b"\n# x\n")})
    assert other.status_code == 400 and "different request" in other.json()["detail"]

    client.post(f"/api/v1/campaigns/{SLUG}/submit", headers=admin)
    assert client.post(f"/api/v1/campaigns/{SLUG}/approve", headers=admin).status_code == 409  # two-person rule
    assert client.post(f"/api/v1/campaigns/{SLUG}/approve", headers=approver).status_code == 200
    sends = [
        client.post(
            f"/api/v1/campaigns/{SLUG}/send-now",
            headers={**operator, "Idempotency-Key": "gui-ngay-1"},
            json={"channel": "sms"},
        )
        for _ in range(3)
    ]
    assert [s.status_code for s in sends] == [202, 202, 202] and sends[0].json() == sends[2].json()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 1
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions.count("send-now") == 1 and actions.count("create") == 1


def test_the_cli_and_the_api_leave_the_same_rows_and_audit_entries(
    cli: Cli, database_url: str, web_settings: Settings, tmp_path: Path
) -> None:
    """The same story once through the command and once through the API, on two databases, compared."""
    from broadcaster.db import make_engine, make_sessions

    web_settings = web_settings.with_clock(SystemClock())  # the command runs on the system's clock: so does the API
    import_shipped_with_cli(cli)
    yaml = current(tmp_path, web_settings.today())
    assert cli("campaign", "add", yaml, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", SLUG, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", SLUG, "--as", "minh").exit_code == 0
    assert cli("campaign", "check", "--as", "minh").exit_code == 0
    assert cli("campaign", "pause", SLUG, "--reason", "chờ số mới", "--as", "minh").exit_code == 0
    assert cli("campaign", "resume", SLUG, "--as", "minh").exit_code == 0
    assert cli("send-now", SLUG, "--channel", "radio", "--as", "minh").exit_code == 0
    assert cli("retry", SLUG, "--failed", "--as", "minh").exit_code == 0

    second = f"sqlite:///{tmp_path / 'api.db'}"
    cli.env["BROADCASTER_DATABASE_URL"] = second
    import_shipped_with_cli(cli)  # the same directory and accounts, made by the same commands
    engine = make_engine(second)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        lan = accounts.create_token(session, accounts.find_account(session, "lan"), "t", system_now()).token
        minh = accounts.create_token(session, accounts.find_account(session, "minh"), "t", system_now()).token
    app = create_app(web_settings.model_copy(update={"database_url": second}), sessions)
    with TestClient(app) as client, yaml.open("rb") as handle:
        as_lan, as_minh = ({"Authorization": f"Bearer {token}"} for token in (lan, minh))
        assert client.post("/api/v1/campaigns/file", headers=as_lan, files={"file": (str(yaml), handle)}).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/submit", headers=as_lan).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/approve", headers=as_minh).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/pause", headers=as_minh, json={"reason": "chờ số mới"}).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/resume", headers=as_minh).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/send-now", headers=as_minh, json={"channel": "radio"}).is_success
        assert client.post(f"/api/v1/campaigns/{SLUG}/retry", headers=as_minh, json={}).is_success
        read_alike(cli, client, as_minh)

    def story(session: Session) -> tuple[object, ...]:
        campaign = session.scalars(select(Campaign)).one()
        fields = (campaign.slug, campaign.status, campaign.created_by, campaign.submitted_by, campaign.approved_by)
        occurrences = [(o.channel, o.state) for o in session.scalars(select(Occurrence))]
        audit = [(e.actor, e.action, e.account_id is not None) for e in session.scalars(select(AuditEntry))]
        return fields, campaign.spec, occurrences, audit

    from_cli_engine = make_engine(database_url)
    with make_sessions(from_cli_engine)() as by_cli, sessions() as by_api:
        assert story(by_cli) == story(by_api)
    from_cli_engine.dispose()
    engine.dispose()


def read_alike(cli: Cli, client: TestClient, headers: dict[str, str]) -> None:
    """What the command prints is what the API answers, read from the same database."""
    listed = client.get("/api/v1/campaigns", headers=headers).json()
    shown = cli("campaign", "list", "--as", "minh").stdout
    assert [item["slug"] for item in listed] == [SLUG] and SLUG in shown and listed[0]["status"] in shown
    detail = client.get(f"/api/v1/campaigns/{SLUG}", headers=headers).json()
    version = detail["version"]
    assert f"version {version['number']} (sha256 {version['fingerprint'][:12]})" in cli("campaign", "show", SLUG).stdout
    preview = client.get(f"/api/v1/campaigns/{SLUG}/preview", headers=headers, params={"channel": "sms"}).json()
    printed = cli("campaign", "preview", SLUG, "--channel", "sms", "--as", "minh").stdout
    assert preview["parts"]["txt"].strip() in printed and preview["recipient_address"] in printed
    audit = client.get(f"/api/v1/campaigns/{SLUG}/audit", headers=headers).json()
    table = cli("audit", SLUG, "--as", "minh").stdout
    rows = [line.split("│") for line in table.splitlines() if line.count("│") == 5]  # the heading is drawn with ┃
    assert [entry["action"] for entry in audit] == [row[3].strip() for row in rows if row[3].strip()]


def test_failed_password_logins_are_slowed_and_never_echo_the_password(
    web_settings: Settings, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    # The clock stands still: the wait after the last wrong guess cannot run out however slow the machine.
    stopped = web_settings.with_clock(FixedClock(web_settings.clock.now()))
    client = TestClient(create_app(stopped, sessions), raise_server_exceptions=False)
    with transaction(sessions) as session:
        accounts.create_account(session, "lan", "drafter", password=PASSWORD)
    guesses = [f"đoán-sai-lần-{n}" for n in range(accounts.FREE_FAILURES)]
    for guess in guesses:
        answer = client.post("/api/v1/tokens", json={"login": "LAN", "password": guess})
        assert answer.status_code == 401 and answer.json()["detail"] == "wrong account name or password"
    slowed = client.post("/api/v1/tokens", json={"login": "lan", "password": PASSWORD})
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) > 0
    assert "too many failed logins" in slowed.json()["detail"]
    with sessions() as session:
        stored = " ".join(str(row) for row in session.execute(text("SELECT * FROM login_failures")).all())
        stored += " ".join(str(row) for row in session.execute(text("SELECT * FROM audit_log")).all())
    for secret in [PASSWORD, *guesses]:
        assert secret not in caplog.text and secret not in stored and secret not in slowed.text


def test_an_upload_over_the_limit_is_refused_whole_and_nothing_is_imported(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    operator = sign_in(client, sessions, "hai", "operator")
    assert upload(client, operator, "areas", DIRECTORY / "areas.csv").status_code == 200
    rows = "".join(f"09{n:08d},tay-ninh,vi,,\n" for n in range(40_000))  # about 900 kB, over the 500 kB limit
    big = ("phone,area,locale,opted_out,opted_out_on\n" + rows).encode()
    answer = client.post(
        "/api/v1/directory/subscribers/import",
        headers=operator,
        files={"file": ("big.csv", big)},
        data={"list": "thue-bao-lon"},
    )
    assert answer.status_code == 413 and "upload is larger than the limit of 500 kB" in answer.json()["detail"]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert session.scalar(select(func.count()).select_from(SubscriberList)) == 0


def test_the_docs_page_and_its_assets_come_from_the_package(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/openapi.json" in page.text
    assert "http" not in page.text  # nothing loaded from another site
    for asset in ("/static/api-docs.js", "/static/api-docs.css"):
        assert client.get(asset).status_code == 200
