"""The results page in the console: Vietnamese first, each chart (SVG, drawn on the server) with its
table beside it, the period checked field by field, linked from the campaign page and the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock
from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.settings import Settings
from tests.results_scenario import SLUG, moment, results_campaign
from tests.web.console_helpers import sign_in, staff


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    return web_settings.with_clock(FixedClock(moment(web_settings)))


@pytest.fixture
def reported(shipped: sessionmaker[Session], web_settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    results_campaign(shipped, web_settings, tmp_path)
    staff(shipped, "lan", "drafter")
    return shipped


def row_of(html: str, table: str, first_cell: str) -> str:
    start = html.index(f'id="table-{table}"')
    row = html.index(f"<td>{first_cell}</td>", start)
    return html[row : html.index("</tr>", row)]


def test_the_results_page_shows_the_figures_with_their_charts(
    client: TestClient, reported: sessionmaker[Session]
) -> None:
    sign_in(client, "lan")
    campaign = client.get(f"/campaigns/{SLUG}")
    assert f'href="/campaigns/{SLUG}/results"' in campaign.text
    assert 'href="/results"' in client.get("/").text
    page = client.get(f"/campaigns/{SLUG}/results")
    assert page.status_code == 200
    html = page.text
    assert "Kết quả theo kênh" in html and "Phát thanh theo đài" in html
    sms = row_of(html, "by_channel", "Tin nhắn SMS")
    assert '<td class="number">14</td><td class="number">13</td><td class="number">9</td>' in sms
    go_dau = row_of(html, "by_station", "Đài Truyền thanh huyện Gò Dầu")
    assert "Mất điện: 1" in go_dau
    for chart in ("chart-shares", "chart-stations", "chart-days"):
        assert f"<svg xmlns='http://www.w3.org/2000/svg' id='{chart}'" in html
    assert "Tin nhắn SMS: 13 tin nhắn đã gửi: 9 đến máy, 2 không đến được, 1 chưa rõ." in html
    english = client.get(f"/campaigns/{SLUG}/results?lang=en").text
    assert "Results by channel" in english and "Outcome shares per channel" in english


def test_a_period_is_checked_field_by_field(
    client: TestClient, reported: sessionmaker[Session], web_settings: Settings
) -> None:
    sign_in(client, "lan")
    today = web_settings.today()
    page = client.get("/results")  # this month so far
    assert page.status_code == 200 and SLUG in page.text
    wrong = client.get("/results?start=31-12-2025&end=2026-01-01")
    assert wrong.status_code == 422 and "không phải là một ngày" in wrong.text
    backwards = client.get(f"/results?start={today}&end=2020-01-01")
    assert backwards.status_code == 422 and "Ngày kết thúc ở trước ngày bắt đầu." in backwards.text
    empty = client.get("/results?start=2020-01-01&end=2020-01-31")
    assert empty.status_code == 200 and 'id="no-results"' in empty.text


def test_the_posts_reach_is_loaded_once_the_page_is_shown(client: TestClient, reported: sessionmaker[Session]) -> None:
    sign_in(client, "lan")
    page = client.get(f"/campaigns/{SLUG}/results").text
    assert f'hx-get="/campaigns/{SLUG}/results/facebook-reach"' in page
    reach = client.get(f"/campaigns/{SLUG}/results/facebook-reach")
    assert reach.status_code == 200 and "Facebook: bài đăng đã tiếp cận bao nhiêu người" in reach.text
    assert 'id="no-posts"' in reach.text  # the scenario's post has no post id from Facebook


def test_a_wrong_channel_setting_is_a_page_with_its_sentence_not_a_form_error(
    client: TestClient, reported: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction(reported) as session:
        post = session.scalars(select(Delivery).where(Delivery.channel == "facebook", Delivery.state == "sent")).one()
        post.provider_id = "1234567890_42"
    monkeypatch.setenv("BROADCASTER_FACEBOOK_MODE", "carrier-pigeon")
    sign_in(client, "lan")
    page = client.get(f"/campaigns/{SLUG}/results/facebook-reach")
    assert page.status_code == 503
    assert "BROADCASTER_FACEBOOK_MODE" in page.text and "Traceback" not in page.text
