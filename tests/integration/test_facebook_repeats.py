"""A weekly Facebook rule over four weeks, on a loopback Graph server that refuses a repeated message
with error 506 (DOMAIN §12); scheduled posts handed over ahead and confirmed as published (DOMAIN §6)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from broadcaster.campaigns.store import check_campaign_data
from broadcaster.clock import FixedClock, system_now
from broadcaster.db import transaction
from broadcaster.models import Delivery, DeliveryState, Occurrence
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from tests.scenario import campaign, local

PAGE = "100064000000001"  # the shipped directory's Tây Ninh page
TOKEN = "EAAG-page-token-not-for-logs"
WEEKLY = "0 19 * * 1"  # Mondays at 19:00


class GraphPage:
    """The Graph API's page feed as far as posting goes: a post gets an id; the same message again is
    refused with error 506 "Duplicate status message"; a scheduled post is published at its time."""

    def __init__(self, server: HTTPServer) -> None:
        self.posts: list[dict[str, Any]] = []
        self.later = 0.0  # seconds the page's clock is ahead of ours (time passing for a scheduled post)
        self.fail_after_posting = 0  # posts to make and then answer with a bare HTTP 500 (a proxy's error page)
        self.unreadable = False  # reading a post answers 400 #803, as the Graph API does for an id it cannot see
        self.scheduled_error = False  # `/scheduled_posts` answers the Graph API's error 2 (service unavailable)
        server.expect_request(f"/v21.0/{PAGE}/feed", method="POST").respond_with_handler(self.post)
        server.expect_request(f"/v21.0/{PAGE}/feed", method="GET").respond_with_handler(self.feed)
        server.expect_request(f"/v21.0/{PAGE}/scheduled_posts", method="GET").respond_with_handler(self.scheduled)
        for index in range(1, 9):
            server.expect_request(f"/v21.0/{PAGE}_{index}", method="GET").respond_with_handler(self.one)

    def post(self, request: Request) -> Response:
        if request.form.get("access_token") != TOKEN:
            return _error(190, "Error validating access token", 400)
        message = request.form["message"]
        if any(post["message"] == message for post in self.posts):
            return _error(506, "Duplicate status message", 400)
        scheduled = request.form.get("published") == "false"
        at = int(request.form["scheduled_publish_time"]) if scheduled else None
        self.posts.append({"id": f"{PAGE}_{len(self.posts) + 1}", "message": message, "publish_at": at})
        if self.fail_after_posting:
            self.fail_after_posting -= 1
            return Response("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
        return Response(json.dumps({"id": self.posts[-1]["id"]}), content_type="application/json")

    def feed(self, request: Request) -> Response:
        data = [{"id": post["id"], "message": post["message"]} for post in self.posts]
        return Response(json.dumps({"data": data}), content_type="application/json")

    def scheduled(self, request: Request) -> Response:
        if self.scheduled_error:
            return _error(2, "(#2) Service temporarily unavailable", 503)
        return self.feed(request)

    def one(self, request: Request) -> Response:
        if self.unreadable:
            alias = request.path.rsplit("/", 1)[-1]
            return _error(803, f"(#803) Some of the aliases you requested do not exist: {alias}", 400)
        post = next((post for post in self.posts if request.path.endswith(post["id"])), None)
        if post is None:
            return _error(100, "Unsupported get request. Object with ID does not exist", 400)
        published = post["publish_at"] is None or post["publish_at"] <= system_now().timestamp() + self.later
        return Response(json.dumps({"id": post["id"], "is_published": published}), content_type="application/json")


def _error(code: int, message: str, status: int) -> Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbC"}}
    return Response(json.dumps(body), status=status, content_type="application/json")


@pytest.fixture
def graph(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> GraphPage:
    monkeypatch.setenv("BROADCASTER_FACEBOOK_MODE", "graph")
    monkeypatch.setenv("BROADCASTER_FACEBOOK_GRAPH_URL", httpserver.url_for("/"))
    monkeypatch.setenv("BROADCASTER_FACEBOOK_API_VERSION", "v21.0")
    monkeypatch.setenv("BROADCASTER_FACEBOOK_TOKEN_TAY_NINH", TOKEN)
    return GraphPage(httpserver)


def undated(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped content with the date line taken out of the Facebook texts: the same post every week."""
    content = tmp_path / "content"
    shutil.copytree(settings.content_dir, content)
    for path in (content / "templates").glob("*/*/facebook.txt.j2"):
        path.write_text("".join(line for line in path.read_text().splitlines(True) if "📅" not in line))
    return settings.model_copy(update={"content_dir": content})


