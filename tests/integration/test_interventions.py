"""send-now and retry refuse, with the reason, what nothing would ever send; `status` says what a
channel's waiting deliveries wait for (validity, paused, send window, daily cap)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import accounts
from broadcaster.campaigns import lifecycle
from broadcaster.clock import FixedClock, StartedClock
from broadcaster.db import transaction
from broadcaster.models import AuditEntry, Campaign, Delivery, DeliveryState, Occurrence
from broadcaster.operations.monitoring import campaign_monitor
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from tests.conftest import PEOPLE, Cli
from tests.moment import WEDNESDAY, coming
from tests.scenario import SMS, campaign, local, phones, subscriber_list

SLUG = "thu-nghiem"


@pytest.fixture(autouse=True)
def people(shipped: sessionmaker[Session]) -> None:
    """The accounts the commands below act as (--as minh)."""
    with transaction(shipped) as session:
        for name, role in PEOPLE.items():
            accounts.create_account(session, name, role, password=None)


def letters(
    sessions: sessionmaker[Session], settings: Settings, *, valid: tuple[date, date] | None = None, slug: str = SLUG
) -> int:
    """An approved e-mail campaign firing now, or at 08:00 on the first day of a validity window given."""
    at = datetime.combine(valid[0], time(8, 0), tzinfo=settings.zone) if valid else settings.clock.now()
    schedule = [{"at": local(at, settings)}]
    channels = {"email": {"to": ["group:so-ban-nganh"], "schedule": schedule}}
    return campaign(sessions, settings, channels, valid=valid, slug=slug, sendable_since=at - timedelta(hours=1))


def sent_letters(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Letters fired and sent now, two of them then bounced for good."""
    now = settings.clock.now()
    campaign_id = letters(sessions, settings)
    with transaction(sessions) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    Worker(sessions, settings, ["email"], "w").drain()
    with transaction(sessions) as session:
        first_two = select(Delivery.id).order_by(Delivery.id).limit(2).scalar_subquery()
        session.execute(
            update(Delivery).where(Delivery.id.in_(first_two)).values(state=DeliveryState.FAILED, reason="550 gone")
        )
    return campaign_id


def count(sessions: sessionmaker[Session], *where: object) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(*where)) or 0  # type: ignore[arg-type]


def audited(sessions: sessionmaker[Session], action: str) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


# ---- send-now ------------------------------------------------------------------------------------------


