"""A Zalo OA's ZNS templates imported in a real browser: the drafter's composer, with no template yet, links to
the directory's import page; staff upload the file there, see the preview (what is added and changed, the rows
refused and why), confirm, and find the templates listed. Screenshots at desktop and phone width in
var/artefacts/console/zalo-import/."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.csvfiles import Upload
from broadcaster.db import transaction
from broadcaster.examples import import_examples
from broadcaster.models import MessageTemplate
from tests.web.console_helpers import screenshot, staff
from tests.web.test_console_browser import ARTEFACTS, _signed_in

SHOTS = ARTEFACTS / "zalo-import"
PHONE = {"width": 390, "height": 844}
OA = "1397492183140006179"
BEFORE = f"Mã mẫu,Tên mẫu,Tham số,Nội dung,OA\n2056446,Cảnh báo lừa đảo,ten:30; noi_dung:200,<ten>: <noi_dung>,{OA}\n"
FILE = (
    "Mã mẫu,Tên mẫu,Tham số,Nội dung,OA\n"
    f"2056446,Cảnh báo lừa đảo,ten:30; noi_dung:400,<ten> cảnh báo: <noi_dung>,{OA}\n"
    f"2056450,Thông báo ngắn,don_vi:40; ngay:10; tin:200,<don_vi> (<ngay>): <tin>,{OA}\n"
    f"2056460,Lịch cắt điện,khu_vuc:60; gio:20; ghi_chu:300,"
    f"Điện lực thông báo: cắt điện ở <khu_vuc> lúc <gio> để bảo trì lưới điện. <ghi_chu>,{OA}\n"
    f"2056447,Sai tham số,ten=abc,<ten>,{OA}\n"
    f"mau-1,Mã không phải số,ten:30,<ten>,{OA}\n"
)

pytestmark = pytest.mark.usefixtures("chromium_available")


shot = partial(screenshot, SHOTS)


def fits_the_phone(page: Any, name: str) -> None:
    """The page at a phone's width, shot: nothing leaves the screen (a wide table scrolls inside its box)."""
    page.set_viewport_size(PHONE)
    shot(page, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_templates_are_imported_on_the_directory_page_and_listed(
    server: str, browser: Any, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with transaction(sessions) as session:
        import_examples(session)
    staff(sessions, "lan", "drafter")
    staff(sessions, "tam", "operator")

    # The drafter's composer has no template to offer: its sentence links to the directory's import page.
    drafter = _signed_in(browser, server, "lan")
    drafter.locator("#nav-compose").click()
    drafter.locator("#zalo-on").check()
    expect(drafter.locator("#zalo-no-templates")).to_contain_text("Danh bạ chưa có mẫu ZNS nào")
    SHOTS.mkdir(parents=True, exist_ok=True)
    drafter.locator("#channel-zalo").screenshot(path=str(SHOTS / "0-composer-no-template.png"))
    drafter.locator("#zalo-import-templates").click()
    expect(drafter.locator("#kind")).to_have_value("zalo-templates")

    # Staff who may import the directory: one template there already, the file changes it and adds two.
    with transaction(sessions) as session:
        directory.import_csv(session, "zalo-templates", Upload.of_bytes("truoc.csv", BEFORE.encode()))
    csv = tmp_path / "mau-zns-oa.csv"
    csv.write_text(FILE, encoding="utf-8")
    page = _signed_in(browser, server, "tam")
    page.goto(f"{server}/directory")
    page.locator("#nav-zalo-templates").click()
    expect(page.locator("#row-2056446")).to_contain_text("noi_dung (200)")
    page.locator("#import-templates").click()
    expect(page.locator("#kind")).to_have_value("zalo-templates")
    page.locator("#preview-button").click()
    expect(page.locator("#file-error")).to_have_text("Hãy chọn một tệp.")
    expect(page.locator("#zalo-templates-columns")).to_be_visible()  # what the file holds, for this kind only
    expect(page.locator("#list_slug")).to_be_hidden()  # a subscriber list's fields, for subscribers only
    shot(page, "1-import-form-without-a-file")
    page.locator("#kind").select_option("subscribers")
    expect(page.locator("#list_slug")).to_be_visible()
    expect(page.locator("#zalo-templates-columns")).to_be_hidden()
    page.locator("#kind").select_option("zalo-templates")
    page.locator("#file").set_input_files(str(csv))
    page.locator("#preview-button").click()
    expect(page.locator("#count-imported")).to_have_text("3")
    expect(page.locator("#count-new")).to_have_text("2")
    expect(page.locator("#count-updated")).to_have_text("1")
    expect(page.locator("#count-rejected")).to_have_text("2")
    expect(page.locator("#rejects")).to_contain_text("Mẫu 2056447: 'ten=abc' không phải tham số dạng tên:số ký tự")
    expect(page.locator("#rejects")).to_contain_text("Mã mẫu 'mau-1' phải là mã số của mẫu ZNS.")
    expect(page.locator("#nothing-written")).to_be_visible()
    shot(page, "2-preview")
    with sessions() as session:  # nothing written yet
        assert session.scalars(select(MessageTemplate.template_id)).all() == ["2056446"]
    fits_the_phone(page, "3-preview-on-a-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("#confirm").click()
    expect(page.locator("#imported")).to_contain_text("3 imported (2 new, 1 updated, 0 unchanged)")
    page.locator("#nav-zalo-templates").click()
    expect(page.locator("#listing tbody tr")).to_have_count(3)
    expect(page.locator("#row-2056446")).to_contain_text("ten (30), noi_dung (400)")
    expect(page.locator("#row-2056460")).to_contain_text("khu_vuc (60), gio (20), ghi_chu (300)")
    expect(page.locator("#row-2056460")).to_contain_text("cắt điện ở <khu_vuc> lúc <gio>")
    expect(page.locator("#row-2056460")).to_contain_text(OA)
    shot(page, "4-templates-listed")
    fits_the_phone(page, "5-templates-listed-on-a-phone")

    # The drafter's composer now offers them.
    drafter.goto(f"{server}/compose")
    drafter.locator("#zalo-on").check()
    expect(drafter.locator("#zalo-no-templates")).to_have_count(0)
    drafter.locator("#zalo-template").select_option("2056460")
    expect(drafter.locator("#zalo-values")).to_contain_text("tối đa 60 ký tự")
