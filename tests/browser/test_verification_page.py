"""The verification page in a real browser (Chromium through Playwright), as a citizen uses it on a
phone and on a desktop. Screenshots go to var/artefacts/verification-page/ to be looked at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from tests.conftest import CONTENT, serving
from tests.integration.test_cap_export import TAY_NINH
from tests.web.test_public_page import DRAFT_NUMBER, publish

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "artefacts" / "verification-page"
TAY_NINH_DEPARTMENT = "Sở Thông tin và Truyền thông Tây Ninh"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """The web app on a real SQLite file, served by uvicorn on a loopback port chosen by the system."""
    from broadcaster.db import make_engine, make_sessions, upgrade
    from broadcaster.examples import import_examples

    settings = Settings(
        database_url=sqlite_url,
        output_dir=tmp_path / "out",
        content_dir=CONTENT,
        data_dir=tmp_path / "data",
        public_requests_per_minute=200,  # one visitor, many questions in a few seconds
    )
    engine = make_engine(sqlite_url)
    upgrade(engine)
    sessions: sessionmaker[Session] = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
    publish(sessions, settings)  # the Tây Ninh letter approved and in force, the Bình Phước one a draft
    with serving(create_app(settings, sessions)) as address:
        yield address
    engine.dispose()


def ask_number(page: object, site: str, written: str) -> str:
    page.goto(f"{site}/tra-cuu")  # type: ignore[attr-defined]
    page.fill("#so", written)  # type: ignore[attr-defined]
    page.click("#so-dien-thoai button")  # type: ignore[attr-defined]
    return str(page.inner_text("#so-dien-thoai .answer"))  # type: ignore[attr-defined]


def ask_letter(page: object, site: str, number: str, day: str) -> str:
    page.goto(f"{site}/tra-cuu")  # type: ignore[attr-defined]
    page.fill("#van-ban", number)  # type: ignore[attr-defined]
    page.fill("#ngay", day)  # type: ignore[attr-defined]
    page.click("#cong-van button")  # type: ignore[attr-defined]
    return str(page.inner_text("#cong-van .answer"))  # type: ignore[attr-defined]


def test_a_citizen_checks_numbers_and_letters_on_a_phone_and_on_a_desktop(site: str, browser: object) -> None:
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    requests_elsewhere: list[str] = []
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport, locale="vi-VN")  # type: ignore[attr-defined]
        page = context.new_page()
        page.on(
            "request", lambda request: None if request.url.startswith(site) else requests_elsewhere.append(request.url)
        )

        for written in ("0276 3631 168", "+84 276 3631 168", "02763631168"):
            answer = ask_number(page, site, written)
            assert (
                "Đúng. Số 0276 3631 168 là số điện thoại chính thức của Sở Thông tin và Truyền thông Tây Ninh" in answer
            )
        page.screenshot(path=str(ARTEFACTS / f"{name}-official-number.png"), full_page=True)

        answer = ask_number(page, site, "0912 345 678")
        assert "Số 0912 345 678 KHÔNG phải là số điện thoại chính thức của Sở." in answer
        assert "0276 3631 168" in answer  # where to report it
        page.screenshot(path=str(ARTEFACTS / f"{name}-unknown-number.png"), full_page=True)

        warnings = page.inner_text("#canh-bao")  # type: ignore[attr-defined]
        assert "Công văn số 881/STTTT-TTr ngày 14/05/2024" in warnings  # in force today, with its permanent link
        page.click("#canh-bao a")  # type: ignore[attr-defined]
        assert page.url == f"{site}/tra-cuu/canh-bao/{TAY_NINH}"  # type: ignore[attr-defined]
        page.screenshot(path=str(ARTEFACTS / f"{name}-warning.png"), full_page=True)

        answer = ask_letter(page, site, "881/STTTT-TTr", "14/05/2024")
        assert "Có thật. Đây là công văn đã được phê duyệt của Sở Thông tin và Truyền thông Tây Ninh" in answer
        page.screenshot(path=str(ARTEFACTS / f"{name}-real-letter.png"), full_page=True)
        page.click("text=Toàn văn công văn")
        assert "Số: 881/STTTT-TTr" in page.inner_text("pre.letter")
        page.screenshot(path=str(ARTEFACTS / f"{name}-letter-text.png"), full_page=True)

        answer = ask_letter(page, site, "882/STTTT-TTr", "14/05/2024")
        assert "Không có công văn số 882/STTTT-TTr ngày 14/05/2024 của Sở." in answer
        page.screenshot(path=str(ARTEFACTS / f"{name}-invented-letter.png"), full_page=True)

        # The Bình Phước letter, numbered but still a draft, is not found.
        answer = ask_letter(page, site, DRAFT_NUMBER, "16/09/2024")
        assert f"Không có công văn số {DRAFT_NUMBER} ngày 16/09/2024 của Sở." in answer

        page.goto(f"{site}/tra-cuu/canh-bao/{TAY_NINH}?lang=en")
        assert "Scam calls from people posing as leaders" in page.inner_text("h1")
        page.screenshot(path=str(ARTEFACTS / f"{name}-warning-english.png"), full_page=True)
        context.close()
    assert requests_elsewhere == []  # nothing but the site itself was ever loaded