def test_send_now_outside_the_validity_window_is_refused_with_the_reason(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    today = settings.today()
    starts, ends = today + timedelta(days=2), today + timedelta(days=12)
    letters(shipped, settings, valid=(starts, ends))

    run = cli("send-now", SLUG, "--channel", "email", "--as", "minh")

    assert run.exit_code == 1
    assert run.stderr.strip() == (
        f"error: cannot send '{SLUG}' on email now: {today} is outside the campaign's validity window "
        f"{starts} to {ends}"
    )
    with shipped() as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 0
    assert audited(shipped, "send-now") == 0


def test_send_now_on_a_paused_channel_is_refused_with_the_reason(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    campaign_id = letters(shipped, settings)
    with transaction(shipped) as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        found.channels[0].paused, found.channels[0].pause_reason = True, "the SMTP server refused the login"

    run = cli("send-now", SLUG, "--channel", "email", "--as", "minh")

    assert run.exit_code == 1
    assert "the email channel is paused: the SMTP server refused the login" in run.stderr
    assert audited(shipped, "send-now") == 0


def test_send_now_within_the_validity_window_queues_an_occurrence(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    letters(shipped, settings)
    run = cli("send-now", SLUG, "--channel", "email", "--as", "minh")
    assert run.exit_code == 0, run.output
    assert audited(shipped, "send-now") == 1


# ---- retry ---------------------------------------------------------------------------------------------


def test_retry_on_a_cancelled_campaign_is_refused_and_changes_nothing(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    campaign_id = sent_letters(shipped, settings)
    with transaction(shipped) as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        lifecycle.apply(session, found, "cancel", "minh", settings=settings)

    run = cli("retry", SLUG, "--failed", "--as", "minh")

    assert run.exit_code == 1
    assert run.stderr.strip() == (f"error: campaign '{SLUG}' is cancelled: its failed deliveries cannot be sent again")
    assert count(shipped, Delivery.state == DeliveryState.FAILED) == 2
    assert audited(shipped, "retry") == 0


def test_retry_after_the_validity_window_is_refused_and_changes_nothing(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    campaign_id = sent_letters(shipped, settings)
    yesterday = settings.today() - timedelta(days=1)
    with transaction(shipped) as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        found.valid_until = yesterday  # the window has ended (the scheduler would complete it soon)

    run = cli("retry", SLUG, "--failed", "--as", "minh")

    assert run.exit_code == 1
    assert f"campaign '{SLUG}' was valid until {yesterday}: nothing is sent after its validity window" in run.stderr
    assert count(shipped, Delivery.state == DeliveryState.FAILED) == 2


def test_retry_of_a_running_campaign_requeues_its_failed_deliveries(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    sent_letters(shipped, settings)
    run = cli("retry", SLUG, "--failed", "--as", "minh")
    assert run.exit_code == 0, run.output
    assert "re-queued 2 failed deliveries" in run.stdout
    assert count(shipped, Delivery.state == DeliveryState.PENDING, Delivery.attempts == 0) == 2


# ---- why deliveries wait ---------------------------------------------------------------------------------


def sms_due_now(
    sessions: sessionmaker[Session], settings: Settings, folder: Path, slug: str, numbers: list[str]
) -> int:
    now = settings.clock.now()
    subscriber_list(sessions, folder, f"list-{slug}", numbers)
    return campaign(
        sessions,
        settings,
        {"sms": {"to": [f"list:list-{slug}"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        slug=slug,
        sendable_since=now - timedelta(hours=1),
    )


def fire(sessions: sessionmaker[Session], settings: Settings) -> None:
    with transaction(sessions) as session:
        catch_up(session, settings, settings.clock.now() + timedelta(seconds=1))


def waiting_for(sessions: sessionmaker[Session], settings: Settings, campaign_id: int, now: datetime) -> list[str]:
    with sessions() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        at_now = settings.with_clock(FixedClock(now))
        return campaign_monitor(session, accounts.TERMINAL, at_now, found.slug, reasons=False).channels[0].waiting_for


def test_status_says_deliveries_wait_for_the_send_window(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    settings = settings.with_clock(StartedClock(coming(WEDNESDAY, time(10), settings.zone)))  # in the window
    campaign_id = sms_due_now(shipped, settings, tmp_path, "cua-so", phones(3))
    fire(shipped, settings)
    late_evening = datetime.combine(settings.today(), time(23, 30), tzinfo=settings.zone)
    assert waiting_for(shipped, settings, campaign_id, late_evening) == ["a worker to fan out 1 occurrence(s)"]

    Worker(shipped, settings, ["sms"], "w").expand_one()

    assert waiting_for(shipped, settings, campaign_id, late_evening) == [
        "the send window 07:00-22:00, which opens at 07:00"
    ]


def test_status_says_deliveries_wait_for_the_daily_cap(
    shipped: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    capped = settings.model_copy(update={"daily_caps": {"sms": 1}, "send_windows": {}})
    numbers = phones(3)
    sms_due_now(shipped, capped, tmp_path, "dau", numbers)
    second = sms_due_now(shipped, capped, tmp_path, "sau", numbers)
    fire(shipped, capped)
    Worker(shipped, capped, ["sms"], "w").drain()

    assert waiting_for(shipped, capped, second, capped.clock.now()) == [
        "the daily cap of 1 messages per address (3 held)"
    ]


def test_status_says_a_paused_campaign_and_a_validity_window_not_yet_open_are_waited_for(
    shipped: sessionmaker[Session], settings: Settings, cli: Cli
) -> None:
    today = settings.today()
    later = letters(shipped, settings, valid=(today + timedelta(days=2), today + timedelta(days=12)), slug="sau")
    paused = letters(shipped, settings, slug="tam-dung")
    with transaction(shipped) as session:
        found = session.get(Campaign, paused)
        assert found is not None
        lifecycle.apply(session, found, "pause", "minh", settings=settings)

    assert waiting_for(shipped, settings, later, settings.clock.now()) == [
        f"its validity window, from {today + timedelta(days=2):%d/%m/%Y}"
    ]
    assert waiting_for(shipped, settings, paused, settings.clock.now()) == ["the campaign is paused"]
    shown = cli("status", "sau")
    assert shown.exit_code == 0, shown.output
    assert f"its validity window, from {today + timedelta(days=2):%d/%m/%Y}" in shown.stdout
