"""Prometheus metrics, read from the database at each scrape (the one state every process shares, so any web
process answers for the whole installation), in the text format of the maintained `prometheus-client`.

    broadcaster_queue_depth{channel,state}              deliveries not finished: pending, sending
    broadcaster_oldest_pending_seconds{channel}         how long the oldest due, pending delivery has waited
    broadcaster_deliveries{channel,state}               every delivery by its state: sends and outcomes
    broadcaster_report_lag_seconds{channel}             the oldest accepted SMS (last 7 days) still without a report
    broadcaster_paused_channels{channel}                campaign channels paused after a permanent failure
    broadcaster_scheduler_behind_seconds                how far the timetable's last pass is behind now
    broadcaster_scheduler_leader                        1 when a scheduler holds the leader's lock (PostgreSQL)

The queries use the outbox's own indexes (the unfinished rows' partial index, the folded counts): a scrape
costs the size of the work left, not of the outbox's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select, text, union_all
from sqlalchemy.orm import Session

from broadcaster.models import (
    CampaignChannel,
    Delivery,
    DeliveryCount,
    DeliveryCountChange,
    DeliveryState,
    Occurrence,
    SchedulerState,
)
from broadcaster.processes import ADVISORY_LOCK_KEY

REPORTS_LOOKED_AT = timedelta(days=7)


def _seconds(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Metric]:
        with Session(self.engine) as session:
            yield from self._queue(session)
            yield self._deliveries(session)
            yield self._report_lag(session)
            yield self._paused(session)
            yield from self._scheduler(session)

    def _queue(self, session: Session) -> Iterator[Metric]:
        depth = GaugeMetricFamily("broadcaster_queue_depth", "Deliveries not finished", labels=["channel", "state"])
        unfinished = (
            select(Delivery.channel, Delivery.state, func.count())
            .where(Delivery.done_at.is_(None))
            .group_by(Delivery.channel, Delivery.state)
        )
        for channel, state, number in session.execute(unfinished):
            depth.add_metric([channel, state], number)
        yield depth
        oldest = GaugeMetricFamily(
            "broadcaster_oldest_pending_seconds", "Age of the oldest due pending delivery", labels=["channel"]
        )
        due = (
            select(Delivery.channel, func.min(Delivery.due_at))
            .where(Delivery.done_at.is_(None), Delivery.state == DeliveryState.PENDING, Delivery.due_at <= self.now)
            .group_by(Delivery.channel)
        )
        for channel, due_at in session.execute(due):
            oldest.add_metric([channel], _seconds(self.now, due_at))
        yield oldest

    def _deliveries(self, session: Session) -> Metric:
        family = GaugeMetricFamily("broadcaster_deliveries", "Deliveries by state", labels=["channel", "state"])
        both = union_all(
            select(DeliveryCount.occurrence_id, DeliveryCount.state, DeliveryCount.number),
            select(DeliveryCountChange.occurrence_id, DeliveryCountChange.state, DeliveryCountChange.number),
        ).subquery()
        summed = (
            select(Occurrence.channel, both.c.state, func.sum(both.c.number))
            .join(Occurrence, Occurrence.id == both.c.occurrence_id)
            .group_by(Occurrence.channel, both.c.state)
        )
        for channel, state, number in session.execute(summed):
            family.add_metric([channel, state], float(number or 0))
        return family

    def _report_lag(self, session: Session) -> Metric:
        family = GaugeMetricFamily(
            "broadcaster_report_lag_seconds", "Age of the oldest accepted message without a report", labels=["channel"]
        )
        waiting = (
            select(Delivery.channel, func.min(Delivery.done_at))
            .where(
                Delivery.state == DeliveryState.ACCEPTED,
                Delivery.report.is_(None),
                Delivery.done_at > self.now - REPORTS_LOOKED_AT,
            )
            .group_by(Delivery.channel)
        )
        for channel, done_at in session.execute(waiting):
            family.add_metric([channel], _seconds(self.now, done_at))
        return family

    def _paused(self, session: Session) -> Metric:
        family = GaugeMetricFamily("broadcaster_paused_channels", "Campaign channels paused", labels=["channel"])
        paused = (
            select(CampaignChannel.channel, func.count())
            .where(CampaignChannel.paused.is_(True))
            .group_by(CampaignChannel.channel)
        )
        for channel, number in session.execute(paused):
            family.add_metric([channel], number)
        return family

    def _scheduler(self, session: Session) -> Iterator[Metric]:
        last = session.scalar(select(func.max(SchedulerState.at)))
        yield GaugeMetricFamily(
            "broadcaster_scheduler_behind_seconds",
            "How far the timetable's last pass is behind now",
            value=_seconds(self.now, last),
        )
        if self.engine.dialect.name != "postgresql":
            return  # one process runs the timetable on SQLite: there is no lock to hold
        held = session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
                "AND classid::bigint = :key AND objid::bigint = (hashtext(current_schema())::bigint & 4294967295)"
            ),
            {"key": ADVISORY_LOCK_KEY},
        )
        yield GaugeMetricFamily(
            "broadcaster_scheduler_leader", "1 when a scheduler holds the leader's lock", value=1.0 if held else 0.0
        )


def metrics_text(engine: Engine, now: datetime) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine, now))
    return generate_latest(registry)
