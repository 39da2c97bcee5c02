"""/metrics in the Prometheus text format, read from the database: queue depth, outcomes, paused channels,
the oldest pending delivery and the timetable, for the whole installation whichever process answers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import CampaignChannel, Delivery, DeliveryState
from broadcaster.settings import Settings
from broadcaster.workers import Worker
from tests.integration.test_delivery_cli import current
from tests.web.console_helpers import approved_campaign, marked_test_list, sign_in

STAFF_PHONES = ["0912345678", "0987654321"]


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def test_the_queue_and_a_paused_channel_are_counted(
    client: TestClient, sessions: sessionmaker[Session], web_settings: Settings, tmp_path: Path
) -> None:
    empty = samples(client)
    assert ("broadcaster_scheduler_behind_seconds", ()) in empty
    slug = approved_campaign(sessions, web_settings, current(tmp_path, web_settings.today()))
    marked_test_list(sessions, tmp_path, STAFF_PHONES)
    token = sign_in(client, "lan")
    client.post(f"/campaigns/{slug}/channels/sms/send-test", data={"csrf_token": token})
    Worker(sessions, web_settings, ["sms"], "w").drain()
    sent = samples(client)
    assert sent[("broadcaster_deliveries", (("channel", "sms"), ("state", "sent")))] == 2
    assert ("broadcaster_queue_depth", (("channel", "sms"), ("state", "pending"))) not in sent
    ten_minutes_ago = web_settings.clock.now() - timedelta(minutes=10)
    with transaction(sessions) as session:
        one = session.scalars(select(Delivery.id).limit(1)).one()
        waiting = {"state": DeliveryState.PENDING, "done_at": None, "due_at": ten_minutes_ago}
        session.execute(update(Delivery).where(Delivery.id == one).values(**waiting))
        session.execute(update(CampaignChannel).where(CampaignChannel.channel == "sms").values(paused=True))
    found = samples(client)
    assert found[("broadcaster_queue_depth", (("channel", "sms"), ("state", "pending")))] == 1
    assert found[("broadcaster_paused_channels", (("channel", "sms"),))] == 1
    assert found[("broadcaster_oldest_pending_seconds", (("channel", "sms"),))] >= 600
