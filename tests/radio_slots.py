"""Radio slots that have gone out, for the airing and portal tests: a campaign to two stations whose
two fire times have just passed, through the real timetable, outbox, worker and radio channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import Delivery
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from tests.scenario import campaign, local

STATIONS = ("dtt-go-dau", "dtt-tan-bien")


def aired_slots(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: datetime | None = None,
    still_to_come: tuple[timedelta, ...] = (),
) -> dict[str, list[int]]:
    """Delivery ids by station, earliest first: each station's scripts of 20 and of 10 minutes ago (and, on
    the timetable, slots `still_to_come` after now, which have not fired)."""
    now = now or settings.clock.now()
    times = [now - timedelta(minutes=20), now - timedelta(minutes=10), *(now + later for later in still_to_come)]
    radio = {
        "to": [f"station:{slug}" for slug in STATIONS],
        "schedule": [{"at": local(moment, settings)} for moment in times],
    }
    campaign(sessions, settings, {"radio": radio}, slug="phat-thanh", sendable_since=now - timedelta(hours=1))
    with transaction(sessions) as session:
        catch_up(session, settings, now)
    Worker(sessions, settings, ["radio"], "radio-worker").drain(timeout=60)
    with sessions() as session:
        rows = session.execute(select(Delivery.address, Delivery.id).order_by(Delivery.id)).all()
    found: dict[str, list[int]] = {}
    for address, delivery_id in rows:
        found.setdefault(address, []).append(delivery_id)
    return found