def weekly_campaign(sessions: sessionmaker[Session], settings: Settings, **options: Any) -> list[datetime]:
    """A weekly Facebook campaign approved five weeks ago; returns its last four fire times."""
    today = settings.today()
    facebook = {"to": ["page:sotttt-tay-ninh"], "schedule": [{"cron": WEEKLY}], **options}
    since = system_now() - timedelta(weeks=5)
    campaign(
        sessions, settings, {"facebook": facebook}, valid=(today - timedelta(weeks=5), today), sendable_since=since
    )
    monday = settings.local_now().replace(hour=19, minute=0, second=0, microsecond=0)
    monday -= timedelta(days=monday.weekday())
    if monday > settings.local_now():
        monday -= timedelta(weeks=1)
    return [monday - timedelta(weeks=weeks) for weeks in (3, 2, 1, 0)]


def run_weeks(sessions: sessionmaker[Session], settings: Settings, fires: list[datetime]) -> list[tuple[str, str]]:
    """Each week: the timetable at the fire time, then a worker; returns each delivery's state and reason."""
    fast = settings.model_copy(update={"rates": {"facebook": 1000}})
    for fire in fires:
        with transaction(sessions) as session:
            catch_up(session, fast, fire + timedelta(seconds=30))
        Worker(sessions, fast, ["facebook"], "test-worker").drain()
    with sessions() as session:
        rows = session.execute(
            select(Delivery.state, Delivery.reason).join(Occurrence).order_by(Occurrence.fire_at)
        ).all()
    return [(state, reason or "") for state, reason in rows]


def test_a_weekly_rule_over_four_weeks_makes_four_different_posts(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage
) -> None:
    fires = weekly_campaign(shipped, settings)
    outcomes = run_weeks(shipped, settings, fires)
    assert [state for state, _ in outcomes] == [DeliveryState.SENT] * 4
    assert len({post["message"] for post in graph.posts}) == 4
    for post, fire in zip(graph.posts, fires, strict=True):
        assert f"📅 Cập nhật ngày {fire.day}/{fire.month}/{fire.year}" in post["message"]


def test_the_same_text_every_week_is_refused_by_facebook_recorded_as_rejected_and_warned_of(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage, tmp_path: Path
) -> None:
    same = undated(settings, tmp_path)
    fires = weekly_campaign(shipped, same)
    outcomes = run_weeks(shipped, same, fires)
    assert [state for state, _ in outcomes] == [DeliveryState.SENT] + [DeliveryState.REJECTED] * 3
    assert all("(error 506)" in reason for _, reason in outcomes[1:])
    assert len(graph.posts) == 1

    today = settings.today()
    data = {
        "campaign": "nhac-hang-tuan",
        "issuer": "tay-ninh-stttt",
        "number": "881/STTTT-TTr",
        "subject": "tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
        "valid": {"from": today, "until": today + timedelta(weeks=4)},
        "template": "goi-gia-danh",
        "channels": {"facebook": {"to": ["page:sotttt-tay-ninh"], "schedule": [{"cron": WEEKLY}]}},
    }
    with shipped() as session:
        warned = check_campaign_data(session, data, "nhac-hang-tuan.yaml", same)
        dated = check_campaign_data(session, data, "nhac-hang-tuan.yaml", settings)
    first = datetime.combine(today + timedelta(days=(7 - today.weekday()) % 7), datetime.min.time()).replace(hour=19)
    second = first + timedelta(weeks=1)
    assert warned.problems == [] and [str(warning) for warning in warned.warnings] == [
        f"channels.facebook.schedule[0]: fires on {first:%d/%m/%Y} 19:00 and {second:%d/%m/%Y} 19:00 with the same "
        "facebook text (vi), and facebook refuses a repeated post: put the date "
        "({{ occurrence.date | short_date }}) or a line that changes in the template"
    ]
    assert dated.warnings == []


def test_a_scheduled_post_is_handed_over_ahead_recorded_as_scheduled_then_as_published(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage
) -> None:
    fast = settings.model_copy(update={"rates": {"facebook": 1000}})
    now = system_now()
    fire = (now + timedelta(minutes=30)).replace(second=0, microsecond=0)
    facebook = {"to": ["page:sotttt-tay-ninh"], "schedule": [{"at": local(fire, fast)}], "scheduled": True}
    campaign(shipped, fast, {"facebook": facebook}, sendable_since=now - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, fast, now)  # 30 minutes before the fire time: within the hour it is handed over ahead
    worker = Worker(shipped, fast, ["facebook"], "test-worker")
    worker.drain()

    [post] = graph.posts
    assert post["publish_at"] == int(fire.timestamp()), "Facebook publishes it at the fire time"
    with shipped() as session:
        row = session.scalars(select(Delivery)).one()
        assert (row.state, row.provider_id, row.due_at) == (
            DeliveryState.SCHEDULED,
            post["id"],
            fire + timedelta(minutes=1),
        )

    assert worker.confirm_scheduled("facebook") == 0, "not asked about before its time"
    graph.later = 31 * 60  # the fire time has passed
    with transaction(shipped) as session:
        session.execute(update(Delivery).values(due_at=system_now()))
    assert worker.confirm_scheduled("facebook") == 1
    with shipped() as session:
        row = session.scalars(select(Delivery)).one()
        assert (row.state, row.reason) == (DeliveryState.SENT, "published at its time")


