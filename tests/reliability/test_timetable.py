"""The timetable: occurrences once, late within grace, missed beyond it; only sendable campaigns fire."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import FixedClock, system_now
from broadcaster.cron import cron_trigger
from broadcaster.db import transaction
from broadcaster.models import (
    AuditEntry,
    Campaign,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Status,
)
from broadcaster.settings import Settings
from broadcaster.timetable import Plan, Timetable, catch_up, plans_for
from broadcaster.workers import Worker
from tests.helpers import wait_for
from tests.moment import WEDNESDAY, coming
from tests.scenario import SMS, campaign, get, local, phones, subscriber_list


@pytest.fixture
def world(shipped: sessionmaker[Session], settings: Settings, tmp_path) -> sessionmaker[Session]:  # type: ignore[no-untyped-def]
    subscriber_list(shipped, tmp_path, "bulk", phones(20))
    return shipped


def occurrences(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with sessions() as session:
        return [
            (row.channel, row.state, row.late)
            for row in session.scalars(select(Occurrence).order_by(Occurrence.fire_at))
        ]


def drain(sessions: sessionmaker[Session], settings: Settings, *channels: str) -> None:
    Worker(sessions, settings, channels or ["sms"], "test-worker").drain()


def sent_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(Delivery.state.in_(["sent", "accepted"]))) or 0


def test_service_down_across_fire_times_sends_within_grace_late_and_records_older_ones_missed(
    world: sessionmaker[Session], settings: Settings
) -> None:
    now = system_now()
    half_an_hour, ten_hours = now - timedelta(minutes=30), now - timedelta(hours=10)
    campaign(
        world,
        settings,
        {
            "sms": {
                "to": ["list:bulk"],
                **SMS,
                "schedule": [{"at": local(ten_hours, settings)}, {"at": local(half_an_hour, settings)}],
            }
        },
        sendable_since=now - timedelta(days=1),
        priority="emergency",
    )

    with transaction(world) as session:
        catch_up(session, settings, now)
    with transaction(world) as session:  # a second pass (restart, another scheduler) changes nothing
        catch_up(session, settings, now + timedelta(seconds=5))

    assert occurrences(world) == [("sms", OccurrenceState.MISSED, True), ("sms", OccurrenceState.PENDING, True)]
    with world() as session:
        missed = session.scalar(select(Occurrence).where(Occurrence.state == OccurrenceState.MISSED))
        assert missed is not None and "grace of 4:00:00 had passed" in (missed.reason or "")
    drain(world, settings)
    assert sent_count(world) == 20  # the late one went out once; the missed one never


def test_a_rule_fires_once_however_often_the_scheduler_wakes(world: sessionmaker[Session], settings: Settings) -> None:
    now = system_now()
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        sendable_since=now - timedelta(hours=1),
    )
    timetable = Timetable(world, settings.with_clock(FixedClock(now + timedelta(seconds=1))))
    timetable.sync()
    for key in list(timetable._plans):
        timetable._fire(key)
        timetable._fire(key)
    timetable.sync()
    assert occurrences(world) == [("sms", OccurrenceState.PENDING, False)]
    with world() as session:
        assert get(world, 1).status == Status.ACTIVE
        assert session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "activate")) == "scheduler"


def test_fire_times_before_approval_are_never_due(world: sessionmaker[Session], settings: Settings) -> None:
    now = system_now()
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now - timedelta(minutes=10), settings)}]}},
    )
    with transaction(world) as session:
        catch_up(session, settings, now)
    assert occurrences(world) == []


@pytest.mark.parametrize("status", ["draft", "submitted", "paused", "cancelled"])
def test_a_campaign_that_is_not_approved_never_sends_a_bulletin(
    world: sessionmaker[Session], settings: Settings, status: str
) -> None:
    now = system_now()
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        status=status,
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(world) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    drain(world, settings)
    assert occurrences(world) == [] and sent_count(world) == 0


def test_pausing_after_the_fire_holds_its_deliveries_and_cancelling_skips_them(
    world: sessionmaker[Session], settings: Settings
) -> None:
    from broadcaster.campaigns import lifecycle
    from broadcaster.outbox import expand

    now = system_now()
    campaign_id = campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(world) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    expand(world, settings, 1)
    with transaction(world) as session:
        lifecycle.apply(
            session, session.get_one(type(get(world, campaign_id)), campaign_id), "pause", "minh", settings=settings
        )
    drain(world, settings)
    assert sent_count(world) == 0
    with transaction(world) as session:
        lifecycle.apply(
            session, session.get_one(type(get(world, campaign_id)), campaign_id), "cancel", "minh", settings=settings
        )
    with world() as session:
        states = session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all()
    assert states == [(DeliveryState.SKIPPED, 20)]


def test_an_expired_campaign_sends_nothing_more_and_is_completed(
    world: sessionmaker[Session], settings: Settings
) -> None:
    from broadcaster.outbox import expand

    now = system_now()
    today = now.astimezone(settings.zone).date()
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now - timedelta(days=2), settings)}]}},
        valid=(today - timedelta(days=3), today - timedelta(days=1)),
        sendable_since=now - timedelta(days=5),
    )
    with transaction(world) as session:  # the scheduler last ran before the fire time, within grace
        catch_up(session, settings, now - timedelta(days=2) + timedelta(minutes=5))
    expand(world, settings, 1)
    with transaction(world) as session:
        catch_up(session, settings, now)
    drain(world, settings)
    assert sent_count(world) == 0
    assert get(world, 1).status == Status.COMPLETED
    with world() as session:
        assert session.scalar(select(func.count()).where(Delivery.state == DeliveryState.SKIPPED)) == 20


def test_sms_due_outside_the_window_wait_for_it_and_an_emergency_bypasses_it_on_record(
    world: sessionmaker[Session], settings: Settings
) -> None:
    from broadcaster.outbox import expand

    zone = settings.zone
    late_evening = coming(WEDNESDAY, time(23), zone)
    settings = settings.with_clock(FixedClock(late_evening + timedelta(seconds=1)))
    for slug, priority in (("thuong", "ordinary"), ("khan-cap", "emergency")):
        campaign(
            world,
            settings,
            {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(late_evening, settings)}]}},
            slug=slug,
            priority=priority,
            sendable_since=late_evening - timedelta(hours=1),
        )
    with transaction(world) as session:
        catch_up(session, settings, late_evening.astimezone(UTC) + timedelta(seconds=1))
    expand(world, settings, 1)
    expand(world, settings, 2)
    with world() as session:
        due = dict(
            session.execute(
                select(Delivery.occurrence_id, func.min(Delivery.due_at)).group_by(Delivery.occurrence_id)
            ).all()
        )
        bypassed = session.scalars(select(Occurrence.bypassed_window).order_by(Occurrence.id)).all()
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "bypass-window"))
    assert due[1].astimezone(zone) == (late_evening + timedelta(days=1)).replace(hour=7)
    assert due[2] == late_evening.astimezone(UTC)
    assert bypassed == [False, True]
    assert audit is not None and audit.details["window"] == "07:00-22:00"


def test_a_number_gets_at_most_three_sms_a_day(world: sessionmaker[Session], settings: Settings) -> None:
    settings = settings.model_copy(update={"send_windows": {}})  # the cap, not the hour, holds the fourth
    now = system_now()
    schedule = [{"at": local(now - timedelta(minutes=minutes), settings)} for minutes in (4, 3, 2, 1)]
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": schedule}},
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(world) as session:
        catch_up(session, settings, now)
    drain(world, settings)
    with world() as session:
        held = session.execute(select(Delivery.state, Delivery.reason).where(Delivery.occurrence_id == 4)).all()
    assert sent_count(world) == 60
    assert {tuple(row) for row in held} == {
        (DeliveryState.PENDING, "this address already had 3 sms messages in the last 24 hours")
    }


def test_an_emergency_fired_during_a_fan_out_is_sent_before_the_rest_of_it(
    world: sessionmaker[Session], settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(system_now())
    settings = settings.model_copy(update={"send_windows": {}, "claim_batch": 10, "poll_seconds": 0.05})
    settings = settings.with_clock(clock)
    subscriber_list(world, tmp_path, "ca-tinh", phones(2000, first=100))
    now = clock.now()
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:ca-tinh"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        slug="thuong-ky",
        priority="ordinary",
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(world) as session:
        catch_up(session, settings, now)
    worker = Worker(world, settings, ["sms"], "test-worker")
    for _ in range(3):  # the province-wide fan-out is under way
        worker.step()
    urgent = now + timedelta(seconds=1.1)  # after the timetable's last look, to the second
    campaign(
        world,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(urgent, settings)}]}},
        slug="khan-cap",
        priority="emergency",
        sendable_since=urgent - timedelta(hours=1),
    )
    clock.move_to(urgent + timedelta(seconds=0.1))  # its fire time comes
    with transaction(world) as session:
        catch_up(session, settings, clock.now())

    def left(campaign_slug: str) -> int:
        with world() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
                    .join(Campaign, Campaign.id == Occurrence.campaign_id)
                    .where(Campaign.slug == campaign_slug, Delivery.state.in_(["pending", "sending"]))
                )
                or 0
            )

    def emergency_recipients() -> int | None:
        with world() as session:
            return session.scalar(
                select(Occurrence.recipients)
                .join(Campaign, Campaign.id == Occurrence.campaign_id)
                .where(Campaign.slug == "khan-cap", Occurrence.state == OccurrenceState.EXPANDED)
            )

    def the_emergency_is_out() -> bool:
        worker.step()
        return emergency_recipients() is not None and not left("khan-cap")

    wait_for(the_emergency_is_out, what="the emergency to be sent")
    assert emergency_recipients() == 20 and left("khan-cap") == 0
    assert left("thuong-ky") > 1000  # most of the ordinary fan-out still waits behind it


def new_york_plan(cron: str) -> Plan:
    zone = ZoneInfo("America/New_York")
    return Plan(
        1,
        "c",
        "sms",
        "0",
        None,
        cron_trigger(cron, zone),
        datetime(2026, 3, 1, tzinfo=zone),
        datetime(2026, 12, 1, tzinfo=zone),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


NEW_YORK = ZoneInfo("America/New_York")


def test_a_dst_fall_back_neither_fires_twice_nor_hangs() -> None:
    fires = list(
        new_york_plan("30 1 * * *").fires(
            datetime(2026, 10, 31, tzinfo=NEW_YORK), datetime(2026, 11, 3, tzinfo=NEW_YORK)
        )
    )
    assert [fire.astimezone(NEW_YORK).strftime("%d %H:%M %Z") for fire in fires] == [
        "31 01:30 EDT",
        "01 01:30 EDT",
        "02 01:30 EST",
    ]


def test_a_dst_spring_forward_fires_the_skipped_time_once() -> None:
    fires = list(
        new_york_plan("30 2 * * *").fires(
            datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), datetime(2026, 3, 10, 12, tzinfo=NEW_YORK)
        )
    )
    assert len(fires) == 3 and len({fire.date() for fire in fires}) == 3


def test_every_half_hour_across_the_fall_back_fires_each_wall_time_once() -> None:
    fires = list(
        new_york_plan("*/30 * * * *").fires(
            datetime(2026, 11, 1, 0, 15, tzinfo=NEW_YORK), datetime(2026, 11, 1, 3, 0, tzinfo=NEW_YORK)
        )
    )
    walls = [fire.astimezone(NEW_YORK).strftime("%H:%M") for fire in fires]
    assert walls == ["00:30", "01:00", "01:30", "02:00", "02:30", "03:00"]


@pytest.mark.postgresql
def test_two_schedulers_on_one_postgresql_database_create_each_occurrence_once(
    postgres_url: str,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from broadcaster.db import make_engine, make_sessions, upgrade
    from broadcaster.examples import import_examples

    settings = Settings(database_url=postgres_url, output_dir=tmp_path / "out")
    engine = make_engine(postgres_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
    subscriber_list(sessions, tmp_path, "bulk", phones(5))
    now = system_now()
    schedule = [{"at": local(now - timedelta(seconds=seconds), settings)} for seconds in range(1, 40)]
    campaign(
        sessions,
        settings,
        {
            "sms": {"to": ["list:bulk"], **SMS, "schedule": schedule},
            "facebook": {"to": ["page:sotttt-tay-ninh"], "schedule": schedule},
        },
        sendable_since=now - timedelta(hours=1),
    )
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait()
            with transaction(sessions) as session:
                catch_up(session, settings, now, plans_for(session, settings))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 78
    engine.dispose()
