"""Delivery policy as decisions: retry, send windows, grace, validity, daily caps (DOMAIN §5)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from broadcaster import policy
from broadcaster.models import OccurrenceState, Status
from broadcaster.settings import Settings

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SETTINGS = Settings(send_windows={"sms": "07:00-22:00"}, grace_minutes={"sms": 240}, timezone="Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


def test_retry_backs_off_exponentially_with_jitter_and_honours_retry_after() -> None:
    retry = policy.RetryPolicy(max_attempts=4, base_seconds=30, max_seconds=100, jitter=0.2)
    now = at(15, 9)
    rng = random.Random(1)
    waits = [(retry.retry_at(attempt, now, rng=rng) - now).total_seconds() for attempt in (1, 2, 3)]  # type: ignore[operator]
    assert 24 <= waits[0] <= 36 and 48 <= waits[1] <= 72 and 80 <= waits[2] <= 120
    assert retry.retry_at(4, now) is None
    assert (retry.retry_at(1, now, retry_after=600) - now).total_seconds() == 600  # type: ignore[operator]


def test_an_ordinary_sms_fired_at_night_waits_for_the_window_and_an_emergency_goes_at_once() -> None:
    night = at(15, 23, 30)
    ordinary = policy.first_send(SETTINGS, "sms", night, late=False, emergency=False, now=night)
    assert ordinary == policy.FirstSend(at(16, 7).astimezone(UTC), False)
    urgent = policy.first_send(SETTINGS, "sms", night, late=False, emergency=True, now=night)
    assert urgent == policy.FirstSend(night, True)
    assert policy.first_send(SETTINGS, "email", night, late=False, emergency=False, now=night).due == night


def test_a_late_occurrence_is_due_when_recorded_not_at_its_fire_time() -> None:
    fire, now = at(15, 9), at(15, 10)
    assert policy.first_send(SETTINGS, "sms", fire, late=True, emergency=False, now=now).due == now
    assert policy.first_send(SETTINGS, "sms", fire, late=False, emergency=False, now=now).due == fire


def test_a_fire_time_within_grace_is_late_and_beyond_it_missed() -> None:
    fire = at(15, 9)
    assert policy.fire_decision(SETTINGS, "sms", fire, fire + timedelta(seconds=30)) == policy.Fire(
        OccurrenceState.PENDING, False, None
    )
    assert policy.fire_decision(SETTINGS, "sms", fire, fire + timedelta(hours=4)).late
    missed = policy.fire_decision(SETTINGS, "sms", fire, fire + timedelta(hours=4, seconds=1))
    assert missed.state == OccurrenceState.MISSED
    assert missed.reason == "the service was not running at 2026-11-15 09:00 and the sms grace of 4:00:00 had passed"


def campaign(status: str = Status.ACTIVE, until: date = date(2026, 11, 20)) -> Any:
    return SimpleNamespace(slug="bao-lu", status=status, valid_from=date(2026, 11, 10), valid_until=until)


def channel(paused: bool = False) -> Any:
    return SimpleNamespace(channel="sms", paused=paused, pause_reason=None)


def test_a_campaign_channel_may_send_only_approved_or_active_unpaused_and_within_validity() -> None:
    assert policy.may_send(SETTINGS, campaign(), channel(), at(15, 9)) is None
    assert policy.may_send(SETTINGS, campaign(Status.PAUSED), channel(), at(15, 9)) == "the campaign is paused"
    assert policy.may_send(SETTINGS, campaign(), None, at(15, 9)) == "the campaign no longer has this channel"
    assert policy.may_send(SETTINGS, campaign(), channel(True), at(15, 9)) == "the sms channel is paused: by staff"
    assert policy.may_send(SETTINGS, campaign(), channel(), at(21, 0, 1)) == (
        "2026-11-21 is outside the campaign's validity window 2026-11-10 to 2026-11-20"
    )


def test_validity_ends_at_local_midnight_after_its_last_day() -> None:
    last = date(2026, 11, 20)
    assert not policy.validity_over(SETTINGS, last, at(20, 23, 59))
    assert policy.validity_over(SETTINGS, last, at(21, 0, 0))
    assert policy.retry_refusal(SETTINGS, campaign(), at(21, 0)) is not None
    assert policy.retry_refusal(SETTINGS, campaign(Status.COMPLETED), at(15, 0)) is not None
    assert policy.retry_refusal(SETTINGS, campaign(), at(15, 0)) is None


@pytest.mark.parametrize(
    ("done", "in_flight", "frees"),
    [
        ([], [], None),
        ([at(15, 8), at(15, 9)], [], None),
        # full: the oldest of the last three leaves the 24 hours first
        ([at(15, 8), at(15, 9), at(15, 10)], [], at(16, 8)),
        ([at(14, 7), at(15, 8), at(15, 9), at(15, 10)], [], at(16, 8)),
        # a message older than 24 hours no longer counts
        ([at(14, 11), at(15, 8), at(15, 9)], [], None),
        # full only with another worker's message in flight: ask again when its lease ends
        ([at(15, 8), at(15, 9)], [at(15, 12, 5)], at(15, 12, 5)),
        ([at(15, 8), at(15, 9), at(15, 10)], [at(15, 12, 5)], at(16, 8)),
    ],
)
def test_the_daily_cap_says_when_an_address_may_have_one_more(
    done: list[datetime], in_flight: list[datetime], frees: datetime | None
) -> None:
    assert policy.cap_frees_at(3, done, in_flight, at(15, 12)) == frees


def test_no_cap_lets_everything_through_and_a_held_message_also_waits_for_the_window() -> None:
    assert policy.cap_frees_at(0, [at(15, 8)] * 10, [], at(15, 12)) is None
    assert policy.held_until(SETTINGS, "sms", at(16, 3)) == at(16, 7).astimezone(UTC)


def test_a_scheduled_facebook_post_is_handed_over_ahead_of_its_time_and_others_at_it() -> None:
    settings = SETTINGS.model_copy(update={"schedule_ahead_minutes": 60})
    assert policy.hand_over_ahead(settings, "facebook", {"scheduled": True}) == timedelta(hours=1)
    assert policy.hand_over_ahead(settings, "facebook", {}) == timedelta(0)
    assert policy.hand_over_ahead(settings, "sms", {"max_parts": 1}) == timedelta(0)
    fire = at(15, 19)
    ahead = policy.first_send(
        settings, "facebook", fire, late=False, emergency=False, now=at(15, 17), ahead=timedelta(hours=1)
    )
    assert ahead.due == at(15, 18)
    # Recorded late (the service was down), it goes now, still before its time.
    late = policy.first_send(
        settings, "facebook", fire, late=True, emergency=False, now=at(15, 18, 30), ahead=timedelta(hours=1)
    )
    assert late.due == at(15, 18, 30)
