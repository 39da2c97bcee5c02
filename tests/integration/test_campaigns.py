"""Campaign files, validation, the lifecycle, two-person approval and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign, save_or_revise
from broadcaster.campaigns.store import check_campaign, find_campaign
from broadcaster.db import transaction
from broadcaster.errors import TransitionRefused
from broadcaster.models import AuditEntry
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from tests.conftest import CONTENT, Cli, import_shipped_with_cli

FIXTURES = Path(__file__).parent.parent / "fixtures"
SHIPPED = sorted((CONTENT / "campaigns").glob("*.yaml"))
TAY_NINH = CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_both_shipped_campaigns_validate(shipped: sessionmaker[Session], settings: Settings, path: Path) -> None:
    with shipped() as session:
        assert check_campaign(session, load_campaign_file(path), settings) == []


def test_a_broken_file_gets_every_structural_problem_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_campaign_file(FIXTURES / "broken-campaign.yaml")
    problems = {str(problem) for problem in caught.value.problems}
    assert "campaign: string should match pattern '^[a-z0-9][a-z0-9-]*$'" in problems
    assert "priority: should be 'ordinary', 'priority' or 'emergency'" in problems
    assert "valid: ends (2024-05-01) before it starts (2024-05-14)" in problems
    assert "shedule: is not a known field here" in problems
    assert any(p.startswith("channels.email.schedule[0].at: '2024-13-40 08:00' is not a valid date") for p in problems)
    assert "channels.sms.schedule[0]: needs exactly one of 'at', 'cron' or 'slots'" in problems
    assert (
        "channels.facebook.schedule[0].cron: '0 25 * * *' is not a valid cron expression: Error validating "
        "expression '25': the last value (25) is higher than the maximum value (23)" in problems
    )


def test_a_file_that_does_not_match_the_directory_gets_every_problem(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    spec = load_campaign_file(FIXTURES / "wrong-directory.yaml")
    with shipped() as session:
        problems = {str(problem) for problem in check_campaign(session, spec, settings)}
    assert problems == {
        "channels.email.to[0]: no agency is in group 'khong-co-nhom'",
        "channels.email.to[1]: 'list:thue-bao-tay-ninh' names subscribers, but email sends to agencies",
        "channels.email.schedule[0].at: 2024-07-01 08:00 is outside the validity window 2024-05-14 to 2024-06-14",
        "channels.sms.areas[0]: area 'atlantis' is not in the area list",
        "channels.sms.schedule[0]: runs 2024-05-01 to 2024-06-14, outside the validity window 2024-05-14 to 2024-06-14",
        "channels.sms.schedule[1].cron: '0 8 30 2 *' never fires within its dates",
        *(
            f"channels.radio.schedule[0].slots: station '{station}' has no slot 'midnight' (its slots: {slots})"
            for station, slots in [
                ("dtt-bu-dang", "morning, evening"),
                ("dtt-go-dau", "morning, evening"),
                ("dtt-loc-ninh", "morning, evening"),
                ("dtt-tan-bien", "morning, evening"),
                ("dtt-trang-bang", "morning, noon, evening"),
                ("dtt-phuong-go-dau", "morning, evening"),
                ("dtt-xa-bu-dang", "morning, evening"),
                ("dtt-xa-thanh-duc", "morning, evening"),
            ]
        ),
    }


def test_the_cli_lists_every_problem_without_a_traceback(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    run = cli("campaign", "validate", FIXTURES / "broken-campaign.yaml")
    assert run.exit_code == 1
    assert run.stderr.startswith(f"error: {FIXTURES / 'broken-campaign.yaml'} has 12 problems:")
    assert "Traceback" not in run.output
    assert "  - shedule: is not a known field here" in run.stderr
    # The structural problems hide none of the directory's.
    assert (
        "  - issuer: issuer 'ha-noi-stttt' is not known (known issuers: binh-phuoc-stttt, tay-ninh-stttt)" in run.stderr
    )
    assert "  - channels.email.to[0]: no agency is in group 'khong-co'" in run.stderr


def test_unreadable_yaml_is_reported_with_its_line(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    bad = tmp_path / "bad.yaml"
    bad.write_text("campaign: x\nchannels: [unclosed\n", encoding="utf-8")
    run = cli("campaign", "validate", bad)
    assert run.exit_code == 1
    assert f"{bad} line 3, column 1" in run.stderr


def test_submit_and_approve_by_the_same_person_is_refused_and_by_another_passes(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", TAY_NINH, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", "canh-bao-goi-gia-danh-lan-2", "--as", "lan").exit_code == 0

    refused = cli("campaign", "approve", "canh-bao-goi-gia-danh-lan-2", "--as", "lan")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "error: 'lan' submitted campaign 'canh-bao-goi-gia-danh-lan-2' and so cannot approve it: "
        "a second person must approve (two-person rule)"
    )

    approved = cli("campaign", "approve", "canh-bao-goi-gia-danh-lan-2", "--as", "minh")
    assert approved.exit_code == 0, approved.output
    audit = cli("audit", "canh-bao-goi-gia-danh-lan-2").stdout
    assert [line.split("│")[2:4] for line in audit.splitlines() if "│" in line] == [
        [" lan  ", " create  "],
        [" lan  ", " submit  "],
        [" minh ", " approve "],
    ]


def test_changing_things_needs_a_name(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    run = cli("campaign", "add", TAY_NINH)
    assert run.exit_code == 1
    assert "say who you are: add --as NAME or set BROADCASTER_USER" in run.stderr


def test_status_changes_follow_the_lifecycle(shipped: sessionmaker[Session], settings: Settings) -> None:
    with transaction(shipped) as session:
        campaign, _ = save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
        with pytest.raises(
            TransitionRefused, match="is draft; only a campaign that is active or approved can be paused"
        ):
            lifecycle.apply(session, campaign, "pause", "lan", settings=settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
        lifecycle.apply(session, campaign, "pause", "minh", "hotline changed", settings=settings)
        lifecycle.apply(session, campaign, "resume", "minh", settings=settings)
        assert campaign.status == "approved"
        lifecycle.apply(session, campaign, "cancel", "minh", settings=settings)
        with pytest.raises(TransitionRefused, match="is cancelled"):
            lifecycle.apply(session, campaign, "resume", "minh", settings=settings)


def test_an_edit_is_audited_field_by_field_and_needs_approval_again(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        TAY_NINH.read_text(encoding="utf-8").replace("priority: priority", "priority: emergency"), encoding="utf-8"
    )
    with transaction(shipped) as session:
        campaign, _ = save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        save_campaign(session, load_campaign_file(changed), "lan", settings)
        assert (campaign.status, campaign.priority, campaign.submitted_by) == ("draft", "emergency", None)
    with shipped() as session:
        campaign = find_campaign(session, "canh-bao-goi-gia-danh-lan-2")
        entries = session.query(AuditEntry).filter_by(campaign_id=campaign.id).order_by(AuditEntry.id).all()
    assert [entry.action for entry in entries] == ["create", "submit", "edit", "withdraw"]
    assert entries[2].details["changes"] == [{"field": "priority", "old": "priority", "new": "emergency"}]


def test_an_approved_campaign_is_not_edited_in_place_its_edit_is_a_revision(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(shipped) as session:
        campaign, _ = save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
        spec = load_campaign_file(TAY_NINH)
        spec.subject = "khác"
        with pytest.raises(TransitionRefused, match="is approved: an edit of it is a revision, approved beside it"):
            save_campaign(session, spec, "lan", settings)
        save_or_revise(session, spec, "lan", settings)
        assert campaign.subject != "khác" and campaign.revision is not None
        assert campaign.revision.spec["subject"] == "khác"


def test_the_audit_log_is_append_only_in_the_database(shipped: sessionmaker[Session], settings: Settings) -> None:
    with transaction(shipped) as session:
        save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), transaction(shipped) as session:
            session.execute(text(statement))


def test_the_audit_log_cannot_be_rewritten_by_replace_or_emptied_by_truncate(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(shipped) as session:
        save_campaign(session, load_campaign_file(TAY_NINH), "lan", settings)
    with shipped() as session:
        first = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).first()
        assert first is not None
        dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        rewrite = (
            "INSERT OR REPLACE INTO audit_log (id, campaign_id, at, actor, action, details) "
            "VALUES (:id, NULL, '2024-01-01 00:00:00', 'someone else', 'create', '{}')"
        )
        statements = [
            (rewrite, {"id": first.id}),
            (
                "REPLACE INTO audit_log (id, actor, action, at, details) VALUES (:id, 'x', 'y', '2024-01-01', '{}')",
                {"id": first.id},
            ),
        ]
    else:
        statements = [("TRUNCATE audit_log", {}), ("TRUNCATE audit_log CASCADE", {})]
    for statement, values in statements:
        with pytest.raises(DatabaseError, match="append-only"), transaction(shipped) as session:
            session.execute(text(statement), values)
    with shipped() as session:
        kept = session.get(AuditEntry, first.id)
        assert kept is not None and (kept.actor, kept.action) == (first.actor, first.action)
