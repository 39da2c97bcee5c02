"""Approval covers exactly what is sent: the version fixed at submit is the only thing workers render.

A template edited on disk after approval is not sent — the approved text is — and once the change is
noticed (the scheduler looks at each resync) the campaign waits in draft for approval again, with the
diff in the audit log. Content checks run again when bulletins are built; a failure stops the channel.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.versions import approved_version, check_for_changes
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.directory import import_stations
from broadcaster.errors import TransitionRefused
from broadcaster.models import AuditEntry, Campaign, CampaignVersion, Delivery, DeliveryState
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from broadcaster.timetable import Timetable, catch_up
from broadcaster.workers import Worker
from tests.conftest import CONTENT, Cli, import_shipped_with_cli
from tests.scenario import SMS, campaign, local, phones, subscriber_list

NUMBERS = phones(3)
ORIGINAL = "kết bạn Zalo, "
LINK = "vào tn.vn, "


@pytest.fixture
def own(settings: Settings, tmp_path: Path) -> Settings:
    """A copy of the shipped content that the test edits, and no rate limit to wait for."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return settings.model_copy(update={"content_dir": folder, "rates": {"sms": 100_000}})


def sms_template(settings: Settings) -> Path:
    return settings.templates_dir / "goi-gia-danh" / "vi" / "sms.txt.j2"


def edit(settings: Settings, old: str, new: str) -> None:
    path = sms_template(settings)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def emergency_sms_now(sessions: sessionmaker[Session], settings: Settings, folder: Path, status: str) -> int:
    """An emergency SMS to three numbers due now (so the send window does not hold it)."""
    subscriber_list(sessions, folder, "ba-so", NUMBERS)
    channels = {"sms": {"to": ["list:ba-so"], **SMS, "schedule": [{"at": local(system_now(), settings)}]}}
    return campaign(sessions, settings, channels, priority="emergency", status=status)


def fire_now(sessions: sessionmaker[Session], settings: Settings) -> None:
    with transaction(sessions) as session:
        for found in session.scalars(select(Campaign)):
            found.sendable_since = system_now() - timedelta(hours=1)
        catch_up(session, settings, system_now() + timedelta(seconds=1))


