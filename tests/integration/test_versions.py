"""Approval covers exactly what is sent: the version fixed at submit is the only thing workers render.

A campaign's texts are its own, in the database: a shared template edited on disk changes no campaign
and stops none. An approved campaign is edited as a revision beside it, which sends nothing until it is
approved, by someone who wrote none of it; then it takes the campaign's place in one transaction. What
changes under an approved campaign (its issuer) is reported, not sent and not stopped. Content checks
run again when bulletins are built; a failure stops the channel.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.accounts import ROLES, Actor
from broadcaster.campaigns import lifecycle, revisions
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.versions import approved_version, changes_since_fixed
from broadcaster.cap.alerts import history
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.directory import import_stations
from broadcaster.errors import TransitionRefused
from broadcaster.models import AuditEntry, Campaign, CampaignVersion, Delivery, DeliveryState
from broadcaster.operations import campaigns as operations
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


SMS_TEXT = "goi-gia-danh/vi/sms.txt.j2"


def edit_shared_template(settings: Settings, old: str, new: str) -> None:
    path = settings.templates_dir / SMS_TEXT
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def revise_sms(
    sessions: sessionmaker[Session], settings: Settings, campaign_id: int, old: str, new: str, who: str
) -> None:
    """Edit the campaign's own SMS text, as the composer or a campaign file would save it."""
    with transaction(sessions) as session:
        found = session.get_one(Campaign, campaign_id)
        texts = dict(found.revision.texts if found.revision else found.texts)
        assert old in texts[SMS_TEXT]
        texts[SMS_TEXT] = texts[SMS_TEXT].replace(old, new)
        spec = parse_campaign(found.spec, found.slug)
        operations.save(session, Actor(who, ROLES["admin"]), spec, "the composer", settings, texts)


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


