"""CAP 1.2 export: approved campaigns as alerts that pass the OASIS schema (DOMAIN §10, §14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle, revisions
from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign, save_or_revise
from broadcaster.campaigns.store import find_campaign
from broadcaster.cap.alerts import alert_for_campaign
from broadcaster.cap.export import alert_xml
from broadcaster.cap.mapping import NAMESPACE, RESPONSE, priority_of
from broadcaster.cap.schema import check_alert
from broadcaster.db import transaction
from broadcaster.errors import NotFound
from broadcaster.examples import example_campaigns
from broadcaster.settings import Settings
from tests.conftest import Cli, import_shipped_with_cli

TAY_NINH = "canh-bao-goi-gia-danh-lan-2"
BINH_PHUOC = "canh-giac-goi-dien-moi-lam-viec"
NS = {"cap": NAMESPACE}


def load_all(sessions: sessionmaker[Session], settings: Settings, approve: bool = True) -> None:
    with transaction(sessions) as session:
        for path in example_campaigns():
            campaign, _ = save_campaign(session, load_campaign_file(path), "lan", settings)
            if approve:
                lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
                lifecycle.apply(session, campaign, "approve", "minh", settings=settings)


def export(sessions: sessionmaker[Session], settings: Settings, slug: str) -> etree._Element:
    with transaction(sessions) as session:
        document = alert_xml(session, alert_for_campaign(session, slug, settings), settings)
    assert check_alert(document) == []
    return etree.fromstring(document)


def text(element: etree._Element, path: str) -> str:
    return str(element.findtext(path, namespaces=NS))


@pytest.mark.parametrize("slug", [TAY_NINH, BINH_PHUOC])
def test_both_shipped_campaigns_export_as_valid_cap_with_vietnamese_and_english_info(
    shipped: sessionmaker[Session], settings: Settings, slug: str
) -> None:
    load_all(shipped, settings)
    alert = export(shipped, settings, slug)
    assert text(alert, "cap:status") == "Actual"
    assert text(alert, "cap:msgType") == "Alert"
    assert text(alert, "cap:scope") == "Public"
    assert alert.find("cap:references", NS) is None
    languages = [text(info, "cap:language") for info in alert.findall("cap:info", NS)]
    assert languages == ["vi-VN", "en-US"]  # DOMAIN §14: one <info> per language, Vietnamese first
    vietnamese, english = alert.findall("cap:info", NS)
    assert text(vietnamese, "cap:event") == "Lừa đảo mạo danh"
    assert text(english, "cap:event") == "Impersonation scam"
    for name in ("effective", "expires", "urgency", "severity", "certainty", "category", "web"):
        assert text(vietnamese, f"cap:{name}") == text(english, f"cap:{name}")  # DOMAIN §14: the same in each
    # The same numbers, each info naming them in its language.
    assert re.findall(r"\d{10,}", text(vietnamese, "cap:contact")) == re.findall(
        r"\d{10,}", text(english, "cap:contact")
    )
    assert "Department Inspectorate: " in text(english, "cap:contact")
    assert text(english, "cap:senderName").endswith(" Department of Information and Communications")


def test_the_tay_ninh_alert_carries_the_letter_its_validity_hotlines_and_area(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings)
    alert = export(shipped, settings, TAY_NINH)
    info = alert.findall("cap:info", NS)[0]
    assert text(info, "cap:category") == "Safety"
    # priority → (Expected, Moderate, Likely): the documented mapping.
    assert (text(info, "cap:urgency"), text(info, "cap:severity"), text(info, "cap:certainty")) == RESPONSE["priority"]
    # DOMAIN §14: explicit offsets; the window runs from 14/05/2024 00:00 to the end of 14/06/2024.
    assert text(info, "cap:effective") == "2024-05-14T00:00:00+07:00"
    assert text(info, "cap:expires") == "2024-06-15T00:00:00+07:00"
    assert text(info, "cap:headline").startswith("Cảnh báo cuộc gọi giả danh lãnh đạo Sở TT&TT Tây Ninh")
    assert "881/STTTT-TTr ngày 14/5/2024" in text(info, "cap:description")
    assert "0276 3631 168" in text(info, "cap:instruction")
    assert text(info, "cap:contact") == "Thanh tra Sở: 02763631168; Phòng CNTT-BCVT: 02763813111"
    assert text(info, "cap:web") == "http://127.0.0.1:8000/tra-cuu/canh-bao/canh-bao-goi-gia-danh-lan-2"
    assert text(info, "cap:senderName") == "Sở Thông tin và Truyền thông Tây Ninh"
    parameters = {text(p, "cap:valueName"): text(p, "cap:value") for p in info.findall("cap:parameter", NS)}
    assert parameters == {"letterNumber": "881/STTTT-TTr", "letterDate": "2024-05-14"}
    areas = info.findall("cap:area", NS)
    assert [(text(a, "cap:areaDesc"), text(a, "cap:geocode/cap:value")) for a in areas] == [
        ("Tỉnh Tây Ninh", "tay-ninh")
    ]
    assert text(alert, "cap:sent").endswith("+07:00")


def test_identifiers_are_stable_and_name_the_installation_and_the_campaign(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings)
    first = export(shipped, settings, TAY_NINH)
    again = export(shipped, settings, TAY_NINH)
    assert text(first, "cap:identifier") == text(again, "cap:identifier") == "127.0.0.1.canh-bao-goi-gia-danh-lan-2.1"
    assert text(first, "cap:sent") == text(again, "cap:sent")
    other = settings.model_copy(update={"cap_sender": "canhbao.tayninh.gov.vn"})
    named = text(export(shipped, other, TAY_NINH), "cap:identifier")
    assert named == "canhbao.tayninh.gov.vn.canh-bao-goi-gia-danh-lan-2.1"
    assert text(export(shipped, settings, BINH_PHUOC), "cap:identifier") != text(first, "cap:identifier")


def test_a_new_approval_is_an_update_and_a_cancel_references_every_alert_before_it(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings)
    original = export(shipped, settings, TAY_NINH)
    with transaction(shipped) as session:
        campaign = find_campaign(session, TAY_NINH)
        spec = load_campaign_file(example_campaigns()[0])
        changed = spec.model_copy(update={"subject": spec.subject + " — bổ sung"})
        save_or_revise(session, changed, "lan", settings)  # a revision, approved beside the version in force
        revisions.submit(session, campaign, "lan", settings)
        revisions.approve(session, campaign, "minh", settings)
    update = export(shipped, settings, TAY_NINH)
    original_ref = ",".join(text(original, f"cap:{name}") for name in ("sender", "identifier", "sent"))
    assert text(update, "cap:msgType") == "Update"
    assert text(update, "cap:references") == original_ref  # DOMAIN §14: an Update references the original
    assert text(update, "cap:identifier").endswith(".2")
    with transaction(shipped) as session:
        lifecycle.apply(session, find_campaign(session, TAY_NINH), "cancel", "minh", settings=settings)
    cancel = export(shipped, settings, TAY_NINH)
    update_ref = ",".join(text(update, f"cap:{name}") for name in ("sender", "identifier", "sent"))
    assert text(cancel, "cap:msgType") == "Cancel"
    assert text(cancel, "cap:references") == f"{original_ref} {update_ref}"
    assert cancel.findall("cap:info", NS) == []


def test_a_test_campaign_is_marked_test_and_an_exercise_exercise(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(shipped) as session:
        spec = load_campaign_file(example_campaigns()[0])
        data = spec.normalised()
        data["cap"] = {"status": "Test"}
        campaign, _ = save_campaign(session, type(spec).model_validate(data), "lan", settings)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
    assert text(export(shipped, settings, TAY_NINH), "cap:status") == "Test"


def test_a_draft_has_no_alert_and_a_changed_campaign_none_until_approved_again(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings, approve=False)
    with transaction(shipped) as session, pytest.raises(NotFound, match="is draft and has never been approved"):
        alert_for_campaign(session, TAY_NINH, settings)


def test_the_priority_mapping_reads_back_the_priority_it_wrote() -> None:
    for priority, (urgency, severity, certainty) in RESPONSE.items():
        assert priority_of(urgency, severity, certainty) == priority
    assert priority_of("Immediate", "Minor", "Possible") == "emergency"
    assert priority_of("Unknown", "Unknown", "Unknown") == "ordinary"


def test_cap_export_on_the_command_line_writes_a_valid_file_or_says_why_not(cli: Cli, tmp_path: Path) -> None:
    import_shipped_with_cli(cli)
    assert cli("campaign", "add", *example_campaigns(), "--as", "lan").exit_code == 0
    refused = cli("cap", "export", TAY_NINH)
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        f"error: campaign '{TAY_NINH}' is draft and has never been approved, so it has no CAP alert"
    )
    assert cli("campaign", "submit", TAY_NINH, "--as", "lan").exit_code == 0
    assert cli("campaign", "approve", TAY_NINH, "--as", "minh").exit_code == 0
    target = tmp_path / "alert.xml"
    run = cli("cap", "export", TAY_NINH, "--output", target)
    assert run.exit_code == 0, run.output
    assert "wrote CAP Alert 127.0.0.1.canh-bao-goi-gia-danh-lan-2.1" in run.stdout
    assert check_alert(target.read_bytes()) == []
    checked = cli("cap", "check", target)
    assert checked.exit_code == 0 and "is a valid CAP 1.2 alert" in checked.stdout
    unknown = cli("cap", "export", "khong-co")
    assert unknown.exit_code == 1 and "there is no campaign 'khong-co'" in unknown.stderr
