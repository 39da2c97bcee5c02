"""English names and locales in the directory (issue 24): agencies and pages imported with them, issuer
profiles carrying them, and the fan-out giving each agency and page its own locale — the campaign's first
when it has none, so what existing entries receive does not change."""

from __future__ import annotations

import codecs
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.models import Agency, Campaign, Delivery, FacebookPage, Issuer
from broadcaster.outbox import expand
from broadcaster.rendering import Composer, recipient_context
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from channels.base import AgencyFacts, Recipient
from tests.scenario import campaign, local

AGENCIES = (
    "Tên đơn vị,Email,Nhóm,Khu vực,Tên tiếng Anh,Ngôn ngữ\n"
    "Sở Y tế,soyte@tayninh.example,thu-tieng-anh,tay-ninh,Tây Ninh Department of Health,EN\n"
    "Sở Tư pháp,sotuphap@tayninh.example,thu-tieng-anh,tay-ninh,,\n"
)


def import_agencies(sessions: sessionmaker[Session], folder: Path, text: str) -> directory.ImportReport:
    path = folder / "agencies.csv"
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    with transaction(sessions) as session:
        return directory.import_agencies(session, path)


def agencies(sessions: sessionmaker[Session]) -> dict[str, tuple[str | None, str | None]]:
    with sessions() as session:
        return {agency.key: (agency.name_en, agency.locale) for agency in session.scalars(select(Agency))}


def test_agencies_are_imported_with_their_english_name_and_locale(
    shipped: sessionmaker[Session], tmp_path: Path
) -> None:
    report = import_agencies(shipped, tmp_path, AGENCIES)
    assert report.rejects == []
    found = agencies(shipped)
    assert found["so-y-te"] == ("Tây Ninh Department of Health", "en")  # the locale in its standard spelling
    assert found["so-tu-phap"] == (None, None)  # no locale: the campaign's first


def test_a_file_without_the_columns_leaves_them_and_an_empty_cell_clears_them(
    shipped: sessionmaker[Session], tmp_path: Path
) -> None:
    import_agencies(shipped, tmp_path, AGENCIES)
    import_agencies(shipped, tmp_path, "Tên đơn vị,Email,Nhóm\nSở Y tế,soyte@tayninh.example,thu-tieng-anh\n")
    assert agencies(shipped)["so-y-te"] == ("Tây Ninh Department of Health", "en")
    report = import_agencies(
        shipped, tmp_path, "Tên đơn vị,Email,English name,Ngôn ngữ\nSở Y tế,soyte@tayninh.example,,\n"
    )
    assert report.updated == 1 and agencies(shipped)["so-y-te"] == (None, None)


def test_a_locale_that_is_no_language_rejects_its_row_in_one_sentence(
    shipped: sessionmaker[Session], tmp_path: Path
) -> None:
    report = import_agencies(shipped, tmp_path, "Tên đơn vị,Email,Ngôn ngữ\nSở Y tế,soyte@tayninh.example,../en\n")
    ((line, reason, _),) = report.rejects
    assert line == 2 and reason.startswith("the agency's English name or locale: '../en' is not a language tag")


def test_pages_are_imported_with_their_english_name_and_locale(shipped: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "pages.csv"
    path.write_text(
        "slug,page_id,name,token_secret,English name,locale\n"
        "tay-ninh-en,100064000000009,Sở TT&TT Tây Ninh (English),BROADCASTER_FACEBOOK_TOKEN_TAY_NINH,"
        "Tây Ninh Department of Information and Communications,en\n",
        encoding="utf-8",
    )
    with transaction(shipped) as session:
        assert directory.import_pages(session, path).rejects == []
    with shipped() as session:
        page = session.scalars(select(FacebookPage).where(FacebookPage.slug == "tay-ninh-en")).one()
        assert (page.name_en, page.locale) == ("Tây Ninh Department of Information and Communications", "en")
        shipped_page = session.scalars(select(FacebookPage).where(FacebookPage.slug == "sotttt-tay-ninh")).one()
        assert (shipped_page.name_en, shipped_page.locale) == (None, None)


def test_the_shipped_issuers_carry_their_english_names_and_hotline_labels(shipped: sessionmaker[Session]) -> None:
    with shipped() as session:
        issuer = session.scalars(select(Issuer).where(Issuer.slug == "tay-ninh-stttt")).one()
        assert issuer.english["unit"] == "DEPARTMENT OF INFORMATION AND COMMUNICATIONS"
        # DOMAIN §1: the two reporting lines, the Inspectorate and the IT & Posts-Telecom office.
        assert [(h["label"], h["label_en"]) for h in issuer.hotlines] == [
            ("Thanh tra Sở", "Department Inspectorate"),
            ("Phòng CNTT-BCVT", "Office of Information Technology and Posts and Telecommunications"),
        ]


def test_a_hotline_without_english_is_stored_as_before(shipped: sessionmaker[Session]) -> None:
    """What citizens are told is genuine is compared as stored: no empty English keys that would make a
    re-import of an unchanged profile look like a change waiting for approval."""
    profile = directory.IssuerProfile.model_validate(
        {
            "issuer": "thu",
            "body": "UBND TỈNH TÂY NINH",
            "unit": "SỞ THÔNG TIN VÀ TRUYỀN THÔNG",
            "unit_name": "Sở Thông tin và Truyền thông",
            "unit_short": "Sở TT&TT",
            "symbol": "STTTT",
            "place": "Tây Ninh",
            "signer": {"title": "GIÁM ĐỐC"},
            "hotlines": [{"number": "02763631168", "label": "Thanh tra Sở"}],
        }
    )
    assert directory.issuer_numbers(profile)["hotlines"] == [
        {"number": "02763631168", "label": "Thanh tra Sở", "contact": ""}
    ]


def test_in_english_a_recipient_is_named_by_its_english_name() -> None:
    agency = Recipient("a@b.example", AgencyFacts(name_en="Department of Health"), "Sở Y tế")
    assert recipient_context(agency, "en")["name"] == "Department of Health"
    assert recipient_context(agency, "vi")["name"] == "Sở Y tế"
    assert recipient_context(Recipient("c@b.example", AgencyFacts(), "Sở Tư pháp"), "en")["name"] == ("Sở Tư pháp")


@pytest.mark.parametrize("locales", [["vi", "en"], None])
def test_the_fan_out_gives_each_agency_its_locale_and_the_others_the_campaigns_first(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path, locales: list[str] | None
) -> None:
    import_agencies(shipped, tmp_path, AGENCIES)
    now = system_now()
    email = {"to": ["group:thu-tieng-anh"], "schedule": [{"at": local(now, settings)}]}
    campaign_id = campaign(
        shipped,
        settings,
        {"email": email},
        priority="emergency",
        sendable_since=now - timedelta(hours=1),
        locales=locales,
    )
    with transaction(shipped) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    expand(shipped, settings, 1)
    with shipped() as session:
        rows = {row.address: row for row in session.scalars(select(Delivery))}
        assert rows["sotuphap@tayninh.example"].locale == "vi"  # none of its own: the campaign's first
        assert rows["soyte@tayninh.example"].locale == "en"  # what the row records; the composer decides below
        saved = session.get_one(Campaign, campaign_id)
        composer = Composer.for_campaign(saved, saved.channels[0], settings)
        english = Recipient("soyte@tayninh.example", AgencyFacts(), "Sở Y tế", "en")
        # A locale the campaign lacks gives way to its first: a Vietnamese campaign stays Vietnamese.
        assert composer.locale_for(english) == ("en" if locales else "vi")
