"""Requests built to break the app get a 4xx and one sentence, never a 500, and change nothing: keys given
twice in JSON, JSON nested thousands of levels deep, numbers past what a database stores, an upload named
`..`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.installation import callback_token, installation_id
from broadcaster.models import Campaign
from broadcaster.settings import Settings
from tests.conftest import CONFIG
from tests.web.test_api import sign_in
from tests.web.test_portal import new_link, signed_in, slots  # noqa: F401 (slots is a fixture)

HUGE = "99999999999999999999999"


def refused_with_a_sentence(answer: object, *statuses: int) -> str:
    assert getattr(answer, "status_code") in statuses, getattr(answer, "text")  # noqa: B009
    detail = getattr(answer, "json")()["detail"]  # noqa: B009
    assert isinstance(detail, str) and detail
    return detail


def test_a_key_given_twice_in_a_json_body_is_refused_and_nothing_is_made(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    drafter = sign_in(client, sessions, "lan", "drafter")
    body = '{"campaign": "hai-lan", "priority": "ordinary", "priority": "emergency"}'
    headers = drafter | {"Content-Type": "application/json"}
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/validate"):
        detail = refused_with_a_sentence(client.post(path, content=body, headers=headers), 400)
        assert detail == "the JSON has the key 'priority' twice in one object: write each key once"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_json_nested_deeper_than_any_request_needs_is_refused(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings
) -> None:
    drafter = sign_in(client, sessions, "lan", "drafter") | {"Content-Type": "application/json"}
    deep = "[" * 900 + "]" * 900
    answer = client.post("/api/v1/campaigns/validate", content=deep, headers=drafter)
    assert "nested more than 64 levels" in refused_with_a_sentence(answer, 400)
    with sessions() as session:
        token = callback_token(web_settings, installation_id(session))
    hook = client.post(f"/hooks/sms/{token}/generic-json", content='{"reports": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert "nested more than 64 levels" in refused_with_a_sentence(hook, 400)
    twice = client.post(f"/hooks/sms/{token}/speedsms", content='{"type": "report", "type": "x", "tranId": 1}')
    assert "the key 'type' twice" in refused_with_a_sentence(twice, 400)


def test_numbers_past_what_the_database_stores_are_refused(
    client: TestClient,
    sessions: sessionmaker[Session],
    slots: dict[str, list[int]],  # noqa: F811 (the fixture imported above)
) -> None:
    reader = sign_in(client, sessions, "lan", "drafter")
    answer = client.get(f"/api/v1/campaigns/phat-thanh/deliveries?after={HUGE}", headers=reader)
    assert "less than or equal to" in refused_with_a_sentence(answer, 422)
    refused_with_a_sentence(client.get(f"/api/v1/deliveries/{HUGE}", headers=reader), 422)
    signed_in(client, new_link(sessions))
    assert client.get(f"/portal/slots/{slots['dtt-go-dau'][0]}/txt").status_code == 200
    assert client.get(f"/portal/slots/{HUGE}/txt").status_code == 422
    assert client.post(f"/portal/slots/{HUGE}", data={"aired": "1"}).status_code in (403, 422)


@pytest.mark.parametrize("name", ["..", ".", "../../issuer.yaml", 'a"\r\nX-Injected: 1.yaml'])
def test_an_upload_named_to_escape_its_folder_is_read_as_an_ordinary_upload(
    client: TestClient, sessions: sessionmaker[Session], name: str
) -> None:
    operator = sign_in(client, sessions, "hai", "operator")
    issuer = (CONFIG / "issuers" / "tay-ninh-stttt.yaml").read_bytes()
    answer = client.post("/api/v1/directory/issuers/import", headers=operator, files={"file": (name, issuer)})
    assert answer.status_code in (200, 422), answer.text
    assert "\n" not in json.dumps(answer.json().get("summary", ""))
