"""A Zalo OA's ZNS templates in the directory, and a campaign's Zalo values checked against them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.accounts import ROLES, Actor
from broadcaster.campaigns.file import load_campaign_file, parse_campaign
from broadcaster.campaigns.store import CampaignParts, check_parts
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.operations.composer import ChannelForm, form_of
from broadcaster.operations.composer_live import check_text
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from tests.conftest import CONTENT
from tests.helpers import wait_for
from tests.scenario import campaign, local, subscriber_list

LAN = Actor("lan", ROLES["drafter"])
TEMPLATES = """\
Mã mẫu,Tên mẫu,Tham số,Nội dung,OA
2056446,Cảnh báo lừa đảo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>,1397492183140006179
2056447,Sai tham số,ten=abc,<ten>,1397492183140006179
2056448,Tham số lạ trong nội dung,ten:30,<ten> <ngay>,1397492183140006179
mau-1,Mã không phải số,ten:30,<ten>,1397492183140006179
"""


def imported(sessions: sessionmaker[Session], content: str = TEMPLATES) -> directory.ImportReport:
    with transaction(sessions) as session:
        return directory.import_csv(session, "zalo-templates", Upload.of_bytes("zns.csv", content.encode()))


def test_templates_are_imported_with_their_parameters_and_bad_rows_say_why(sessions: sessionmaker[Session]) -> None:
    report = imported(sessions)
    assert report.new == 1
    reasons = [reason for _, reason, _ in report.rejects]
    assert "template 2056447: 'ten=abc' is not a parameter as name:maximum length (ten:30)" in reasons
    assert "template 2056448's text names <ngay>, which is not among its parameters" in reasons
    assert "template id 'mau-1' must be the ZNS template's numeric id" in reasons
    with sessions() as session:
        template = directory.provider_template(session, "zalo", "2056446")
    assert template is not None and template.params == (("ten", 30), ("noi_dung", 400))
    assert imported(sessions).unchanged == 1  # the same file again changes nothing


def check(sessions: sessionmaker[Session], settings: Settings, zalo: dict[str, Any]) -> list[str]:
    today = settings.today()
    data = {
        "campaign": "zalo-mau",
        "issuer": "tay-ninh-stttt",
        "number": "881/STTTT-TTr",
        "subject": "cảnh báo",
        "priority": "priority",
        "valid": {"from": today, "until": today + timedelta(days=3)},
        "template": "goi-gia-danh",
        "channels": {
            "zalo": {"to": ["list:zalo-mau"], "schedule": [{"at": f"{today + timedelta(days=1)} 09:00:00"}], **zalo}
        },
    }
    parts = CampaignParts.salvage(data)
    parse_campaign(data, "zalo-mau")
    with sessions() as session:
        problems, _ = check_parts(session, parts, settings)
    return [str(problem) for problem in problems]


@pytest.fixture
def with_templates(shipped: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    imported(shipped)
    subscriber_list(shipped, tmp_path, "zalo-mau", ["0912345678"])
    return shipped


def test_a_campaign_gives_every_parameter_within_its_length(
    with_templates: sessionmaker[Session], settings: Settings
) -> None:
    good = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
    assert check(with_templates, settings, good) == []
    problems = check(with_templates, settings, {**good, "params": {"ten": "x" * 31, "ngay": "7/12"}})
    assert "channels.zalo.template_id: the value of 'ten' is 31 characters, over the template's 30" in problems
    assert "channels.zalo.template_id: ZNS template 2056446 has no parameter 'ngay'" in problems
    missing = check(with_templates, settings, {"template_id": "2056446", "params": {"ten": "Sở"}})
    assert missing == ["channels.zalo.template_id: ZNS template 2056446 needs a value for 'noi_dung'"]
    unknown = check(with_templates, settings, {**good, "template_id": "999"})
    assert unknown == [
        "channels.zalo.template_id: the directory has no ZNS template 999: import the OA's templates "
        "(broadcaster directory import zalo-templates FILE)"
    ]


def test_a_zalo_campaign_goes_out_through_the_worker(
    with_templates: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """The whole way: a checked and approved campaign, its fire, the worker, the file dialect's lines."""
    now = settings.clock.now()
    subscriber_list(with_templates, tmp_path, "bulk", ["0912345678", "0987654321"])
    zalo = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
    at = [{"at": local(now, settings)}]
    campaign(
        with_templates,
        settings,
        {"zalo": {"to": ["list:bulk"], **zalo, "schedule": at}},
        priority="emergency",
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(with_templates) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    worker = Worker(with_templates, settings, ["zalo"], "test-worker")

    def all_sent() -> bool:
        worker.drain(timeout=5)
        with with_templates() as session:
            return set(session.scalars(select(Delivery.state).where(Delivery.channel == "zalo"))) == {"sent"}

    wait_for(all_sent, 60, "every Zalo message to be written")
    [written] = (settings.output_dir / "zalo").glob("*.jsonl")
    lines = [json.loads(line) for line in written.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["to"] for line in lines) == ["+84912345678", "+84987654321"]
    data = lines[0]["template_data"]
    assert lines[0]["template_id"] == "2056446" and data["ten"] == "Sở TT&TT Tây Ninh"
    assert data["noi_dung"].startswith("Kẻ gian giả danh") and "\n" not in data["noi_dung"]


def test_a_rendered_text_over_its_parameters_length_is_refused(
    with_templates: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    short = "Mã mẫu,Tên mẫu,Tham số\n2056449,Ngắn,ten:30; noi_dung:40\n"
    imported(with_templates, short)
    now = settings.clock.now()
    zalo = {"template_id": "2056449", "params": {"ten": "Sở TT&TT"}, "text_param": "noi_dung"}
    channels = {
        "zalo": {"to": ["list:zalo-mau"], **zalo, "schedule": [{"at": local(now + timedelta(days=1), settings)}]}
    }
    with pytest.raises(AssertionError, match=r"the Zalo text is \d+ characters, over the 40 that ZNS template 2056449"):
        campaign(with_templates, settings, channels, sendable_since=now - timedelta(hours=1))


def test_the_composer_shows_the_message_as_it_will_look(
    with_templates: sessionmaker[Session], settings: Settings
) -> None:
    form = form_of(load_campaign_file(CONTENT / "campaigns" / "canh-bao-goi-gia-danh-lan-2.yaml").normalised())
    options = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}
    form.channels["zalo"] = ChannelForm(audience=["list:zalo-mau"], options=options)
    text = "Giả danh lãnh đạo Sở là LỪA ĐẢO. Báo tin: {{ issuer.hotline.number }}"
    with with_templates() as session:
        checked = check_text(session, LAN, settings, form, "zalo", "vi", text)
        too_long = check_text(session, LAN, settings, form, "zalo", "vi", text + " lừa đảo" * 60)
    assert checked.problems == []
    assert checked.rendered.startswith("Sở TT&TT Tây Ninh cảnh báo: Giả danh lãnh đạo Sở là LỪA ĐẢO. Báo tin: ")
    assert any("over the 400 that ZNS template 2056446 allows for 'noi_dung'" in p for p in too_long.problems)
