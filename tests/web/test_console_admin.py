"""The accounts page (administrators only) and the audit log page with its filters."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.settings import Settings
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import PASSWORD, approved_campaign, sign_in, staff


def test_an_administrator_adds_disables_and_resets_and_every_error_is_beside_its_field(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "quan-tri", "admin")
    token = sign_in(client, "quan-tri")
    short = client.post("/accounts", data={"csrf_token": token, "login": "lan", "role": "drafter", "password": "ngắn"})
    assert short.status_code == 422
    assert 'id="password-error">Mật khẩu quá ngắn: cần ít nhất 10 ký tự.</p>' in short.text
    station = client.post(
        "/accounts", data={"csrf_token": token, "login": "dai", "role": "station", "password": PASSWORD}
    )
    assert 'id="stations-error">Tài khoản đài truyền thanh cần ít nhất một mã đài.</p>' in station.text
    added = client.post(
        "/accounts",
        data={
            "csrf_token": token,
            "login": "Lan",
            "display_name": "Nguyễn Thị Lan",
            "role": "drafter",
            "password": PASSWORD,
        },
    )
    assert added.status_code == 200 and 'id="account-lan"' in added.text and "Đã thêm tài khoản." in added.text
    twice = client.post(
        "/accounts", data={"csrf_token": token, "login": "lan", "role": "drafter", "password": PASSWORD}
    )
    assert 'id="login-error">Đã có tài khoản &#39;lan&#39;.</p>' in twice.text

    other = TestClient(client.app)
    sign_in(other, "lan")
    assert other.get("/", follow_redirects=False).status_code == 200
    disabled = client.post("/accounts/lan/disable", data={"csrf_token": token})
    assert "Đã khóa tài khoản" in disabled.text
    assert other.get("/", follow_redirects=False).headers["location"] == "/login"  # its session ended
    client.post("/accounts/lan/enable", data={"csrf_token": token})
    short_reset = client.post("/accounts/lan/password", data={"csrf_token": token, "password": "x"})
    assert 'id="lan-password-error">Mật khẩu quá ngắn' in short_reset.text
    reset = client.post("/accounts/lan/password", data={"csrf_token": token, "password": "một mật khẩu mới dài"})
    assert "Đã đặt lại mật khẩu" in reset.text
    self_disable = client.post("/accounts/quan-tri/disable", data={"csrf_token": token})
    assert 'id="quan-tri-disable-error">Bạn không thể tự khóa tài khoản của mình' in self_disable.text


def test_the_accounts_page_of_another_role_answers_403_with_the_permission(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    staff(sessions, "minh", "approver")
    token = sign_in(client, "minh")
    page = client.get("/accounts")
    assert page.status_code == 403
    assert "Tài khoản minh không được làm việc này: cần quyền users:manage." in page.text
    assert 'id="nav-accounts"' not in page.text
    posted = client.post("/accounts", data={"csrf_token": token, "login": "x", "role": "admin", "password": PASSWORD})
    assert posted.status_code == 403


def test_the_audit_log_filters_by_campaign_account_action_and_dates(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    sign_in(client, "lan")
    everything = client.get("/audit")
    assert everything.status_code == 200 and "<code>approve</code>" in everything.text
    by_minh = client.get("/audit", params={"account": "minh"})
    assert "<code>approve</code>" in by_minh.text and "<code>submit</code>" not in by_minh.text
    submits = client.get("/audit", params={"campaign": slug, "action": "submit"})
    assert "<code>submit</code>" in submits.text and "<code>approve</code>" not in submits.text
    long_ago = client.get("/audit", params={"starts": "2020-01-01", "ends": "2020-01-31"})
    assert "Không có mục nào khớp." in long_ago.text
    bad = client.get("/audit", params={"starts": "14/05/2024"})
    assert bad.status_code == 422
    assert 'id="starts-error">&#39;14/05/2024&#39; không phải là ngày (ví dụ 2024-05-14).</p>' in bad.text