def test_a_shared_template_edited_on_disk_changes_no_campaign_and_stops_none(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    edit_shared_template(own, ORIGINAL, LINK)
    fire_now(shipped, own)
    Timetable(shipped, own).sync()  # the resync that once sent such a campaign back to draft
    Worker(shipped, own, ["sms"], "w").drain(timeout=30)

    texts = sent_texts(own)
    assert len(texts) == 3
    assert all("ket ban Zalo" in text and "tn.vn" not in text for text in texts)
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        assert (found.status, found.approved_version) == ("active", 1)
        assert "tn.vn" not in found.texts[SMS_TEXT]
        assert changes_since_fixed(session, found, own) == []
    assert "content-changed" not in [entry.action for entry in audit(shipped, campaign_id)]


def test_a_revision_of_an_active_campaign_sends_nothing_until_approved_then_takes_its_place(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    fire_now(shipped, own)
    worker = Worker(shipped, own, ["sms"], "w")
    assert worker.expand_one()  # the rows are written; nothing is sent yet
    revise_sms(shipped, own, campaign_id, ORIGINAL, "", "lan")

    worker.drain(timeout=30)
    assert len(sent_texts(own)) == 3
    assert all("ket ban Zalo" in text for text in sent_texts(own))  # the approved text, while the revision waits
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        assert (found.status, found.approved_version, found.revision is not None) == ("active", 1, True)
        assert ORIGINAL in found.texts[SMS_TEXT]
    revise_entry = audit(shipped, campaign_id)[-1]
    assert (revise_entry.actor, revise_entry.action) == ("lan", "revise")
    [change] = revise_entry.details["changes"]
    assert change["template"] == SMS_TEXT and "\n-{{ issuer.unit_short }}: kẻ gian giả danh" in change["diff"]

    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        version = revisions.submit(session, found, "lan", own)
        assert version.number == 2 and found.approved_version == 1
        with pytest.raises(TransitionRefused, match="'lan' submitted campaign 'thu-nghiem'"):
            revisions.approve(session, found, "lan", own)
        revisions.approve(session, found, "minh", own)
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        assert (found.status, found.approved_version, found.revision) == ("active", 2, None)
        assert ORIGINAL not in found.texts[SMS_TEXT]
        assert changes_since_fixed(session, found, own) == []
        assert [alert.msg_type for alert in history(session, found, own)] == ["Alert", "Update"]


def test_approved_again_the_waiting_deliveries_send_the_new_text(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    fire_now(shipped, own)
    worker = Worker(shipped, own, ["sms"], "w")
    assert worker.expand_one()
    revise_sms(shipped, own, campaign_id, ORIGINAL, "", "lan")
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        revisions.submit(session, found, "lan", own)
        revisions.approve(session, found, "minh", own)
    worker.drain(timeout=30)

    texts = sent_texts(own)
    assert len(texts) == 3
    assert all("Zalo" not in text and "LUA DAO" in text for text in texts)
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        version = approved_version(session, found)
        assert version is not None and (version.number, version.approved_by) == (2, "minh")


def test_a_returned_revision_keeps_the_reason_and_the_version_it_returned(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "approved")
    revise_sms(shipped, own, campaign_id, ORIGINAL, "", "lan")
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        revisions.submit(session, found, "lan", own)
        revisions.send_back(session, found, "minh", "thiếu số đường dây nóng thứ hai")
    with shipped() as session:
        found = session.get_one(Campaign, campaign_id)
        assert found.revision is not None
        assert (found.revision.status, found.revision.returned_version) == ("draft", 2)
        assert found.revision.returned_reason == "thiếu số đường dây nóng thứ hai"
        assert (found.status, found.approved_version) == ("approved", 1)


def test_a_text_with_a_link_is_refused_when_it_is_saved(
    shipped: sessionmaker[Session], own: Settings, tmp_path: Path
) -> None:
    campaign_id = emergency_sms_now(shipped, own, tmp_path, "draft")
    with pytest.raises(InvalidInput) as refused:
        revise_sms(shipped, own, campaign_id, ORIGINAL, LINK, "lan")
    assert [str(problem) for problem in refused.value.problems] == [
        "channels.sms (vi, +84912000000): the text has a link (tn.vn); sms bulletins must not contain links, "
        "since the warning tells people never to follow one"
    ]
    with shipped() as session:
        assert ORIGINAL in session.get_one(Campaign, campaign_id).texts[SMS_TEXT]


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
            "'lan' wrote part of version 1 of campaign 'thu-nghiem' and so cannot approve it: "
            "a second person must approve (two-person rule)"
        )
        lifecycle.apply(session, found, "approve", "minh", settings=settings)
    with shipped() as session:
        version = session.scalars(select(CampaignVersion)).one()
        assert (version.drafted_by, version.submitted_by, version.approved_by) == ("lan", "hoa", "minh")
        assert len(version.fingerprint) == 64
        assert "goi-gia-danh/vi/sms.txt.j2" in version.content["templates"]


def test_everyone_who_changed_a_version_is_its_author_and_none_of_them_approves_it(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """lan drafts, minh (who may approve) edits the text, lan submits: minh may not approve his own words."""
    campaign_id = emergency_sms_now(shipped, settings, tmp_path, "draft")
    revise_sms(shipped, settings, campaign_id, ORIGINAL, "", "minh")
    with transaction(shipped) as session:
        found = session.get_one(Campaign, campaign_id)
        lifecycle.apply(session, found, "submit", "lan", settings=settings)
        with pytest.raises(TransitionRefused, match="'minh' wrote part of version 1"):
            lifecycle.apply(session, found, "approve", "minh", settings=settings)
        lifecycle.apply(session, found, "approve", "hoa", settings=settings)
    with shipped() as session:
        version = session.scalars(select(CampaignVersion)).one()
        assert version.authors == ["lan", "minh"] and version.approved_by == "hoa"
    edit_entry = [entry for entry in audit(shipped, campaign_id) if entry.action == "edit"][-1]
    assert edit_entry.actor == "minh" and edit_entry.details["changes"][0]["template"] == SMS_TEXT


def test_the_cli_previews_the_approved_text_and_reports_an_issuer_changed_since_without_stopping_it(
    cli: Cli, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    cli.env["BROADCASTER_CONTENT_DIR"] = str(content)
    import_shipped_with_cli(cli)
    assert cli("user", "add", "hoa", "--role", "drafter", "--no-password").exit_code == 0
    slug = "canh-bao-goi-gia-danh-lan-2"
    assert cli("campaign", "add", CONTENT / "campaigns" / f"{slug}.yaml", "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", slug, "--as", "hoa").exit_code == 0
    assert cli("campaign", "approve", slug, "--as", "minh").exit_code == 0
    template = content / "templates" / SMS_TEXT
    template.write_text(template.read_text(encoding="utf-8").replace(ORIGINAL, ""), encoding="utf-8")
    issuer = tmp_path / "tay-ninh-stttt.yaml"
    profile = (CONTENT.parent / "config" / "issuers" / "tay-ninh-stttt.yaml").read_text(encoding="utf-8")
    issuer.write_text(profile.replace("02763813111", "02763813112"), encoding="utf-8")
    assert cli("directory", "import", "issuers", issuer).exit_code == 0

    assert "ket ban Zalo" in cli("campaign", "preview", slug, "--channel", "sms").stdout  # the approved text
    shown = cli("campaign", "show", slug).stdout
    assert "version 1 (sha256 " in shown and "submitted by hoa · approved by minh" in shown

    check = cli("campaign", "check", "--as", "lan")
    assert check.exit_code == 0, check.output
    assert f"campaign '{slug}' would send something else now (issuer.hotlines" in check.stdout
    assert "its approved version keeps sending" in check.stdout
    assert "status approved" in cli("campaign", "show", slug).stdout


def test_loading_the_file_of_an_approved_campaign_again_makes_a_revision(cli: Cli) -> None:
    import_shipped_with_cli(cli)
    slug = "canh-bao-goi-gia-danh-lan-2"
    path = CONTENT / "campaigns" / f"{slug}.yaml"
    assert cli("campaign", "add", path, "--as", "lan").exit_code == 0
    assert cli("campaign", "submit", slug, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", slug, "--as", "minh").exit_code == 0
    changed = path.read_text(encoding="utf-8").replace("priority: priority", "priority: emergency")
    (cli.cwd / "changed.yaml").write_text(changed, encoding="utf-8")

    again = cli("campaign", "add", cli.cwd / "changed.yaml", "--as", "lan")
    assert again.exit_code == 0, again.output
    assert f"campaign '{slug}' (approved) has a revision with this file's content" in again.stdout
    assert "status approved" in cli("campaign", "show", slug).stdout
    assert cli("campaign", "submit", slug, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", slug, "--as", "minh").exit_code == 0
    assert "priority emergency" in cli("campaign", "show", slug).stdout
