"""The results as JSON: the same figures as the operation, for readers only, in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock
from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.settings import Settings
from tests.results_scenario import SLUG, moment, results_campaign
from tests.web.conftest import person


@pytest.fixture
def web_settings(web_settings: Settings) -> Settings:
    return web_settings.with_clock(FixedClock(moment(web_settings)))


@pytest.fixture
def reported(shipped: sessionmaker[Session], web_settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    results_campaign(shipped, web_settings, tmp_path)
    return shipped


def test_a_campaigns_figures_as_json(client: TestClient, reported: sessionmaker[Session]) -> None:
    reader = person(reported, "doc", "drafter")
    answer = client.get(f"/api/v1/reports/campaigns/{SLUG}", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    channels = {item["channel"]: item for item in found["channels"]}
    sms = channels["sms"]["deliveries"]
    assert (sms["planned"], sms["delivered"], sms["undelivered"], sms["unknown"]) == (14, 9, 2, 1)
    assert channels["email"]["deliveries"]["failed"] == 1
    assert channels["radio"]["airing"]["not_aired_reasons"] == {"power": 1}
    assert {item["station"] for item in found["stations"]} == {"dtt-go-dau", "dtt-tan-bien"}


def test_a_period_and_its_refusals(client: TestClient, reported: sessionmaker[Session], web_settings: Settings) -> None:
    reader = person(reported, "doc", "approver")
    today = web_settings.today()
    answer = client.get(f"/api/v1/reports/period?start={today}&end={today}", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["campaigns"] == [SLUG]
    backwards = client.get(
        f"/api/v1/reports/period?start={today}&end={today - timedelta(days=1)}", headers=reader.headers
    )
    assert backwards.status_code == 400 and "before it starts" in backwards.json()["detail"]
    assert client.get("/api/v1/reports/campaigns/khong-co", headers=reader.headers).status_code == 404
    assert client.get(f"/api/v1/reports/campaigns/{SLUG}").status_code == 401
    station = person(reported, "dai", "station", stations=["dtt-go-dau"])
    assert client.get(f"/api/v1/reports/campaigns/{SLUG}", headers=station.headers).status_code == 403


def test_the_figures_are_in_the_schema(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/reports/campaigns/{slug}" in schema["paths"] and "/api/v1/reports/period" in schema["paths"]
    assert {"Results", "ChannelResult", "Tally", "Airing"} <= set(schema["components"]["schemas"])


def test_the_reach_of_the_posts_from_the_graph_api(
    client: TestClient, reported: sessionmaker[Session], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The published post is asked about with the page's token; a page whose token may not read insights
    shows "not available" with the reason."""
    with transaction(reported) as session:
        post = session.scalars(select(Delivery).where(Delivery.channel == "facebook", Delivery.state == "sent")).one()
        post.provider_id = "1234567890_42"
        token_variable = "BROADCASTER_FACEBOOK_TOKEN_TAY_NINH"  # as the page's recipient carries it
        post.details = {"token_secret": token_variable, "slug": "sotttt-tay-ninh"}
    monkeypatch.setenv(token_variable, "EAAG-page-token")
    monkeypatch.setenv("BROADCASTER_FACEBOOK_MODE", "graph")
    monkeypatch.setenv("BROADCASTER_FACEBOOK_GRAPH_URL", httpserver.url_for("/"))
    monkeypatch.setenv("BROADCASTER_FACEBOOK_API_VERSION", "v21.0")
    refused = {
        "error": {
            "message": "(#10) Application does not have permission for this action",
            "type": "OAuthException",
            "code": 10,
            "fbtrace_id": "A",
        }
    }
    httpserver.expect_request("/v21.0/1234567890_42/insights").respond_with_json(refused, status=403)
    httpserver.expect_request("/v21.0/1234567890_42").respond_with_json({"id": "1234567890_42"})
    reader = person(reported, "doc", "drafter")
    answer = client.get(f"/api/v1/reports/campaigns/{SLUG}/facebook-reach", headers=reader.headers)
    assert answer.status_code == 200, answer.text
    [found] = answer.json()
    assert found["post_id"] == "1234567890_42" and found["reach"] is None
    assert "does not allow reading insights" in found["unavailable"]
    assert httpserver.log[0][0].headers["Authorization"] == "Bearer EAAG-page-token"


def test_a_wrong_channel_setting_met_by_a_request_is_the_servers_configuration_error_not_the_askers_mistake(
    client: TestClient, reported: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asking what the posts reached builds the Facebook channel from its settings: a wrong one is answered
    503 with the sentence naming the setting (and logged), never 400 as if the request were wrong."""
    with transaction(reported) as session:
        post = session.scalars(select(Delivery).where(Delivery.channel == "facebook", Delivery.state == "sent")).one()
        post.provider_id = "1234567890_42"
    monkeypatch.setenv("BROADCASTER_FACEBOOK_MODE", "carrier-pigeon")
    reader = person(reported, "doc", "drafter")
    answer = client.get(f"/api/v1/reports/campaigns/{SLUG}/facebook-reach", headers=reader.headers)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("setting BROADCASTER_FACEBOOK_MODE is wrong")
