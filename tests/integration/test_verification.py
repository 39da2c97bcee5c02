"""The public verification page's answers: numbers, current warnings, letters — approved content only."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import verification
from broadcaster.campaigns import lifecycle, revisions
from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.revisions import save_campaign, save_or_revise
from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.examples import example_campaigns
from broadcaster.rendering import Composer
from broadcaster.settings import Settings
from channels.base import PageFacts, Recipient
from tests.integration.test_cap_export import BINH_PHUOC, TAY_NINH, load_all

IN_MAY = date(2024, 5, 20)


@pytest.mark.parametrize(
    "written", ["02763631168", "0276 3631 168", "+84 276 3631 168", "0276.3631.168", "84-276-3631-168"]
)
def test_an_official_hotline_is_recognised_however_it_is_written(shipped: sessionmaker[Session], written: str) -> None:
    with transaction(shipped) as session:
        answer = verification.check_number(session, written)
    assert answer.is_number
    assert [(line.number, line.purpose, line.hotline) for line in answer.matches] == [
        ("0276 3631 168", "Thanh tra Sở", True)
    ]
    assert answer.matches[0].issuer == "Sở Thông tin và Truyền thông Tây Ninh"


def test_an_unknown_number_is_not_official_and_the_answer_gives_the_hotlines_to_report_to(
    shipped: sessionmaker[Session],
) -> None:
    with transaction(shipped) as session:
        answer = verification.check_number(session, "0912 345 678")
        garbage = verification.check_number(session, "gọi lại cho tôi")
    assert answer.is_number and answer.matches == []
    assert [line.number for line in answer.report_to] == ["0888 596 677", "0276 3631 168", "0276 3813 111"]
    assert not garbage.is_number and garbage.matches == []


def test_current_warnings_are_approved_campaigns_within_their_validity(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings, approve=False)
    with transaction(shipped) as session:
        assert verification.current_warnings(session, settings, IN_MAY) == []  # drafts are never shown
        campaign = find_campaign(session, TAY_NINH)
        lifecycle.apply(session, campaign, "submit", "lan", settings=settings)
        lifecycle.apply(session, campaign, "approve", "minh", settings=settings)
    with transaction(shipped) as session:
        warnings = verification.current_warnings(session, settings, IN_MAY)
        assert [(w.number, w.dated, w.state) for w in warnings] == [("881/STTTT-TTr", date(2024, 5, 14), "in-force")]
        assert warnings[0].url == "http://127.0.0.1:8000/tra-cuu/canh-bao/canh-bao-goi-gia-danh-lan-2"
        assert verification.current_warnings(session, settings, date(2024, 6, 15)) == []  # past its validity


def test_a_real_letter_is_found_by_number_and_date_and_an_invented_one_is_not(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings)
    with transaction(shipped) as session:
        letter = verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 14), IN_MAY)
        assert letter is not None
        assert "Số: 881/STTTT-TTr" in letter.text
        assert "Tây Ninh, ngày 14 tháng 5 năm 2024" in letter.text
        assert verification.find_letter(session, settings, " 881/sttttt-ttr", date(2024, 5, 14), IN_MAY) is None
        assert verification.find_letter(session, settings, "881", date(2024, 5, 14), IN_MAY) is not None
        assert verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 15), IN_MAY) is None
        assert verification.find_letter(session, settings, "999/STTTT-TTr", date(2024, 5, 14), IN_MAY) is None
        # The unsigned Bình Phước draft has no number: nothing can match it.
        assert verification.find_letter(session, settings, "/STTTT-TTra", date(2024, 9, 16), IN_MAY) is None


def test_a_draft_or_submitted_letter_is_never_found(shipped: sessionmaker[Session], settings: Settings) -> None:
    load_all(shipped, settings, approve=False)
    with transaction(shipped) as session:
        assert verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 14), IN_MAY) is None
        lifecycle.apply(session, find_campaign(session, TAY_NINH), "submit", "lan", settings=settings)
    with transaction(shipped) as session:
        assert verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 14), IN_MAY) is None
        assert verification.published_campaign(session, TAY_NINH) is None


def test_a_revision_is_not_shown_until_it_is_approved_and_a_cancelled_letter_is_withdrawn(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    load_all(shipped, settings)
    with transaction(shipped) as session:
        spec = load_campaign_file(example_campaigns()[0])
        save_or_revise(session, spec.model_copy(update={"subject": spec.subject + " (sửa)"}), "lan", settings)
    with transaction(shipped) as session:
        letter = verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 14), IN_MAY)
        assert letter is not None and "(lần 2)\n" in letter.text and "(sửa)" not in letter.text  # the approved one
        campaign = find_campaign(session, TAY_NINH)
        revisions.submit(session, campaign, "lan", settings)
        assert "(sửa)" not in verification.letter_of(session, campaign, settings, IN_MAY).text  # submitted only
        revisions.approve(session, campaign, "minh", settings)
    with transaction(shipped) as session:
        letter = verification.find_letter(session, settings, "881/STTTT-TTr", date(2024, 5, 14), IN_MAY)
        assert letter is not None and "(lần 2) (sửa)" in letter.text
        lifecycle.apply(session, find_campaign(session, BINH_PHUOC), "cancel", "minh", settings=settings)
    with transaction(shipped) as session:  # cancelled while approved: shown, as withdrawn
        campaign = verification.published_campaign(session, BINH_PHUOC)
        assert campaign is not None
        assert verification.warning_of(campaign, settings, IN_MAY).state == "withdrawn"


def test_registered_official_numbers_are_recognised_with_their_purpose(
    shipped: sessionmaker[Session], tmp_path: Path
) -> None:
    from broadcaster import directory
    from tests.conftest import CONFIG

    profile = (CONFIG / "issuers" / "tay-ninh-stttt.yaml").read_text(encoding="utf-8")
    profile += "official_numbers:\n  - {number: 0276 3822 123, purpose: Văn phòng Sở (tổng đài)}\n"
    path = tmp_path / "tay-ninh-stttt.yaml"
    path.write_text(profile, encoding="utf-8")
    with transaction(shipped) as session:
        directory.import_issuer(session, path)
    with transaction(shipped) as session:
        answer = verification.check_number(session, "+84 276 3822 123")
    assert [(line.number, line.purpose, line.hotline) for line in answer.matches] == [
        ("0276 3822 123", "Văn phòng Sở (tổng đài)", False)
    ]
    assert "0276 3822 123" not in [line.number for line in answer.report_to]  # not a line to report scams to


def test_facebook_and_email_bulletins_may_link_the_verification_page_and_sms_and_radio_never(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    import shutil

    from broadcaster.campaigns.store import check_campaign
    from tests.conftest import CONTENT

    shutil.copytree(CONTENT, tmp_path / "content")
    own = settings.model_copy(update={"content_dir": tmp_path / "content", "public_url": "https://canhbao.example.vn"})
    folder = own.templates_dir / "goi-gia-danh" / "vi"
    post = (folder / "facebook.txt.j2").read_text(encoding="utf-8")
    (folder / "facebook.txt.j2").write_text(post + "\nKiểm tra tại: {{ verification_url }}\n", encoding="utf-8")
    spec = load_campaign_file(example_campaigns()[0])
    with transaction(shipped) as session:
        assert check_campaign(session, spec, own) == []
        campaign, _ = save_campaign(session, spec, "lan", own)
        facebook = next(channel for channel in campaign.channels if channel.channel == "facebook")
        composer = Composer.for_campaign(campaign, facebook, own)
        page = Recipient("100064000000001", PageFacts(), "Sở TT&TT Tây Ninh", "vi")
        bulletin = composer.compose("k", page, datetime(2024, 5, 16, 19, tzinfo=own.zone))
        assert (
            "Kiểm tra tại: https://canhbao.example.vn/tra-cuu/canh-bao/canh-bao-goi-gia-danh-lan-2"
            in (bulletin.parts["txt"])
        )
    with transaction(shipped) as session:
        texts = dict(find_campaign(session, spec.campaign).texts)
        texts["goi-gia-danh/vi/sms.txt.j2"] = texts["goi-gia-danh/vi/sms.txt.j2"].strip() + " {{ verification_url }}\n"
        problems = [str(problem) for problem in check_campaign(session, spec, own, texts)]
    assert problems == [
        "template: template goi-gia-danh/vi/sms.txt.j2 line 1 uses 'verification_url', a link, which this "
        "channel never carries (links are for e-mail and Facebook)"
    ]
