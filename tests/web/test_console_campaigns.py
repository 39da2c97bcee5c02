"""The campaign pages: the list, a campaign's page, submitting, the preview an approver reads (every channel
and locale as it goes out, a sample recipient, the differences from the approved version), approving and
returning with a reason, and the two-person rule said on the page."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import draft_campaign, foreign_draft, form_token, sign_in, staff


def _submitted(client: TestClient, sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> str:
    staff(sessions, "lan", "admin")
    slug = draft_campaign(sessions, settings, "lan", current(tmp_path, settings.today()))
    token = sign_in(client, "lan")
    page = client.get(f"/campaigns/{slug}")
    assert 'id="action-submit"' in page.text
    submitted = client.post(f"/campaigns/{slug}/submit", data={"csrf_token": token})
    assert submitted.status_code == 200 and "chờ phê duyệt" in submitted.text
    return slug


def test_the_list_shows_each_campaign_with_its_status_and_validity_as_dates(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    staff(sessions, "lan", "drafter")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    sign_in(client, "lan")
    page = client.get("/campaigns")
    assert page.status_code == 200
    assert f'href="/campaigns/{slug}"' in page.text and "bản nháp" in page.text
    assert "881/STTTT-TTr" in page.text
    campaign = client.get(f"/campaigns/{slug}")
    assert "Thứ Hai" in campaign.text and "Thứ Năm" in campaign.text  # the Facebook cron 1,4 read back


def test_the_submitter_cannot_approve_and_the_page_says_why(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = _submitted(client, sessions, web_settings, tmp_path)
    preview = client.get(f"/campaigns/{slug}/preview")
    assert "Bạn đã trình chiến dịch này nên không thể tự phê duyệt" in preview.text
    assert 'id="action-approve" disabled' in preview.text
    forced = client.post(f"/campaigns/{slug}/approve", data={"csrf_token": form_token(preview.text), "back": "preview"})
    assert forced.status_code == 422
    assert "nguyên tắc hai người" in forced.text and "chờ phê duyệt" in forced.text
    assert "two-person rule" not in forced.text  # the refusal is said in the console's language
    english = client.get(f"/campaigns/{slug}/preview?lang=en")
    forced = client.post(f"/campaigns/{slug}/approve", data={"csrf_token": form_token(english.text), "back": "preview"})
    assert forced.status_code == 422
    assert "a second person must approve (two-person rule)" in forced.text
    assert "nguyên tắc hai người" not in forced.text


def test_the_preview_shows_every_channel_and_locale_as_it_goes_out(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = _submitted(client, sessions, web_settings, tmp_path)
    page = client.get(f"/campaigns/{slug}/preview")
    assert page.status_code == 200, page.text
    for channel in ("email", "sms", "facebook", "radio"):
        for locale in ("vi", "en"):
            assert f'id="preview-{channel}-{locale}"' in page.text
    assert 'id="sms-info-vi"' in page.text and "GSM-7" in page.text
    assert "Thời lượng đọc" in page.text
    assert "Chưa có phiên bản nào được phê duyệt" in page.text
    pdf = client.get(f"/campaigns/{slug}/letter.pdf", params={"locale": "vi"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_sample_recipient_that_matches_nobody_is_a_sentence_next_to_its_field(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = _submitted(client, sessions, web_settings, tmp_path)
    page = client.get(f"/campaigns/{slug}/preview", params={"sms": "0900000000"})
    assert page.status_code == 422
    assert 'id="sms-error">No recipient of the sms audience' in page.text


def test_an_approver_approves_and_a_return_needs_a_reason_next_to_its_field(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = _submitted(client, sessions, web_settings, tmp_path)
    staff(sessions, "minh", "approver")
    client.cookies.clear()
    token = sign_in(client, "minh")
    preview = client.get(f"/campaigns/{slug}/preview")
    assert 'id="approval-refusal"' not in preview.text
    no_reason = client.post(f"/campaigns/{slug}/return", data={"csrf_token": token, "back": "preview", "reason": " "})
    assert no_reason.status_code == 422
    assert 'id="reason-error">Hãy ghi lý do trả lại' in no_reason.text
    approved = client.post(f"/campaigns/{slug}/approve", data={"csrf_token": token, "back": "preview"})
    assert approved.status_code == 200 and "đã phê duyệt" in approved.text
    assert "Không có thay đổi." in approved.text  # the approved version is the one shown


def test_a_refused_change_on_the_campaign_page_is_a_sentence_on_that_page(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    """A drafter's approve, an approver's pause and an admin approving their own submission: 422 and why."""
    slug = _submitted(client, sessions, web_settings, tmp_path)
    token = form_token(client.get(f"/campaigns/{slug}").text)
    own = client.post(f"/campaigns/{slug}/approve", data={"csrf_token": token})
    assert own.status_code == 422 and "nguyên tắc hai người" in own.text and "Thứ Hai" in own.text
    for login, role, action in (("dung", "drafter", "approve"), ("minh", "approver", "pause")):
        staff(sessions, login, role)
        client.cookies.clear()
        token = sign_in(client, login)
        refused = client.post(f"/campaigns/{slug}/{action}", data={"csrf_token": token})
        assert refused.status_code == 422, refused.text
        assert "cần quyền" in refused.text or "không thể" in refused.text


def foreign_draft_page(client: TestClient, sessions: sessionmaker[Session], settings: Settings, name: str) -> str:
    """The draft page of a foreign alert from tests/fixtures/cap, imported by a signed-in drafter."""
    staff(sessions, "lan", "admin")
    slug = foreign_draft(sessions, settings, "lan", name)
    sign_in(client, "lan")
    page = client.get(f"/campaigns/{slug}")
    assert page.status_code == 200
    return page.text


def test_a_foreign_alerts_areas_outside_our_list_are_shown_on_its_draft(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    """Environment Canada's alert names only areas that are none of ours: its draft shows them, in each language."""
    page = foreign_draft_page(client, sessions, web_settings, "eccc-snowfall-2013-signed.xml")
    shown = page[page.index('id="cap-areas-outside"') :]
    assert "Vùng ngoài danh mục địa bàn" in shown
    assert "Prince Albert Nat. Park" in shown and "parc nat. de Prince Albert" in shown
    assert "profile:CAP-CP:Location:0.3" in shown and "4718012" in shown


def test_a_draft_says_when_its_alert_gave_one_warning_twice_for_two_area_codes(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    """The NSW Rural Fire Service alert gives its en-AU <info> twice, differing only in its area's code."""
    page = foreign_draft_page(client, sessions, web_settings, "nsw-rfs-yerong-creek-2011.xml")
    assert "Cảnh báo gốc nhắc lại khối &lt;info&gt; en-AU ở dòng 84, chỉ khác phần vùng" in page
    shown = page[page.index('id="cap-areas-outside"') :]
    assert "AU-NSW" in shown and "2642" in shown  # both areas, each with its own code
