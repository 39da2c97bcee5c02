"""Writing in plain Vietnamese in the composer: named fields instead of template code, a radio text written
as a letter with the announcer's version made from it, "đọc là …" beside what cannot be read, and the
Facebook timetable that would post the same text twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import AuditEntry, Issuer
from broadcaster.settings import Settings
from tests.web.console_helpers import form_token, sign_in, staff

SLUG = "canh-bao-gia-danh-dien-luc"
# As an officer writes it from the letter: digits, a date, a percentage, an abbreviation, the hotline typed out.
RADIO = (
    "Ngày 5/12/2026, [Tên đơn vị] cảnh báo: kẻ gian giả danh nhân viên EVN gọi điện đòi tiền điện, "
    "dọa cắt điện trong 2 giờ. 90% cuộc gọi loại này là lừa đảo. Gọi ngay 0276 3631 168 để báo tin."
)

# The composer writes templates: into a copy of the content folder, never into the package.
pytestmark = pytest.mark.own_content


@pytest.fixture
def drafter(client: TestClient, sessions: sessionmaker[Session]) -> str:
    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    sign_in(client, "lan")
    return form_token(client.get("/compose").text)


def blank_fields(token: str, settings: Settings, **texts: str) -> dict[str, Any]:
    """A blank campaign as the page posts it: radio and Facebook on, texts in plain words."""
    today = settings.today()
    fields: dict[str, Any] = {
        "csrf_token": token,
        "campaign": SLUG,
        "issuer": "tay-ninh-stttt",
        "number": "1021/STTTT-TTr",
        "subject": "cảnh báo cuộc gọi giả danh nhân viên điện lực",
        "priority": "ordinary",
        "valid_from": f"{today}",
        "valid_until": f"{today + timedelta(days=30)}",
        "template": "",
        "locales": ["vi"],
        "radio.on": "on",
        "radio.to": ["stations:all"],
        "radio.areas": "tay-ninh",
        "radio.rule.0.kind": "slots",
        "radio.rule.0.slot": ["morning"],
        "facebook.on": "on",
        "facebook.to": ["page:sotttt-tay-ninh"],
        "facebook.rule.0.kind": "weekly",
        "facebook.rule.0.weekday": ["0", "3"],
        "facebook.rule.0.weekly_time": "19:00",
    }
    for key, text in texts.items():
        fields[f"plain.{key.replace('_', '.')}"] = text
    return fields


def box(page: str, name: str) -> str:
    return page.split(f'id="{name}"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]


def test_a_new_campaign_is_blank_and_written_in_plain_fields(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    page = client.get("/compose").text
    assert box(page, "plain-radio-vi") == "" and 'id="text-radio-vi"' not in page
    assert 'data-field="[Đường dây nóng]"' in page and "{{" not in box(page, "plain-sms-vi")
    assert '<option value="" selected>Trống — tự viết nội dung</option>' in page
    # Each text is checked once the page has loaded, by the same post as while one types.
    assert 'hx-post="/compose/check/radio/vi" hx-trigger="load"' in page
    empty = client.post("/compose/check/radio/vi", data=blank_fields(drafter, web_settings, radio_vi=""))
    assert "Chưa có nội dung: hãy viết vào ô trên, hoặc bỏ chọn kênh này." in empty.text


def test_natural_radio_text_is_checked_on_the_announcers_version(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    fields = blank_fields(drafter, web_settings, radio_vi=RADIO)
    answer = client.post("/compose/check/radio/vi", data=fields)
    assert answer.status_code == 200
    announcer = answer.text.split('id="announcer-vi"', 1)[1].split("</div>", 1)[0]
    assert "không hai bảy sáu" in announcer and "chín mươi phần trăm" in announcer
    assert "0276" not in announcer and "90%" not in announcer
    assert "chưa có đường dây nóng chính thức" not in answer.text  # the digits of the text are its hotline
    assert "for the announcer to decode" not in answer.text
    assert "<strong>EVN</strong> đọc là" in answer.text  # asked about, right there


def test_the_hotline_written_in_words_is_recognised_in_the_announcers_version(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    words = "Kẻ gian giả danh Sở gọi điện. Bà con báo tin qua số không hai bảy sáu ba sáu ba một một sáu tám."
    answer = client.post("/compose/check/radio/vi", data=blank_fields(drafter, web_settings, radio_vi=words))
    assert "chưa có đường dây nóng chính thức" not in answer.text
    assert 'id="problems-radio-vi">✓' in answer.text
    other = words.replace("một sáu tám", "một sáu chín")
    answer = client.post("/compose/check/radio/vi", data=blank_fields(drafter, web_settings, radio_vi=other))
    assert (
        "Nội dung radio chưa có đường dây nóng chính thức của đơn vị (02763631168, 02763813111): chèn trường "
        "[Đường dây nóng]." in answer.text
    )
    english = client.post("/compose/check/radio/vi?lang=en", data=blank_fields(drafter, web_settings, radio_vi=other))
    assert "the radio text does not give an official hotline (02763631168, 02763813111)" in english.text


def test_a_reading_given_beside_the_radio_text_is_added_audited_and_read(
    client: TestClient, drafter: str, web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    fields = blank_fields(drafter, web_settings, radio_vi=RADIO)
    refused = client.post(
        "/compose/reading/vi/0", data=fields | {"written.radio.vi.0": "EVN", "reading.radio.vi.0": "e 5 en"}
    )
    assert "Chưa thêm được cách đọc của “EVN”" in refused.text and "<strong>EVN</strong> đọc là" in refused.text
    answer = client.post(
        "/compose/reading/vi/0", data=fields | {"written.radio.vi.0": "EVN", "reading.radio.vi.0": " e vê  en "}
    )
    assert answer.status_code == 200
    assert "Đã thêm vào từ điển cách đọc: EVN đọc là “e vê en”." in answer.text
    announcer = answer.text.split('id="announcer-vi"', 1)[1].split("</div>", 1)[0]
    assert "nhân viên e vê en gọi điện" in announcer
    assert 'id="to-decode-vi"' not in answer.text
    with sessions() as session:
        issuer = session.scalar(select(Issuer).where(Issuer.slug == "tay-ninh-stttt"))
        assert issuer is not None and issuer.readings["EVN"] == "e vê en" and issuer.readings["UBND"]
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "add-reading")).all()
        assert [(entry.actor, entry.details) for entry in entries] == [
            ("lan", {"issuer": "tay-ninh-stttt", "written": "EVN", "reading": "e vê en"})
        ]


def test_a_facebook_rule_that_would_post_the_same_text_twice_is_said_and_dated_in_one_click(
    client: TestClient, drafter: str, web_settings: Settings
) -> None:
    post = "CẢNH BÁO: kẻ gian giả danh nhân viên điện lực gọi điện đòi tiền. Báo tin: [Đường dây nóng]"
    fields = blank_fields(drafter, web_settings, radio_vi=RADIO, facebook_vi=post)
    echo = client.post("/compose/timetable/facebook", data=fields)
    assert 'id="facebook-repeat-0"' in echo.text
    assert "Dòng lịch 1 sẽ đăng cùng một nội dung nhiều lần" in echo.text
    page = client.post("/compose/refresh", data=fields | {"add_date": "facebook"})
    assert box(page.text, "plain-facebook-vi") == post + "\n\nCập nhật ngày [Ngày phát]"
    assert box(page.text, "plain-radio-vi") == RADIO  # the other channels' texts as they were
    assert 'id="facebook-repeat-0"' not in page.text
    dated = fields | {"plain.facebook.vi": box(page.text, "plain-facebook-vi")}
    assert 'id="facebook-repeat-0"' not in client.post("/compose/timetable/facebook", data=dated).text


def test_plain_texts_are_saved_as_template_text_and_open_plain_again(
    client: TestClient, drafter: str, web_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    post = "CẢNH BÁO lừa đảo. Cập nhật ngày [Ngày phát]. Báo tin: [Đường dây nóng]"
    radio = RADIO.replace("EVN", "điện lực")  # nothing left to ask a reading of
    fields = blank_fields(drafter, web_settings, radio_vi=radio, facebook_vi=post)
    saved = client.post("/compose", data=fields, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    with sessions() as session:
        campaign = find_campaign(session, SLUG)
        assert campaign.template == SLUG  # a blank campaign: its own texts
        facebook = campaign.texts[f"{SLUG}/vi/facebook.txt.j2"]
        assert facebook == (
            "CẢNH BÁO lừa đảo. Cập nhật ngày {{ occurrence.date | short_date }}. "
            "Báo tin: {{ issuer.hotline.number | phone }}\n"
        )
        assert "{{ issuer.unit_name }}" in campaign.texts[f"{SLUG}/vi/radio.txt.j2"]
    page = client.get(f"/compose/{SLUG}").text
    assert box(page, "plain-radio-vi") == radio and box(page, "plain-facebook-vi") == post
    advanced = client.post(
        "/compose/refresh", data=blank_fields(drafter, web_settings, radio_vi=RADIO) | {"mode.radio.vi": "advanced"}
    )
    assert "{% set script %}" in box(advanced.text, "text-radio-vi")
