"""The Facebook adapter against a real HTTP server standing in for the Graph API (DOMAIN §6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from channels.base import Outcome, PermanentError, RecipientKind, TransientError
from channels.facebook import FacebookChannel, FacebookOptions
from tests.helpers import ZONE, bulletin

PAGE = "100064000000001"
TOKEN = "EAAG-page-token-not-for-logs"
POST = "⚠️ CẢNH BÁO: giả danh lãnh đạo Sở gọi điện là LỪA ĐẢO. Báo tin: 0276 3631 168"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BROADCASTER_FACEBOOK_TOKEN_TAY_NINH", TOKEN)
    return TOKEN


def post(key: str = "occ-3:facebook:page", **details: Any) -> Any:
    return bulletin(
        key,
        RecipientKind.PAGE,
        PAGE,
        name="Sở TT&TT Tây Ninh",
        text=POST,
        details=details,
        recipient_details={"token_secret": "BROADCASTER_FACEBOOK_TOKEN_TAY_NINH", "slug": "sotttt"},
    )


def graph(httpserver: HTTPServer, tmp_path: Path) -> FacebookChannel:
    options = FacebookOptions(mode="graph", graph_url=httpserver.url_for("/"), api_version="v21.0")
    return FacebookChannel(options, output_dir=tmp_path)


def graph_error(code: int, message: str = "error", status: int = 400) -> tuple[dict[str, Any], int]:
    return {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}}, status


def test_posts_the_message_to_the_page_feed_and_records_the_post_id(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="POST", data=None).respond_with_json(
        {"id": f"{PAGE}_998877"}
    )
    results = graph(httpserver, tmp_path).send([post()])
    assert [(r.outcome, r.provider_id) for r in results] == [(Outcome.SENT, f"{PAGE}_998877")]
    form = httpserver.log[0][0].form
    assert form["message"] == POST and form["access_token"] == token
    assert "published" not in form


def test_a_scheduled_post_uses_scheduled_publish_time_when_ten_minutes_to_thirty_days_ahead(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    httpserver.expect_request(f"/v21.0/{PAGE}/feed").respond_with_json({"id": f"{PAGE}_1"})
    ahead = datetime.now(ZONE).replace(microsecond=0) + timedelta(days=2)
    options = {"scheduled": True}
    adapter = graph(httpserver, tmp_path)
    adapter.send([post(campaign_options=options, publish_at=ahead)])
    adapter.send([post(campaign_options=options, publish_at=datetime.now(ZONE) + timedelta(minutes=3))])
    scheduled, too_soon = (entry[0].form for entry in httpserver.log)
    assert scheduled["published"] == "false"
    assert scheduled["scheduled_publish_time"] == str(int(ahead.timestamp()))
    assert "scheduled_publish_time" not in too_soon


def test_an_expired_token_stops_the_channel_and_says_renew_it(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    body, status = graph_error(190, "Error validating access token: Session has expired")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed").respond_with_json(body, status=status)
    with pytest.raises(
        PermanentError, match=r"expired or been revoked; renew it \(BROADCASTER_FACEBOOK_TOKEN_TAY_NINH\)"
    ) as caught:
        graph(httpserver, tmp_path).send([post()])
    assert token not in str(caught.value)


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613])
def test_rate_limits_are_transient_even_as_http_400(
    httpserver: HTTPServer, tmp_path: Path, token: str, code: int
) -> None:
    body, status = graph_error(code, "Application request limit reached")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed").respond_with_json(body, status=status)
    with pytest.raises(TransientError, match="rate limit"):
        graph(httpserver, tmp_path).send([post()])


@pytest.mark.parametrize(("code", "outcome"), [(506, Outcome.SENT), (100, Outcome.REJECTED)])
def test_duplicate_and_invalid_posts(
    httpserver: HTTPServer, tmp_path: Path, token: str, code: int, outcome: Outcome
) -> None:
    body, status = graph_error(code, "Duplicate status message" if code == 506 else "Invalid parameter")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed").respond_with_json(body, status=status)
    assert graph(httpserver, tmp_path).send([post()])[0].outcome == outcome


def test_a_missing_permission_stops_the_channel(httpserver: HTTPServer, tmp_path: Path, token: str) -> None:
    body, status = graph_error(200, "Permissions error", status=403)
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed").respond_with_json(body, status=status)
    with pytest.raises(PermanentError, match="pages_manage_posts"):
        graph(httpserver, tmp_path).send([post()])


def test_after_an_ambiguous_failure_the_retry_finds_the_earlier_post_instead_of_posting_twice(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_data("oops", status=502)
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="GET").respond_with_json(
        {"data": [{"id": f"{PAGE}_111", "message": "something else"}, {"id": f"{PAGE}_222", "message": POST}]}
    )
    adapter = graph(httpserver, tmp_path)
    with pytest.raises(TransientError):
        adapter.send([post(attempt=1)])

    results = adapter.send([post(attempt=2)])

    assert [(r.outcome, r.provider_id) for r in results] == [(Outcome.SENT, f"{PAGE}_222")]
    assert [entry[0].method for entry in httpserver.log] == ["POST", "GET"]
    assert httpserver.log[1][0].args["fields"] == "id,message"


def test_a_missing_page_token_is_one_sentence_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BROADCASTER_FACEBOOK_TOKEN_TAY_NINH", raising=False)
    adapter = FacebookChannel(FacebookOptions(mode="graph"), output_dir=tmp_path)
    assert adapter.check_recipient(post().recipient) == (
        "the page token for 'Sở TT&TT Tây Ninh' is not set: set the environment variable "
        "BROADCASTER_FACEBOOK_TOKEN_TAY_NINH"
    )


def test_an_image_goes_to_the_photos_endpoint(httpserver: HTTPServer, tmp_path: Path, token: str) -> None:
    (tmp_path / "canh-bao.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/photos", method="POST").respond_with_json(
        {"id": "55", "post_id": f"{PAGE}_55"}
    )
    results = graph(httpserver, tmp_path).send(
        [post(campaign_options={"image": "canh-bao.png"}, content_dir=str(tmp_path))]
    )
    assert results[0].provider_id == f"{PAGE}_55"
    request = httpserver.log[0][0]
    assert request.files["source"].read().startswith(b"\x89PNG")
    assert request.form["message"] == POST


def test_the_embedded_default_writes_the_request_without_the_token(tmp_path: Path, token: str) -> None:
    result = FacebookChannel(FacebookOptions(), output_dir=tmp_path).send([post()])[0]
    written = (tmp_path / result.provider_id).read_text(encoding="utf-8")  # type: ignore[operator]
    assert f'"endpoint": "/{PAGE}/feed"' in written and POST in written
    assert token not in written