def test_a_post_made_but_answered_with_a_bare_502_is_found_on_the_page_by_the_retry_not_posted_twice(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage
) -> None:
    clock = FixedClock(system_now())
    quick = settings.model_copy(update={"rates": {"facebook": 1000}, "retry_base_seconds": 0.01}).with_clock(clock)
    now = clock.now()
    facebook = {"to": ["page:sotttt-tay-ninh"], "schedule": [{"at": local(now, quick)}]}
    campaign(shipped, quick, {"facebook": facebook}, sendable_since=now - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, quick, now + timedelta(seconds=1))
    graph.fail_after_posting = 1
    worker = Worker(shipped, quick, ["facebook"], "test-worker")
    worker.drain()
    clock.advance(timedelta(seconds=1))  # the retry's time comes
    worker.drain()

    [post] = graph.posts
    with shipped() as session:
        row = session.scalars(select(Delivery)).one()
    assert (row.state, row.provider_id, row.reason) == (DeliveryState.SENT, post["id"], "found on the page already")
    assert row.attempts == 2 and row.ambiguous


def test_a_scheduled_post_whose_confirmation_cannot_be_read_backs_off_then_ends_unknown_with_the_answer(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage
) -> None:
    """After its time the post is read (`GET /{post}?fields=is_published`) and the Graph API answers 400
    #803 every time: asked again later and later, then `unknown` with the Graph API's answer kept."""
    from broadcaster.workers import CONFIRM_TRIES

    clock = FixedClock(system_now())
    fast = settings.model_copy(update={"rates": {"facebook": 1000}}).with_clock(clock)
    fire = (clock.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    facebook = {"to": ["page:sotttt-tay-ninh"], "schedule": [{"at": local(fire, fast)}], "scheduled": True}
    campaign(shipped, fast, {"facebook": facebook}, sendable_since=clock.now() - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, fast, clock.now())
    worker = Worker(shipped, fast, ["facebook"], "test-worker")
    worker.drain()
    graph.unreadable = True

    waits = []
    for _ in range(CONFIRM_TRIES):
        with shipped() as session:
            row = session.scalars(select(Delivery)).one()
        assert row.state == DeliveryState.SCHEDULED
        waits.append(row.due_at - clock.now())
        clock.move_to(row.due_at)
        worker.confirm_scheduled("facebook")
    with shipped() as session:
        row = session.scalars(select(Delivery)).one()

    assert row.state == DeliveryState.UNKNOWN
    assert "never confirmed" in (row.reason or "") and "error 803" in (row.reason or ""), row.reason
    assert "(#803) Some of the aliases you requested do not exist" in (row.response or "")
    assert TOKEN not in (row.response or "") + (row.reason or "")
    later = [wait.total_seconds() for wait in waits[2:]]
    assert later == sorted(later) and later[-1] > later[0], waits  # backing off, not every 5 minutes


def test_a_retry_that_cannot_read_the_scheduled_posts_ends_unknown_with_the_graph_apis_answer(
    shipped: sessionmaker[Session], settings: Settings, graph: GraphPage
) -> None:
    """A scheduled post answered with a bare 502 may exist; before posting again the page's
    `/scheduled_posts` is read, and it answers an error every time: the attempts run out, the delivery ends
    `unknown` (it may be on the page), and the Graph API's answer is kept with the attempts."""
    from broadcaster.models import DeliveryAttempt

    clock = FixedClock(system_now())
    quick = settings.model_copy(
        update={"rates": {"facebook": 1000}, "retry_base_seconds": 0.01, "retry_max_seconds": 0.02}
    ).with_clock(clock)
    fire = (clock.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
    facebook = {"to": ["page:sotttt-tay-ninh"], "schedule": [{"at": local(fire, quick)}], "scheduled": True}
    campaign(shipped, quick, {"facebook": facebook}, sendable_since=clock.now() - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, quick, clock.now())
    graph.fail_after_posting = 1
    graph.scheduled_error = True
    worker = Worker(shipped, quick, ["facebook"], "test-worker")
    for _ in range(quick.retry_max_attempts + 1):
        worker.drain()
        clock.advance(timedelta(seconds=1))
    with shipped() as session:
        row = session.scalars(select(Delivery)).one()
        answers = [attempt.response or "" for attempt in session.scalars(select(DeliveryAttempt))]

    assert row.state == DeliveryState.UNKNOWN and row.ambiguous, (row.state, row.reason)
    assert len(graph.posts) == 1, "never posted twice"
    assert any("(#2) Service temporarily unavailable" in answer for answer in answers), answers
