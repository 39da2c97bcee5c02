"""An issuer's hotlines and official numbers decide what citizens are told is genuine: an account's change to
them waits for another person's approval (like a campaign's), is audited with the old and new numbers, and
until then the public page and the bulletins use the numbers in force."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts, verification
from broadcaster.db import transaction
from broadcaster.errors import PermissionDenied, TransitionRefused
from broadcaster.models import AuditEntry, Issuer
from broadcaster.operations import directory as operations
from broadcaster.settings import Settings
from tests.conftest import CONFIG, Cli, import_shipped_with_cli

FORGED = "0912 345 678"  # a number someone wants citizens to trust


def _forged_profile(tmp_path: Path) -> Path:
    profile = (CONFIG / "issuers" / "tay-ninh-stttt.yaml").read_text(encoding="utf-8")
    path = tmp_path / "tay-ninh-stttt.yaml"
    extra = f'official_numbers:\n  - {{number: "{FORGED}", purpose: "Trực ban"}}\n'
    path.write_text(profile + extra, encoding="utf-8")
    return path


@pytest.fixture
def people(shipped: sessionmaker[Session]) -> dict[str, accounts.Actor]:
    with transaction(shipped) as session:
        for login, role in (("tam", "operator"), ("minh", "approver"), ("an", "admin")):
            accounts.create_account(session, login, role, password=None)
    with shipped() as session:
        return {login: accounts.acting_account(session, login) for login in ("tam", "minh", "an")}


def _official(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(verification.check_number(session, FORGED).matches)


def test_a_number_one_operator_adds_is_not_vouched_for_until_another_person_approves(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, people: dict[str, accounts.Actor]
) -> None:
    with transaction(shipped) as session:
        report = operations.import_issuer(session, people["tam"], _forged_profile(tmp_path))
    assert "wait for another person's approval" in report.warnings[0][1]
    assert not _official(shipped)  # the public page does not vouch for it yet
    with transaction(shipped) as session, pytest.raises(PermissionDenied, match="campaigns:approve"):
        operations.decide_numbers(session, people["tam"], "tay-ninh-stttt", True)
    with transaction(shipped) as session:
        operations.decide_numbers(session, people["minh"], "tay-ninh-stttt", True)
    assert _official(shipped)
    with shipped() as session:
        entries = {entry.action: entry for entry in session.scalars(select(AuditEntry))}
    proposed, approved = entries["propose-issuer-numbers"], entries["approve-issuer-numbers"]
    assert proposed.actor == "tam" and approved.actor == "minh" and approved.details["proposed_by"] == "tam"
    old = [n["number"] for n in approved.details["old"]["official_numbers"]]
    new = [n["number"] for n in approved.details["new"]["official_numbers"]]
    assert "0912345678" not in old and "0912345678" in new


def test_the_proposer_cannot_approve_even_as_an_administrator_and_a_rejection_keeps_the_numbers(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, people: dict[str, accounts.Actor]
) -> None:
    with transaction(shipped) as session:
        operations.import_issuer(session, people["an"], _forged_profile(tmp_path))
    with transaction(shipped) as session, pytest.raises(TransitionRefused, match="two-person rule"):
        operations.decide_numbers(session, people["an"], "tay-ninh-stttt", True)
    with transaction(shipped) as session:
        operations.decide_numbers(session, people["minh"], "tay-ninh-stttt", False)
    assert not _official(shipped)
    with shipped() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one()
        assert issuer.proposed_numbers is None
        assert "reject-issuer-numbers" in set(session.scalars(select(AuditEntry.action)))


def test_the_command_line_shows_proposes_and_approves_with_two_people(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    assert cli("directory", "import", "issuers", _forged_profile(tmp_path), "--as", "lan").exit_code == 0
    shown = cli("directory", "numbers", "tay-ninh-stttt")
    assert "proposed by lan: " in shown.stdout and "0912345678 (Trực ban)" in shown.stdout
    own = cli("directory", "numbers", "tay-ninh-stttt", "--approve", "--as", "lan")
    assert own.exit_code == 1 and "two-person rule" in own.stderr
    approved = cli("directory", "numbers", "tay-ninh-stttt", "--approve", "--as", "minh")
    assert approved.exit_code == 0 and "are approved" in approved.stdout
    assert "nothing waits for approval" in cli("directory", "numbers", "tay-ninh-stttt").stdout
