"""Retention (Decree 13/2023/NĐ-CP): after the setting's days, the addresses in finished deliveries, their
attempts and unmatched reports are erased; states, counts and the audit stay, and each erasure is audited."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, Delivery, DeliveryAttempt
from broadcaster.operations import sending
from broadcaster.retention import erase_old_addresses
from broadcaster.settings import Settings
from broadcaster.timetable import Timetable
from broadcaster.workers import Worker
from tests.conftest import Cli
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, marked_test_list

PHONES = ["0912345678", "0987654321"]


def sent_to_the_test_list(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    slug = approved_campaign(sessions, settings, current(tmp_path, settings.today()))
    marked_test_list(sessions, tmp_path, PHONES)
    with transaction(sessions) as session:
        sending.send_draft_test(session, accounts.acting_account(session, "lan"), slug, "sms", settings)
    Worker(sessions, settings, ["sms"], "w").drain()


def test_old_addresses_are_erased_and_the_outcomes_and_audit_kept(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    sent_to_the_test_list(sessions, settings, tmp_path)
    now = settings.clock.now()
    with transaction(sessions) as session:
        states = {row.id: row.state for row in session.execute(select(Delivery.id, Delivery.state))}
        first = min(states)
        session.execute(update(Delivery).where(Delivery.id == first).values(done_at=now - timedelta(days=40)))
        session.add(DeliveryAttempt(delivery_id=first, number=1, at=now, outcome="pending", response="to +84912345678"))
    with transaction(sessions) as session:
        erased = erase_old_addresses(session, now, 30)
    assert (erased.deliveries, erased.attempts) == (1, 1)
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(Delivery))}
        assert rows[first].address == f"erased:{first}"
        assert {key: row.state for key, row in rows.items()} == states  # outcomes kept
        assert next(row.address for key, row in rows.items() if key != first).startswith("+84")  # recent: kept
        assert session.scalar(select(DeliveryAttempt.response)) is None
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention-erase")).one()
        assert audited.details["deliveries"] == 1 and audited.details["older_than_days"] == 30
    with transaction(sessions) as session:
        assert not erase_old_addresses(session, now, 30).anything  # nothing twice, and no empty audit entry
    with sessions() as session:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "retention-erase")
        assert session.scalar(query) == 1


def test_the_timetable_runs_the_erasure_when_a_retention_is_set(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    sent_to_the_test_list(sessions, settings, tmp_path)
    with transaction(sessions) as session:
        session.execute(update(Delivery).values(done_at=settings.clock.now() - timedelta(days=10)))
    kept = Timetable(sessions, settings)
    assert kept.settings.retention_days is None
    kept.erase_old_addresses()  # no retention set: nothing happens
    with sessions() as session:
        assert all(address.startswith("+84") for address in session.scalars(select(Delivery.address)))
    timetable = Timetable(sessions, settings.model_copy(update={"retention_days": 7}))
    timetable.start()
    try:
        assert timetable.scheduler.get_job("retention") is not None
    finally:
        timetable.stop()
    timetable.erase_old_addresses()
    with sessions() as session:
        assert all(address.startswith("erased:") for address in session.scalars(select(Delivery.address)))


def test_one_subscribers_data_is_exported_then_erased_on_request(
    cli: Cli, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    sent_to_the_test_list(sessions, settings, tmp_path)
    target = tmp_path / "du-lieu.json"
    exported = cli("directory", "export-subscriber", "0912 345 678", "--output", target, "--as", "lan")
    assert exported.exit_code == 0, exported.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["phone"] == "+84912345678" and [entry["list"] for entry in data["lists"]] == ["thu-nghiem"]
    assert len(data["deliveries"]) == 1 and data["deliveries"][0]["channel"] == "sms"

    erased = cli("directory", "erase-subscriber", "0912345678", "--as", "lan")
    assert erased.exit_code == 0 and "erased from 1 deliveries" in erased.stdout
    with sessions() as session:
        addresses = list(session.scalars(select(Delivery.address).order_by(Delivery.id)))
        assert "+84912345678" not in addresses and "+84987654321" in addresses
        assert session.scalar(select(func.count()).select_from(Delivery)) == 2  # outcomes kept
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("subscriber-%"))).all()
        assert [entry.action for entry in entries] == ["subscriber-export", "subscriber-erase"]
        assert all("345678" not in json.dumps(entry.details) for entry in entries)
    again = json.loads(cli("directory", "export-subscriber", "0912345678", "--as", "lan").stdout)
    assert again["lists"] == [] and again["deliveries"] == []
    wrong = cli("directory", "erase-subscriber", "12345", "--as", "lan")
    assert wrong.exit_code == 1 and "Traceback" not in wrong.output
