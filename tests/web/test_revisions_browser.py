"""Revisions and test sends in a real browser (Debian's Chromium through Playwright): an active campaign is
revised while it keeps sending, nobody approves words they wrote, and a draft is tried on the test list
before anyone approves it. Screenshots in var/artefacts/revisions/."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.store import find_campaign
from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.operations import campaigns as operations
from broadcaster.operations import sending
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import PASSWORD, approved_campaign, draft_campaign, marked_test_list, screenshot, staff

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "revisions"
DESKTOP = {"width": 1280, "height": 900}
SMS_TEXT = "goi-gia-danh/vi/sms.txt.j2"
STAFF_PHONES = ["0912345678", "0987654321"]

pytestmark = pytest.mark.usefixtures("chromium_available")


def signed_in(browser: Any, server: str, login: str) -> Any:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{server}/login")
    page.get_by_label("Tên tài khoản").fill(login)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.locator("#sign-in").click()
    return page


shot = partial(screenshot, ARTEFACTS)


def sent_sms(settings: Settings) -> list[str]:
    return [
        json.loads(line)["text"]
        for path in sorted((settings.output_dir / "sms").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]


def edit_sms_as(sessions: sessionmaker[Session], settings: Settings, slug: str, login: str, old: str, new: str) -> None:
    """The SMS text edited and saved by `login`, as the composer saves it."""
    with transaction(sessions) as session:
        campaign = find_campaign(session, slug)
        texts = dict((campaign.revision or campaign).texts)
        texts[SMS_TEXT] = texts[SMS_TEXT].replace(old, new)
        spec = parse_campaign((campaign.revision or campaign).spec, slug)
        actor = accounts.acting_account(session, login)
        operations.save(session, actor, spec, "the composer", settings, texts)


def test_an_active_campaign_is_revised_while_it_keeps_sending_and_no_author_approves_the_revision(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    slug = approved_campaign(
        sessions, web_settings, current(tmp_path, web_settings.today())
    )  # lan drafts, minh approves
    marked_test_list(sessions, tmp_path, STAFF_PHONES)
    staff(sessions, "an", "admin")
    edit_sms_as(sessions, web_settings, slug, "an", "kết bạn Zalo, ", "")  # an administrator edits the text

    drafter = signed_in(browser, server, "lan")
    drafter.goto(f"{server}/campaigns/{slug}")
    expect(drafter.locator("#revision-status")).to_have_text("đang soạn")
    expect(drafter.locator("#campaign-status")).to_have_text("đã phê duyệt")
    shot(drafter, "1-revision-drafted")
    drafter.locator("#action-submit").click()
    expect(drafter.locator("#revision-status")).to_have_text("chờ phê duyệt")

    # Meanwhile the approved text keeps going out: an operator sends it now, and the worker sends it.
    staff(sessions, "hai", "operator")
    with transaction(sessions) as session:
        sending.send_now(session, accounts.acting_account(session, "hai"), slug, "sms", web_settings)
    Worker(sessions, web_settings, ["sms"], "w").drain()
    assert sent_sms(web_settings) and all("Zalo" in text for text in sent_sms(web_settings))  # not yet revised

    author = signed_in(browser, server, "an")
    author.goto(f"{server}/campaigns/{slug}/preview?of=revision")
    expect(author.locator("#approval-refusal")).to_contain_text("không thể tự phê duyệt")
    expect(author.locator("#action-approve")).to_be_disabled()
    expect(author.locator("#changes")).to_contain_text(SMS_TEXT)
    shot(author, "2-author-cannot-approve")

    approver = signed_in(browser, server, "minh")
    expect(approver.locator("#to-approve")).to_contain_text("Bản sửa đổi")
    approver.goto(f"{server}/campaigns/{slug}/preview?of=revision")
    expect(approver.locator("#preview-sms")).not_to_contain_text("ket ban Zalo")
    approver.locator("#action-approve").click()
    approver.goto(f"{server}/campaigns/{slug}")
    expect(approver.locator("#campaign-status")).to_have_text("đã phê duyệt")
    expect(approver.locator("#revision")).to_have_count(0)
    shot(approver, "3-revision-approved")
    with sessions() as session:
        campaign = find_campaign(session, slug)
        assert campaign.approved_version == 2 and "kết bạn Zalo" not in campaign.texts[SMS_TEXT]


def test_a_draft_is_sent_to_the_test_list_before_approval_marked_and_never_counted(
    server: str, browser: Any, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    staff(sessions, "lan", "drafter")
    slug = draft_campaign(sessions, web_settings, "lan", current(tmp_path, web_settings.today()))
    drafter = signed_in(browser, server, "lan")
    drafter.goto(f"{server}/campaigns/{slug}")
    expect(drafter.locator("#action-test-send")).to_be_disabled()  # no test list yet, and the page says so
    marked_test_list(sessions, tmp_path, STAFF_PHONES)
    drafter.reload()
    drafter.locator("#action-test-send").click()
    expect(drafter.locator("#test-send-done")).to_contain_text("Đã gửi thử")
    shot(drafter, "4-draft-test-sent")
    Worker(sessions, web_settings, ["sms"], "w").drain()

    texts = sent_sms(web_settings)
    assert len(texts) == 2 and all(text.startswith("[THU NGHIEM] ") for text in texts)
    with sessions() as session:
        assert set(session.scalars(select(Delivery.address))) == {"+84912345678", "+84987654321"}
        assert find_campaign(session, slug).status == "draft"
    drafter.goto(f"{server}/campaigns/{slug}/monitor")
    expect(drafter.locator('#counts-sms [data-state="sent"]')).to_have_text("0")
    expect(drafter.locator('#test-counts-sms [data-state="test-sent"]')).to_have_text("đã gửi 2")
    shot(drafter, "5-monitor-test-apart")