def sent_texts(settings: Settings) -> list[str]:
    texts = []
    for path in sorted((settings.output_dir / "sms").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    return texts


def audit(sessions: sessionmaker[Session], campaign_id: int) -> list[AuditEntry]:
    with sessions() as session:
        query = select(AuditEntry).where(AuditEntry.campaign_id == campaign_id).order_by(AuditEntry.id)
        return list(session.scalars(query))


def test_a_template_edited_on_disk_after_approval_is_not_sent_the_approved_text_is(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    emergency_sms_now(shipped, own, tmp_path, "approved")
    edit(own, ORIGINAL, LINK)
    fire_now(shipped, own)
    Worker(shipped, own, ["sms"], "w").drain(timeout=30)

    texts = sent_texts(own)
    assert len(texts) == 3
    assert all("ket ban Zalo" in text and "tn.vn" not in text for text in texts)


def test_the_scheduler_notices_the_change_audits_its_diff_and_the_campaign_waits_for_approval(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    fire_now(shipped, own)
    worker = Worker(shipped, own, ["sms"], "w")
    assert worker.expand_one()  # the rows are written; nothing is sent yet
    edit(own, ORIGINAL, "")

    Timetable(shipped, own).sync()

    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        assert (found.status, found.approved_version) == ("draft", 1)
    changed, returned = audit(shipped, campaign_id)[-2:]
    assert (changed.actor, changed.action, changed.details["version"]) == ("scheduler", "content-changed", 1)
    [change] = changed.details["changes"]
    assert change["template"] == "goi-gia-danh/vi/sms.txt.j2"
    assert change["diff"].startswith("--- a/goi-gia-danh/vi/sms.txt.j2\n+++ b/goi-gia-danh/vi/sms.txt.j2\n")
    assert "\n-{{ issuer.unit_short }}: kẻ gian giả danh" in change["diff"]
    assert "kết bạn Zalo" not in change["diff"].split("\n+")[-1]
    assert returned.action == "return"
    assert returned.details["reason"] == "the content changed since version 1 was approved; it needs approval again"

    worker.drain(timeout=5)
    assert sent_texts(own) == []  # neither the old text nor the new one goes out unapproved


def test_approved_again_the_waiting_deliveries_send_the_new_text(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    fire_now(shipped, own)
    worker = Worker(shipped, own, ["sms"], "w")
    assert worker.expand_one()
    edit(own, ORIGINAL, "")
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        assert check_for_changes(session, found, own, "lan")
        lifecycle.apply(session, found, "submit", "lan", settings=own)
        lifecycle.apply(session, found, "approve", "minh", settings=own)
    worker.drain(timeout=30)

    texts = sent_texts(own)
    assert len(texts) == 3
    assert all("Zalo" not in text and "LUA DAO" in text for text in texts)
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        version = approved_version(session, found)
        assert version is not None and (version.number, version.approved_by) == (2, "minh")


def test_a_template_edited_after_validation_is_checked_again_when_it_is_submitted(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "draft")  # validated as it was
    edit(own, ORIGINAL, LINK)
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        with pytest.raises(InvalidInput) as refused:
            lifecycle.apply(session, found, "submit", "lan", settings=own)
    assert str(refused.value) == "campaign 'thu-nghiem' as it would be submitted has 1 problem"
    assert [str(problem) for problem in refused.value.problems] == [
        "channels.sms (vi, +84912000000): the text has a link (tn.vn); sms bulletins must not contain links, "
        "since the warning tells people never to follow one"
    ]


def test_content_that_fails_the_checks_at_send_time_pauses_the_channel_with_the_reason(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    """Validation renders one sample recipient per locale; the text built for each recipient at send
    time is checked too — here a station whose name, as imported, carries its own phone number."""
    stations = tmp_path / "stations.csv"
    stations.write_text(
        "slug,name,area,locales,folder,slots\n"
        "dtt-a,Đài Truyền thanh xã A,go-dau,vi,tay-ninh/a,morning 05:30\n"
        "dtt-b,Đài Truyền thanh xã B (ĐT 0276 3812 345),go-dau,vi,tay-ninh/b,morning 05:30\n",
        encoding="utf-8",
    )
    with transaction(shipped) as session:
        import_stations(session, stations)
    now = local(system_now(), own)
    radio = {"to": ["station:dtt-a", "station:dtt-b"], "schedule": [{"at": now}]}
    campaign_id = campaign(shipped, own, {"radio": radio})
    fire_now(shipped, own)
    Worker(shipped, own, ["radio"], "w").drain(timeout=10)

    reason = (
        "the radio text of version 1 fails the content checks (vi): the text has the phone number 02763812345, "
        "which is not one of the issuer's official hotlines (02763631168, 02763813111)"
    )
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        [channel] = found.channels
        assert (channel.paused, channel.pause_reason) == (True, reason)
        assert set(session.scalars(select(Delivery.state))) == {DeliveryState.PENDING}
    paused = audit(shipped, campaign_id)[-1]
    assert (paused.action, paused.details) == ("pause-channel", {"channel": "radio", "reason": reason})
    assert not list((own.output_dir / "radio").rglob("*.txt"))


def test_whoever_drafted_a_version_cannot_approve_it_even_when_another_submitted_it(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, settings, tmp_path, "draft")  # drafted by 'lan'
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        lifecycle.apply(session, found, "submit", "hoa", settings=settings)
        with pytest.raises(TransitionRefused) as refused:
            lifecycle.apply(session, found, "approve", "lan", settings=settings)
        assert str(refused.value) == (
            "'lan' drafted version 1 of campaign 'thu-nghiem' and so cannot approve it: "
            "a second person must approve (two-person rule)"
        )
        lifecycle.apply(session, found, "approve", "minh", settings=settings)
    with shipped() as session:
        version = session.scalars(select(CampaignVersion)).one()
        assert (version.drafted_by, version.submitted_by, version.approved_by) == ("lan", "hoa", "minh")
        assert len(version.fingerprint) == 64
        assert "goi-gia-danh/vi/sms.txt.j2" in version.content["templates"]


def test_the_cli_previews_the_approved_text_finds_the_change_and_shows_its_diff(cli: Cli, tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    cli.env["BROADCASTER_CONTENT_DIR"] = str(content)
    import_shipped_with_cli(cli)
    assert cli("user", "add", "hoa", "--role", "drafter", "--no-password").exit_code == 0
    slug = "canh-bao-goi-gia-danh-lan-2"
    assert cli("campaign", "add", CONTENT / "campaigns" / f"{slug}.yaml", "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", slug, "--as", "hoa").exit_code == 0
    assert cli("campaign", "approve", slug, "--as", "minh").exit_code == 0
    template = content / "templates" / "goi-gia-danh" / "vi" / "sms.txt.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(ORIGINAL, ""), encoding="utf-8")

    assert "ket ban Zalo" in cli("campaign", "preview", slug, "--channel", "sms").stdout  # the approved text
    shown = cli("campaign", "show", slug).stdout
    assert "version 1 (sha256 " in shown and "drafted by lan · submitted by hoa · approved by minh" in shown

    check = cli("campaign", "check", "--as", "lan")
    assert check.exit_code == 0, check.output
    assert (
        check.stdout.split()
        == (
            f"campaign '{slug}' changed since its version was fixed (goi-gia-danh/vi/sms.txt.j2): it is back to "
            f"draft and needs approval again; the difference is in 'broadcaster audit {slug}'"
        ).split()
    )
    assert "status draft" in cli("campaign", "show", slug).stdout
    log = cli("audit", slug).stdout
    assert "content-changed" in log
    assert "+++ b/goi-gia-danh/vi/sms.txt.j2" in log and "@@ -1 +1 @@" in log
    assert "ket ban Zalo" not in cli("campaign", "preview", slug, "--channel", "sms").stdout  # the draft, on disk
    assert cli("campaign", "check", "--as", "lan").stdout.strip() == "no campaign changed since its version was fixed"


def test_loading_the_same_file_again_notices_a_template_changed_since_it_was_submitted(
    cli: Cli, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    cli.env["BROADCASTER_CONTENT_DIR"] = str(content)
    import_shipped_with_cli(cli)
    slug = "canh-bao-goi-gia-danh-lan-2"
    path = CONTENT / "campaigns" / f"{slug}.yaml"
    assert cli("campaign", "add", path, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", slug, "--as", "lan").exit_code == 0
    template = content / "templates" / "goi-gia-danh" / "vi" / "sms.txt.j2"
    template.write_text(template.read_text(encoding="utf-8").replace(ORIGINAL, ""), encoding="utf-8")

    again = cli("campaign", "add", path, "--as", "lan")
    assert again.exit_code == 0, again.output
    assert f"campaign '{slug}' changed since its version was fixed (goi-gia-danh/vi/sms.txt.j2)" in again.stdout
    assert "status draft" in cli("campaign", "show", slug).stdout
    refused = cli("campaign", "approve", slug, "--as", "minh")
    assert refused.exit_code == 1
    assert "only a campaign that is submitted can be approved" in refused.stderr
