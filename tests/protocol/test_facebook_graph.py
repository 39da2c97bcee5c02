"""The Facebook adapter against a real HTTP server standing in for the Graph API (DOMAIN §6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from broadcaster.clock import FixedClock
from channels.base import Outcome, PageFacts, PermanentError, RecipientKind, TransientError
from channels.facebook import FacebookCampaignOptions, FacebookChannel, FacebookOptions
from tests.helpers import ZONE, bulletin

PAGE = "100064000000001"
TOKEN = "EAAG-page-token-not-for-logs"
POST = "⚠️ CẢNH BÁO: giả danh lãnh đạo Sở gọi điện là LỪA ĐẢO. Báo tin: 0276 3631 168"


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BROADCASTER_FACEBOOK_TOKEN_TAY_NINH", TOKEN)
    return TOKEN


def post(key: str = "occ-3:facebook:page", options: FacebookCampaignOptions | None = None, **given: Any) -> Any:
    return bulletin(
        key,
        RecipientKind.PAGE,
        PAGE,
        name="Sở TT&TT Tây Ninh",
        text=POST,
        facts=PageFacts(slug="sotttt", token_secret="BROADCASTER_FACEBOOK_TOKEN_TAY_NINH"),
        options=options,
        **given,
    )


# The adapter decides by the time whether a post can be scheduled: it is given this moment, not the day's.
NOW = datetime(2026, 12, 9, 21, 59, tzinfo=ZONE)


def graph(httpserver: HTTPServer, tmp_path: Path) -> FacebookChannel:
    options = FacebookOptions(mode="graph", graph_url=httpserver.url_for("/"), api_version="v21.0")
    return FacebookChannel(options, output_dir=tmp_path, clock=FixedClock(NOW))


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
    ahead = NOW + timedelta(days=2)
    options = FacebookCampaignOptions(scheduled=True)
    adapter = graph(httpserver, tmp_path)
    adapter.send([post(options=options, fire_at=ahead)])
    adapter.send([post(options=options, fire_at=NOW + timedelta(minutes=3))])
    scheduled, too_soon = (entry[0].form for entry in httpserver.log)
    assert scheduled["published"] == "false"
    assert scheduled["scheduled_publish_time"] == str(int(ahead.timestamp()))
    assert "scheduled_publish_time" not in too_soon


def test_a_scheduled_post_is_recorded_as_scheduled_then_as_published_once_facebook_says_so(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_json({"id": f"{PAGE}_9"})
    for published in (False, True):
        httpserver.expect_oneshot_request(f"/v21.0/{PAGE}_9", method="GET").respond_with_json(
            {"id": f"{PAGE}_9", "is_published": published}
        )
    adapter = graph(httpserver, tmp_path)
    ahead = NOW + timedelta(hours=1)
    [handed] = adapter.send([post(options=FacebookCampaignOptions(scheduled=True), fire_at=ahead)])
    assert (handed.outcome, handed.provider_id) == (Outcome.SCHEDULED, f"{PAGE}_9")

    recipient = post().recipient
    assert adapter.confirm(f"{PAGE}_9", recipient) is None, "not yet published: asked again later"
    published = adapter.confirm(f"{PAGE}_9", recipient)
    assert published is not None and published.outcome == Outcome.SENT
    look = httpserver.log[-1][0]
    assert look.headers["Authorization"] == f"Bearer {token}" and token not in look.url


def test_a_scheduled_post_deleted_before_its_time_is_recorded_as_gone(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    body, status = graph_error(100, "Unsupported get request. Object with ID does not exist")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}_9", method="GET").respond_with_json(body, status=status)
    gone = graph(httpserver, tmp_path).confirm(f"{PAGE}_9", post().recipient)
    assert gone is not None and gone.outcome == Outcome.REJECTED
    assert gone.reason == "the scheduled post is no longer on the page (deleted before its time?)"


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


@pytest.mark.parametrize("code", [506, 100])
def test_a_duplicate_on_a_first_attempt_and_an_invalid_post_are_refused_not_sent(
    httpserver: HTTPServer, tmp_path: Path, token: str, code: int
) -> None:
    # DOMAIN §12: 506 on a first attempt means an earlier post, not ours, has the same text.
    body, status = graph_error(code, "Duplicate status message" if code == 506 else "Invalid parameter")
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed").respond_with_json(body, status=status)
    [result] = graph(httpserver, tmp_path).send([post(unanswered_before=False)])
    assert result.outcome == Outcome.REJECTED
    assert [entry[0].method for entry in httpserver.log] == ["POST"], "no look at the page on a first attempt"
    if code == 506:
        assert result.reason.startswith("Facebook refused the post as a repeat of one already on the page (error 506)")


@pytest.mark.parametrize(("on_the_page", "outcome"), [(True, Outcome.SENT), (False, Outcome.REJECTED)])
def test_a_duplicate_after_an_unanswered_attempt_is_decided_by_a_look_at_the_page(
    httpserver: HTTPServer, tmp_path: Path, token: str, on_the_page: bool, outcome: Outcome
) -> None:
    # The look before posting misses the post (it appeared meanwhile); the look after the 506 finds it.
    looks = [{"data": []}, {"data": [{"id": f"{PAGE}_333", "message": POST}] if on_the_page else []}]
    for answer in looks:
        httpserver.expect_ordered_request(f"/v21.0/{PAGE}/feed", method="GET").respond_with_json(answer)
        if answer is looks[0]:
            body, status = graph_error(506, "Duplicate status message")
            httpserver.expect_ordered_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_json(
                body, status=status
            )
    [result] = graph(httpserver, tmp_path).send([post(attempt=2, unanswered_before=True)])
    assert result.outcome == outcome
    assert [entry[0].method for entry in httpserver.log] == ["GET", "POST", "GET"]
    if on_the_page:
        assert result.provider_id == f"{PAGE}_333"


def test_a_retry_after_a_clear_refusal_posts_without_looking_at_the_page(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_json({"id": f"{PAGE}_7"})
    [result] = graph(httpserver, tmp_path).send([post(attempt=3, unanswered_before=False)])
    assert (result.outcome, [entry[0].method for entry in httpserver.log]) == (Outcome.SENT, ["POST"])


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
    look = httpserver.log[1][0]
    assert look.args["fields"] == "id,message"
    assert look.headers["Authorization"] == f"Bearer {token}", "the token goes in a header"
    assert token not in look.url and "access_token" not in look.args, "never in the URL"


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
        [post(options=FacebookCampaignOptions(image="canh-bao.png"), content_dir=tmp_path)]
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


def test_a_post_cut_off_after_sending_or_answered_by_a_bare_5xx_may_exist_and_a_refused_connection_did_not(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    import socket
    import threading

    httpserver.expect_oneshot_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_data("oops", status=502)
    with pytest.raises(TransientError) as bare_502:
        graph(httpserver, tmp_path).send([post(unanswered_before=False)])

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def cut_off() -> None:
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.close()  # the request arrived; no answer

    threading.Thread(target=cut_off, daemon=True).start()
    cut = FacebookChannel(FacebookOptions(mode="graph", graph_url=f"http://127.0.0.1:{port}/"), output_dir=tmp_path)
    with pytest.raises(TransientError) as after_sending:
        cut.send([post(unanswered_before=False)])
    listener.close()
    refused = FacebookChannel(FacebookOptions(mode="graph", graph_url=f"http://127.0.0.1:{port}/"), output_dir=tmp_path)
    with pytest.raises(TransientError) as never_left:
        refused.send([post(unanswered_before=False)])

    assert (bare_502.value.ambiguous, after_sending.value.ambiguous, never_left.value.ambiguous) == (True, True, False)


# ---- what a post reached -------------------------------------------------------------------------------

POST_ID = f"{PAGE}_987654321"


def page() -> Any:
    return post().recipient


def insights_answer(impressions: int, reach: int) -> dict[str, Any]:
    """`GET /{post-id}/insights?metric=post_media_view,post_total_media_view_unique`, as the Graph API answers
    (the metrics Meta names in place of post_impressions and post_impressions_unique, retired in 2026)."""
    return {
        "data": [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": value}],
                "title": title,
                "description": title,
                "id": f"{POST_ID}/insights/{name}/lifetime",
            }
            for name, value, title in (
                ("post_media_view", impressions, "Lifetime Post Views"),
                ("post_total_media_view_unique", reach, "Lifetime Post Total Viewers"),
            )
        ],
        "paging": {"previous": "https://graph.facebook.com/…", "next": "https://graph.facebook.com/…"},
    }


def test_a_posts_reach_reactions_and_shares_are_read_with_the_token_in_a_header(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    from channels.facebook import post_reach

    httpserver.expect_request(f"/v21.0/{POST_ID}/insights").respond_with_json(insights_answer(1520, 1204))
    fields = {"shares": {"count": 7}, "reactions": {"data": [], "summary": {"total_count": 56}}, "id": POST_ID}
    httpserver.expect_request(f"/v21.0/{POST_ID}").respond_with_json(fields)
    found = post_reach(graph(httpserver, tmp_path), POST_ID, page())
    assert (found.impressions, found.reach, found.reactions, found.shares, found.unavailable) == (
        1520,
        1204,
        56,
        7,
        None,
    )
    asked = [entry[0] for entry in httpserver.log]
    assert asked[0].args["metric"] == "post_media_view,post_total_media_view_unique"
    assert all(request.headers["Authorization"] == f"Bearer {token}" for request in asked)
    assert all(token not in request.url for request in asked)


def test_without_the_insights_permission_the_reach_is_not_available_with_the_reason(
    httpserver: HTTPServer, tmp_path: Path, token: str
) -> None:
    from channels.facebook import post_reach

    refused, status = graph_error(10, "(#10) Application does not have permission for this action", 403)
    httpserver.expect_request(f"/v21.0/{POST_ID}/insights").respond_with_json(refused, status=status)
    httpserver.expect_request(f"/v21.0/{POST_ID}").respond_with_json({"id": POST_ID})
    found = post_reach(graph(httpserver, tmp_path), POST_ID, page())
    assert found.reach is None and found.unavailable is not None
    assert "does not allow reading insights (read_insights or pages_read_engagement)" in found.unavailable
    assert token not in found.unavailable
    in_files = post_reach(FacebookChannel(FacebookOptions(), output_dir=tmp_path), POST_ID, page())
    assert in_files.unavailable == "posts are written to files here, not sent to Facebook"
