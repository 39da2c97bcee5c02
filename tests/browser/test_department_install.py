"""The README's department section followed in order, as a department's IT person and its first administrator
would: `broadcaster setup` in a new folder (no terminal: the one-time link), `broadcaster serve` from the folder,
then in Chromium the password chosen through the link, the sign-in, and an agency, a station (Vietnamese
slot names) and an account added in the browser. Screenshots in var/artefacts/department/."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, wait_for
from tests.integration.test_setup_folder import answered, environment, setup
from tests.moment import broadcaster_command

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "department"
PASSWORD = "mật-khẩu-quản-trị"

pytestmark = pytest.mark.usefixtures("chromium_available")


def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_a_department_installs_signs_in_and_adds_an_agency_a_station_and_an_account(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    folder = tmp_path / "so-tttt"
    port = free_port()
    made = setup(folder, "--admin", "quan-tri", "--public-url", f"http://127.0.0.1:{port}")
    assert made.returncode == 0, made.stderr
    link = re.search(r"(http://\S+/chao-mung/\S+)", made.stdout)
    assert link, made.stdout
    server = subprocess.Popen(
        broadcaster_command("serve", "--port", str(port)),
        env=environment(),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: answered(f"http://127.0.0.1:{port}/login"), what="the console to answer")
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(link.group(1))
        expect(page.locator("h1")).to_have_text("Chọn mật khẩu cho tài khoản quan-tri")
        page.locator("#password").fill(PASSWORD)
        page.locator("#password_again").fill(PASSWORD)
        shot(page, "choose-password")
        page.locator("#save-password").click()
        expect(page.locator("#welcomed")).to_be_visible()
        page.get_by_label("Tên tài khoản").fill("quan-tri")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.locator("#sign-in").click()
        expect(page.locator("h1")).to_have_text("Tổng quan")

        page.goto(f"http://127.0.0.1:{port}/directory/agencies")
        page.locator("#new-entry").click()
        page.locator("#name").fill("Công an huyện Tân Biên")
        page.locator("#emails").fill("ca.tanbien@example.gov.vn")
        page.locator("#save-entry").click()
        expect(page.locator("#saved")).to_be_visible()
        expect(page.locator("#listing")).to_contain_text("ca.tanbien@example.gov.vn")
        shot(page, "agency-added")

        page.goto(f"http://127.0.0.1:{port}/directory/stations")
        page.locator("#new-entry").click()
        page.locator("#slug").fill("dai-tan-bien")
        page.locator("#name").fill("Đài truyền thanh Tân Biên")
        page.locator("#slots").fill("sáng 05:30; chiều 17:00")
        shot(page, "station-form")
        page.locator("#save-entry").click()
        expect(page.locator("#row-dai-tan-bien")).to_contain_text("sáng 05:30, chiều 17:00")
        shot(page, "station-added")

        page.goto(f"http://127.0.0.1:{port}/accounts")
        form = page.locator("#add-account")
        form.locator("#login").fill("lan")
        form.locator("#display_name").fill("Nguyễn Thị Lan")
        form.locator("#role").select_option("drafter")
        form.locator("#password").fill("mật-khẩu-của-lan")
        form.locator("#add").click()
        expect(page.locator("#account-lan")).to_contain_text("Nguyễn Thị Lan")
        shot(page, "account-added")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert PASSWORD not in output
