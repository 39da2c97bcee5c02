"""The campaign composer's back end: a campaign as a form, the timetable read back, texts checked and kept."""

from __future__ import annotations

import shutil
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.accounts import ROLES, Actor
from broadcaster.campaigns import versions
from broadcaster.campaigns.file import load_campaign_file
from broadcaster.campaigns.store import find_campaign
from broadcaster.campaigns.texts import starting_texts
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import Campaign, Status
from broadcaster.operations import campaigns as campaign_ops
from broadcaster.operations.composer import (
    CampaignForm,
    export_yaml,
    field_of,
    form_of,
    import_file,
    save_form,
    texts_of,
)
from broadcaster.operations.composer_live import check_text, count_audience, echo_timetable
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from broadcaster.timetable_choices import RuleChoice, choice_of_rule, describe
from tests.conftest import CONTENT

SHIPPED = sorted((CONTENT / "campaigns").glob("*.yaml"))
LAN = Actor("lan", ROLES["drafter"])
TODAY = date(2026, 12, 9)  # the day the audience is counted on (areas as they stand then)
MINH = Actor("minh", ROLES["approver"])


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content folder: the composer writes templates, never into the package."""
    folder = tmp_path / "content"
    shutil.copytree(CONTENT, folder)
    return folder


@pytest.fixture
def composer_settings(database_url: str, tmp_path: Path, content: Path) -> Settings:
    return Settings(database_url=database_url, output_dir=tmp_path / "out", content_dir=content)


@pytest.fixture
def directory(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with transaction(sessions) as session:
        import_examples(session)
    return sessions


def shipped_form(name: str = "canh-bao-goi-gia-danh-lan-2") -> CampaignForm:
    return form_of(load_campaign_file(CONTENT / "campaigns" / f"{name}.yaml").normalised())


# ---- the form holds exactly what a file holds ----------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_a_shipped_campaign_file_goes_through_the_form_and_comes_out_unchanged(path: Path) -> None:
    original = load_campaign_file(path)
    form = import_file(path.read_bytes(), path.name)
    exported = campaign_ops.read_upload(export_yaml(form).encode("utf-8"), "exported.yaml")
    assert exported.normalised() == original.normalised()
    assert form.data() == original.normalised()


def test_weekly_choices_are_written_as_cron_numbers_them_so_thu_hai_and_thu_nam_are_monday_and_thursday() -> None:
    # The trap of UX.md: "2,5" meant for Thứ 2 and Thứ 5 is Tuesday and Friday to cron.
    choice = RuleChoice("weekly", at=time(19, 0), weekdays=[0, 3])
    assert choice.rule() == {"cron": "0 19 * * 1,4"}
    assert choice_of_rule({"cron": "0 19 * * 1,4"}) == choice
    sunday = RuleChoice("weekly", at=time(7, 30), weekdays=[6])
    assert sunday.rule()["cron"] == "30 7 * * 0"


def test_a_cron_expression_the_weekly_choice_cannot_write_back_unchanged_stays_as_written() -> None:
    for expression in ("0 19 * * 7", "0 */2 * * *", "00 19 * * 1", "0 19 1 * *"):
        choice = choice_of_rule({"cron": expression})
        assert choice.kind == "cron"
        assert choice.rule() == {"cron": expression}


def test_the_timetable_is_read_back_as_a_vietnamese_sentence_with_weekday_names() -> None:
    valid = (date(2024, 5, 14), date(2024, 6, 14))
    weekly = RuleChoice("weekly", at=time(19, 0), weekdays=[3, 0])
    assert describe(weekly, valid) == "Thứ Hai và Thứ Năm hằng tuần, lúc 19:00, từ ngày 14/05/2024 đến ngày 14/06/2024."
    assert describe(weekly, valid, "en") == "Every Monday and Thursday at 19:00, from 14/05/2024 to 14/06/2024."
    once = RuleChoice("once", on=date(2024, 5, 14), at=time(8, 0))
    assert describe(once, valid) == "Một lần, lúc 08:00 Thứ Ba 14/05/2024."
    slots = RuleChoice("slots", slots=["morning", "evening"], starts=date(2024, 5, 15), ends=date(2024, 5, 28))
    assert describe(slots, valid) == "Vào khung giờ sáng và chiều của từng đài, từ ngày 15/05/2024 đến ngày 28/05/2024."


def test_an_incomplete_timetable_choice_is_a_problem_at_its_rule() -> None:
    form = shipped_form()
    form.channels["sms"].rules = [RuleChoice("weekly", at=time(9, 0))]
    with pytest.raises(InvalidInput) as refused:
        form.data()
    assert [(p.where, p.message) for p in refused.value.problems] == [
        ("channels.sms.schedule[0]", "choose at least one weekday and the time it is sent")
    ]


def test_problem_paths_map_to_the_form_field_they_are_shown_next_to() -> None:
    assert field_of("channels.sms.schedule[1].at") == "channels.sms.schedule[1]"
    assert field_of("channels.radio.to[0]") == "channels.radio.to"
    assert field_of("channels.radio.areas[2]") == "channels.radio.areas"
    assert field_of("channels.sms.max_parts") == "channels.sms.options"
    assert field_of("channels.sms (vi, 0912345678)") == "texts.sms"
    assert field_of("valid.until") == "valid"
    assert field_of("number") == "number"
    assert field_of("issuer") == "issuer"
    assert field_of("variables.addressees") == "variables"
    assert field_of("somewhere else") == ""


# ---- live answers ------------------------------------------------------------------------------------


def test_the_next_ten_fires_of_monday_and_thursday_fall_on_mondays_and_thursdays(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    form = shipped_form()
    form.valid_from, form.valid_until = date(2030, 1, 1), date(2030, 3, 31)
    form.channels["facebook"].rules = [RuleChoice("weekly", at=time(19, 0), weekdays=[0, 3])]
    now = datetime(2029, 12, 31, 12, 0, tzinfo=composer_settings.zone)
    with directory() as session:
        echo = echo_timetable(session, composer_settings, form, "facebook", now=now)
    assert echo.sentences == ["Thứ Hai và Thứ Năm hằng tuần, lúc 19:00, từ ngày 01/01/2030 đến ngày 31/03/2030."]
    assert len(echo.fires) == 10
    assert {fire.at.weekday() for fire in echo.fires} == {0, 3}
    assert {fire.weekday for fire in echo.fires} == {"Thứ Hai", "Thứ Năm"}
    assert echo.fires[0].shown() == "Thứ Năm 03/01/2030 19:00"
    assert all(fire.at.time() == time(19, 0) for fire in echo.fires)


def test_station_slots_fire_at_each_stations_own_times(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    form = shipped_form()
    form.valid_from, form.valid_until = date(2030, 1, 1), date(2030, 1, 31)
    form.channels["radio"].rules = [RuleChoice("slots", slots=["morning"])]
    now = datetime(2029, 12, 31, 12, 0, tzinfo=composer_settings.zone)
    with directory() as session:
        echo = echo_timetable(session, composer_settings, form, "radio", now=now)
    # Tây Ninh's stations read in the morning at 05:30 and 05:45 (config/directory/stations.csv).
    assert [fire.shown() for fire in echo.fires[:2]] == ["Thứ Ba 01/01/2030 05:30", "Thứ Ba 01/01/2030 05:45"]


def test_the_audience_is_counted_as_it_will_be_reached(directory: sessionmaker[Session]) -> None:
    with directory() as session:
        listed = count_audience(session, LAN, "sms", ["list:thue-bao-tay-ninh"], [], TODAY)
        pages = count_audience(session, LAN, "facebook", ["page:sotttt-tay-ninh"], [], TODAY)
        wrong = count_audience(session, LAN, "sms", ["page:sotttt-tay-ninh", "list:khong-co"], [], TODAY)
    assert listed.recipients is not None and listed.recipients > 0
    assert pages.recipients == 1
    assert wrong.recipients is None
    assert wrong.problems == [
        "'page:sotttt-tay-ninh' names pages, but sms sends to subscribers",
        "subscriber list 'khong-co' is not in the directory",
    ]


def sms_text(words: int) -> str:
    return "Sở TT&TT cảnh báo: " + " ".join(["lừa đảo"] * words) + ". Báo tin: {{ issuer.hotline.number }}"


def test_the_sms_counter_counts_parts_with_and_without_marks_and_goes_back_to_one_part(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    # DOMAIN §2: with marks the text is UCS-2, 70 characters in one SMS and 67 per part beyond.
    form = shipped_form()
    form.channels["sms"].options = {"max_parts": 1}
    with directory() as session:
        short = check_text(session, LAN, composer_settings, form, "sms", "vi", sms_text(2))
        long = check_text(session, LAN, composer_settings, form, "sms", "vi", sms_text(6))
        back = check_text(session, LAN, composer_settings, form, "sms", "vi", sms_text(2))
    assert short.accented is not None and short.accented.encoding == "UCS-2" and short.accented.parts == 1
    assert long.accented is not None and long.accented.parts == 2 and long.accented.length > 70
    assert long.unaccented is not None and long.unaccented.encoding == "GSM-7" and long.unaccented.parts == 1
    assert any("2 parts" in problem and "max_parts is 1" in problem for problem in long.problems)
    assert back.accented == short.accented and back.problems == []


def test_a_link_and_an_unofficial_number_are_found_as_one_types(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    form = shipped_form()
    text = "Cảnh báo lừa đảo: gọi 0912345678 hoặc xem http://lua-dao.example.com. Báo tin: {{ issuer.hotline.number }}"
    with directory() as session:
        checked = check_text(session, LAN, composer_settings, form, "sms", "vi", text)
        broken = check_text(session, LAN, composer_settings, form, "sms", "vi", "{{ issuer.hotline.number ")
    assert any("link (http://lua-dao.example.com.)" in problem for problem in checked.problems)
    unofficial = "the phone number 0912345678, which is not one of the issuer's official hotlines"
    assert any(unofficial in problem for problem in checked.problems)
    assert len(broken.problems) == 1 and "sms.txt.j2 line 1" in broken.problems[0]


def test_facebook_length_and_radio_reading_time_are_measured_on_the_rendered_text(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    form = shipped_form()
    texts = texts_of(starting_texts(composer_settings, form.template), form.template, ["facebook", "radio"], ["vi"])
    with directory() as session:
        post = check_text(session, LAN, composer_settings, form, "facebook", "vi", texts[("facebook", "vi")])
        script = check_text(session, LAN, composer_settings, form, "radio", "vi", texts[("radio", "vi")])
    assert post.problems == [] and post.length is not None and 500 < post.length < (post.max_length or 0)
    assert script.problems == [] and script.reading_seconds is not None and script.reading_seconds > 60
    assert "ĐÀI TRUYỀN THANH" in script.rendered  # rendered for a real station of the audience


# ---- saving: the same operation as a file, and texts the versions cover ------------------------------------


def test_text_edited_in_the_page_goes_into_the_campaigns_own_texts_and_into_the_submitted_version(
    directory: sessionmaker[Session], composer_settings: Settings, content: Path
) -> None:
    form = shipped_form()
    form.valid_from, form.valid_until = date(2030, 1, 1), date(2030, 3, 31)
    form.dated = date(2030, 1, 1)
    form.channels["email"].rules = [RuleChoice("once", on=date(2030, 1, 2), at=time(8, 0))]
    form.channels["sms"].rules = [RuleChoice("once", on=date(2030, 1, 2), at=time(9, 0))]
    form.channels["facebook"].rules = [RuleChoice("weekly", at=time(19, 0), weekdays=[0, 3])]
    form.channels["radio"].rules = [RuleChoice("slots", slots=["morning"], starts=date(2030, 1, 3))]
    form.texts = texts_of(starting_texts(composer_settings, form.template), form.template, list(form.channels), ["vi"])
    edited = "Sở TT&TT: cảnh giác cuộc gọi giả danh. Báo tin: {{ issuer.hotline.number }}"
    form.texts[("sms", "vi")] = edited
    shared = sorted(path.read_bytes() for path in (content / "templates").rglob("*.j2"))
    with transaction(directory) as session:
        saved = save_form(session, LAN, form, composer_settings)
    assert saved.created and form.template == "goi-gia-danh"
    assert sorted(path.read_bytes() for path in (content / "templates").rglob("*.j2")) == shared  # no file written
    with directory() as session:
        campaign = find_campaign(session, form.campaign)
        assert campaign.texts["goi-gia-danh/vi/sms.txt.j2"] == edited + "\n"
    with transaction(directory) as session:
        campaign_ops.change_status(session, LAN, form.campaign, "submit", settings=composer_settings)
    with directory() as session:
        version = versions.latest_version(session, find_campaign(session, form.campaign))
        assert version is not None and version.content["templates"]["goi-gia-danh/vi/sms.txt.j2"] == edited + "\n"
    # Edited again in the page while it waits for approval: it goes back to draft, the diff in the audit log.
    form.texts[("sms", "vi")] = edited.replace("giả danh", "mạo danh")
    with transaction(directory) as session:
        save_form(session, LAN, form, composer_settings)
    with directory() as session:
        campaign = find_campaign(session, form.campaign)
        assert campaign.status == Status.DRAFT
        log = campaign_ops.audit_log(session, LAN, form.campaign)
        edit_entry = next(entry for entry in reversed(log) if entry.action == "edit")
        assert edit_entry.actor == "lan"
        assert "+Sở TT&TT: cảnh giác cuộc gọi mạo danh" in edit_entry.details["changes"][-1]["diff"]


def test_a_form_that_does_not_save_leaves_nothing_behind(
    directory: sessionmaker[Session], composer_settings: Settings, content: Path
) -> None:
    form = shipped_form()
    form.texts = {("sms", "vi"): "Gọi ngay 0912345678 để được hỗ trợ."}  # no hotline, and an unofficial number
    with pytest.raises(InvalidInput) as refused, transaction(directory) as session:
        save_form(session, LAN, form, composer_settings)
    with directory() as session:
        assert session.scalar(select(Campaign).where(Campaign.slug == form.campaign)) is None
    assert any(problem.where.startswith("channels.sms (vi") for problem in refused.value.problems)


def test_an_approver_cannot_save_a_campaign_from_the_form(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    with pytest.raises(Exception, match="needs the permission campaigns:draft"), transaction(directory) as session:
        save_form(session, MINH, shipped_form(), composer_settings)


def test_a_cron_expression_that_is_not_one_is_a_sentence_in_the_timetable_echo(
    directory: sessionmaker[Session], composer_settings: Settings
) -> None:
    form = shipped_form()
    form.channels["facebook"].rules = [RuleChoice("cron", cron="0 25 * * 1")]
    with directory() as session:
        echo = echo_timetable(session, composer_settings, form, "facebook")
    assert echo.fires == [] and len(echo.problems) == 1
    assert "'0 25 * * 1' is not a valid cron expression" in echo.problems[0]


def test_a_time_written_with_seconds_and_an_offset_goes_through_the_form_unchanged() -> None:
    rule = {"at": "2030-01-02T08:00:30+07:00"}
    assert choice_of_rule(rule).rule() == rule
