"""The live monitor: counts by state per channel, reasons grouped, a send to the test list apart from
send-now to everyone (which must be confirmed), retry, resume with its reason, search by address, and
the polled fragment."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import CampaignChannel, Delivery, DeliveryState
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, form_token, marked_test_list, sign_in, staff

STAFF_PHONES = ["0912345678", "0987654321"]


def test_a_send_to_the_test_list_reaches_only_the_test_phones_and_the_monitor_shows_it_apart(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, STAFF_PHONES)
    staff(sessions, "hai", "operator")
    token = sign_in(client, "hai")
    answer = client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    assert answer.status_code == 200 and "Đã xếp lịch gửi thử đến danh sách thử nghiệm" in answer.text
    Worker(sessions, web_settings, ["sms"], "w").drain()
    with transaction(sessions) as session:
        addresses = set(session.scalars(select(Delivery.address)))
    assert addresses == {"+84912345678", "+84987654321"}
    live = client.get(f"/campaigns/{slug}/monitor/live")
    assert 'hx-trigger="every 5s"' in live.text
    row = live.text.split('id="counts-sms"')[1].split("</tr>")[0]
    assert '<td class="number" data-state="sent">0</td>' in row  # never counted in the campaign's totals
    assert "lần gửi thử: 1" in row
    tests = live.text.split('id="test-counts-sms"')[1].split("</tr>")[0]
    assert '<span data-state="test-sent">đã gửi 2</span>' in tests
    found = client.get(f"/campaigns/{slug}/deliveries", params={"address": "0912 345 678"})
    assert found.status_code == 200 and "+84912345678" in found.text and "đã gửi" in found.text
    empty = client.get(f"/campaigns/{slug}/deliveries", params={"address": "0999 999 999"})
    assert "Không có lần gửi nào đến địa chỉ này trong chiến dịch." in empty.text


def test_send_now_to_everyone_must_be_confirmed_next_to_its_button(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    token = sign_in(client, "lan")
    refused = client.post(f"/campaigns/{slug}/channels/sms/send-now", data={"csrf_token": token})
    assert refused.status_code == 422
    assert 'id="sms-send-now-error">Hãy đánh dấu ô xác nhận' in refused.text


def test_a_test_send_without_a_marked_list_is_a_sentence_next_to_its_button(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    token = sign_in(client, "lan")
    refused = client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    assert refused.status_code == 422
    assert 'id="sms-send-test-error">Chưa có danh sách thuê bao nào được đánh dấu thử nghiệm' in refused.text


def test_failures_are_grouped_by_reason_and_retried_and_a_paused_channel_says_why_and_resumes(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, STAFF_PHONES)
    token = sign_in(client, "lan")
    client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    Worker(sessions, web_settings, ["sms"], "w").drain()
    with transaction(sessions) as session:
        session.execute(update(Delivery).values(state=DeliveryState.FAILED, reason="gateway said 'number barred'"))
        session.execute(
            update(CampaignChannel)
            .where(CampaignChannel.channel == "sms")
            .values(paused=True, pause_reason="the gateway refused the account's credentials")
        )
    page = client.get(f"/campaigns/{slug}/monitor")
    assert f'hx-get="/campaigns/{slug}/monitor/reasons" hx-trigger="load"' in page.text
    reasons = client.get(f"/campaigns/{slug}/monitor/reasons")
    assert 'gateway said &#39;number barred&#39;</td><td class="number">2</td>' in reasons.text
    assert "the gateway refused the account&#39;s credentials" in page.text
    token = form_token(page.text)
    retried = client.post(f"/campaigns/{slug}/channels/sms/retry", data={"csrf_token": token})
    assert "Các tin thất bại đã được xếp gửi lại." in retried.text
    resumed = client.post(f"/campaigns/{slug}/channels/sms/resume", data={"csrf_token": token})
    assert "Kênh đã tiếp tục hoạt động." in resumed.text and 'id="resume-sms"' not in resumed.text


def test_an_approver_sees_the_monitor_but_its_send_actions_answer_403(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    token = sign_in(client, "minh")
    page = client.get(f"/campaigns/{slug}/monitor")
    assert page.status_code == 200 and 'id="channel-actions"' not in page.text
    refused = client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "Tài khoản minh không được làm việc này: cần quyền campaigns:send." in refused.text
