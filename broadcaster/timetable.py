"""The timetable: approved campaigns' rules become occurrences at their fire times.

Campaigns and rules in the database are the truth. The scheduler derives its jobs from them (again
on start and whenever they change) and its only effect is to insert occurrences, which the database
keeps unique per (campaign, channel, rule, fire time): a double fire, a restart or a second scheduler
cannot create one twice. After downtime, fire times within the channel's grace become late
occurrences; older ones are recorded as missed and never sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import counts
from broadcaster.campaigns import lifecycle
from broadcaster.cron import cron_trigger, walk
from broadcaster.db import insert_ignoring_duplicates, transaction
from broadcaster.directory.audience import parse_selector, stations_for
from broadcaster.models import SENDING_STATUSES, Campaign, Occurrence, Rule, RuleKind, SchedulerState, Status
from broadcaster.policy import channel_refusal, fire_decision, hand_over_ahead, validity_over
from broadcaster.retention import erase_old_addresses
from broadcaster.settings import Settings

log = logging.getLogger(__name__)
SCHEDULER = "scheduler"  # the actor named in the audit log
CURSOR = "timetable"


@dataclass(frozen=True)
class Plan:
    """One timetable rule of a campaign that may send, ready to produce its fire times."""

    campaign_id: int
    campaign: str
    channel: str
    rule_key: str
    slot: str | None
    trigger: CronTrigger | None  # None for a rule that fires once, at `starts`
    starts: datetime  # first instant it may fire (inclusive)
    ends: datetime  # exclusive
    since: datetime  # fire times before this were never due (approval or resume came later)
    ahead: timedelta = timedelta(0)  # occurrences are made this long before their fire time (scheduled posts)

    @property
    def key(self) -> str:
        return f"{self.campaign_id}/{self.channel}/{self.rule_key}/{self.starts.isoformat()}"

    def fires(self, after: datetime, until: datetime) -> Iterator[datetime]:
        """Fire times in (after, until], within the rule's dates; each local wall-clock time once."""
        lower = max(after, self.since - timedelta(microseconds=1), self.starts - timedelta(microseconds=1))
        upper = min(until, self.ends - timedelta(microseconds=1))
        if upper <= lower:
            return
        if self.trigger is None:
            if lower < self.starts <= upper:
                yield self.starts
            return
        yield from walk(self.trigger, lower, upper)


def _day_start(day: Any, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def plans_for(session: Session, settings: Settings) -> list[Plan]:
    """Every rule of every campaign channel that may send now (approved or active, not paused)."""
    zone = settings.zone
    campaigns = session.scalars(select(Campaign).where(Campaign.status.in_(SENDING_STATUSES)))
    found: list[Plan] = []
    for campaign in campaigns:
        since = campaign.sendable_since or campaign.updated_at
        for channel in campaign.channels:
            if channel_refusal(campaign, channel):
                continue
            ids = {"campaign_id": campaign.id, "campaign": campaign.slug, "channel": channel.channel, "since": since}
            ids["ahead"] = hand_over_ahead(settings, channel.channel, channel.options)
            valid = (campaign.valid_from, campaign.valid_until)
            for rule in channel.rules:
                found += rule_plans(session, rule, channel.audience, channel.areas, valid, zone, ids, settings.today())
    return found


def rule_plans(
    session: Session,
    rule: Rule,
    audience: list[str],
    areas: list[str],
    valid: tuple[date, date],
    zone: tzinfo,
    ids: dict[str, Any],
    on: date,
) -> list[Plan]:
    """The plans of one rule of a channel within the campaign's validity window (`ids`: campaign_id,
    campaign, channel, since), its stations found in the areas as they stand `on` a day. The composer
    shows a draft's next fire times through this same code."""
    valid_from = _day_start(valid[0], zone)
    valid_until = _day_start(valid[1] + timedelta(days=1), zone)
    starts = max(valid_from, _day_start(rule.starts, zone)) if rule.starts else valid_from
    ends = min(valid_until, _day_start(rule.ends + timedelta(days=1), zone)) if rule.ends else valid_until
    return _rule_plans(session, rule, audience, areas, starts, zone, {**ids, "ends": ends}, on)


def _rule_plans(
    session: Session,
    rule: Rule,
    audience: list[str],
    areas: list[str],
    starts: datetime,
    zone: tzinfo,
    common: dict[str, Any],
    on: date,
) -> list[Plan]:
    position = str(rule.position)
    if rule.kind == RuleKind.ONCE and rule.at is not None:
        return [Plan(rule_key=position, slot=None, trigger=None, starts=rule.at.astimezone(zone), **common)]
    if rule.kind == RuleKind.CRON and rule.cron:
        return [Plan(rule_key=position, slot=None, trigger=cron_trigger(rule.cron, zone), starts=starts, **common)]
    # Slots: each station's own time for the slot; stations sharing a time share an occurrence.
    selectors = [parse_selector(text) for text in audience]
    plans = []
    for slot in rule.slots or []:
        times = sorted(
            {station.slots[slot] for station in stations_for(session, selectors, areas, on) if slot in station.slots}
        )
        for at in times:
            hour, minute = at.split(":")
            trigger = CronTrigger(hour=int(hour), minute=int(minute), timezone=zone)
            plans.append(Plan(rule_key=f"{position}:{slot}", slot=slot, trigger=trigger, starts=starts, **common))
    return plans


# ---- recording fire times as occurrences -------------------------------------------------------


def record_fires(session: Session, settings: Settings, plan: Plan, after: datetime, now: datetime) -> int:
    """Occurrences for the plan's fire times in (after, now]: pending (late if late), or missed past the grace."""
    rows = []
    # A plan that hands over ahead records its fire times that long early (made again later: ignored).
    for fire in plan.fires(after, now + plan.ahead):
        decision = fire_decision(settings, plan.channel, fire, now)
        rows.append(
            {
                "campaign_id": plan.campaign_id,
                "channel": plan.channel,
                "rule_key": plan.rule_key,
                "slot": plan.slot,
                "fire_at": fire.astimezone(UTC),
                "late": decision.late,
                "state": decision.state,
                "reason": decision.reason,
                "created_at": now,
            }
        )
    created = insert_ignoring_duplicates(session, Occurrence, rows)
    if created:
        _activate(session, settings, plan.campaign_id)
    return created


def _activate(session: Session, settings: Settings, campaign_id: int) -> None:
    campaign = session.get(Campaign, campaign_id)
    if campaign is not None and campaign.status == Status.APPROVED:
        lifecycle.apply(session, campaign, "activate", SCHEDULER, settings=settings)


def _complete_expired(session: Session, settings: Settings, now: datetime) -> None:
    query = select(Campaign).where(Campaign.status.in_(SENDING_STATUSES))
    for campaign in session.scalars(query):
        if not validity_over(settings, campaign.valid_until, now):
            continue
        lifecycle.apply(session, campaign, "complete", SCHEDULER, "its validity window has ended", settings=settings)


def catch_up(session: Session, settings: Settings, now: datetime, plans: list[Plan] | None = None) -> int:
    """Turn every fire time since the last run into an occurrence; completes expired campaigns."""
    cursor = session.get(SchedulerState, CURSOR)
    after = cursor.at if cursor is not None else datetime.min.replace(tzinfo=UTC)
    created = sum(record_fires(session, settings, plan, after, now) for plan in plans or plans_for(session, settings))
    # Another scheduler may move the cursor at the same time: insert-or-ignore, then only ever forward.
    insert_ignoring_duplicates(session, SchedulerState, [{"name": CURSOR, "at": now}], count=False)
    session.execute(update(SchedulerState).where(SchedulerState.name == CURSOR, SchedulerState.at < now).values(at=now))
    _complete_expired(session, settings, now)
    return created


def next_fires(plans: list[Plan], now: datetime, count: int = 3) -> list[datetime]:
    upcoming: list[datetime] = []
    horizon = now + timedelta(days=400)
    for plan in plans:
        for index, fire in enumerate(plan.fires(now, horizon)):
            upcoming.append(fire)
            if index + 1 >= count:
                break
    return sorted(upcoming)[:count]


# ---- the service -------------------------------------------------------------------------------------


class Timetable:
    """APScheduler drives the timetable: one job per rule wakes at its fire times; a periodic job
    re-derives the jobs from the database, catches up on anything a wake-up missed and folds the delivery
    counts' changes (`broadcaster.counts`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        on_occurrence: Callable[[], None] | None = None,
        resync_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.on_occurrence = on_occurrence or (lambda: None)
        self.resync_seconds = resync_seconds
        self.scheduler = BackgroundScheduler(timezone=settings.zone)
        self._plans: dict[str, Plan] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self.sync()
        self.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.resync_seconds, timezone=self.settings.zone),
            id="sync",
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self.pull_reports,
            IntervalTrigger(seconds=self.settings.report_pull_seconds, timezone=self.settings.zone),
            id="report-pull",
            coalesce=True,
            max_instances=1,
        )
        if self.settings.retention_days is not None:
            self.scheduler.add_job(
                self.erase_old_addresses,
                IntervalTrigger(hours=24, timezone=self.settings.zone),
                id="retention",
                coalesce=True,
                max_instances=1,
                # A minute after start, then daily: the start stays quick, and a restart still erases.
                next_run_time=self.settings.clock.now() + timedelta(minutes=1),
            )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def sync(self) -> None:
        with self._lock, transaction(self.sessions) as session:
            plans = plans_for(session, self.settings)
            created = catch_up(session, self.settings, self.settings.clock.now(), plans)
        self._reschedule({plan.key: plan for plan in plans})
        if created:
            self.on_occurrence()
        with transaction(self.sessions) as session:
            counts.fold(session)  # so the monitor's and dashboard's reads stay a few rows per occurrence

    def erase_old_addresses(self) -> None:
        """The retention setting applied: addresses of old deliveries erased, audited (`broadcaster.retention`)."""
        days = self.settings.retention_days
        if days is None:
            return
        with transaction(self.sessions) as session:
            erase_old_addresses(session, self.settings.clock.now(), days)

    def pull_reports(self) -> None:
        """Delivery reports that never came: ask the gateway (DOMAIN §11). One scheduler is active at a time,
        so the gateway is asked once."""
        from broadcaster.installation import installation_id
        from broadcaster.reports import pull_reports

        with self.sessions() as session:
            installation = installation_id(session)
        found = pull_reports(self.sessions, self.settings, installation, self.settings.clock.now())
        if found.applied:
            log.info("report pull: %d delivery reports recorded", found.applied, extra={"action": "report-pull"})

    def _reschedule(self, plans: dict[str, Plan]) -> None:
        for key in set(self._plans) - set(plans):
            if self.scheduler.get_job(key) is not None:
                self.scheduler.remove_job(key)
        for key, plan in plans.items():
            if key in self._plans and self._plans[key] == plan:
                continue
            trigger = self._trigger(plan)
            if trigger is None:
                continue
            self.scheduler.add_job(
                self._fire,
                trigger,
                args=[key],
                id=key,
                replace_existing=True,
                misfire_grace_time=None,
                coalesce=True,
                max_instances=1,
            )
        self._plans = plans

    def _trigger(self, plan: Plan) -> DateTrigger | CronTrigger | None:
        now = self.settings.clock.now()
        if plan.trigger is None:
            return DateTrigger(run_date=plan.starts) if plan.starts > now else None
        if plan.ends <= now:
            return None
        fields = {field.name: str(field) for field in plan.trigger.fields}
        return CronTrigger(
            **fields, start_date=max(plan.starts, now), end_date=plan.ends, timezone=plan.trigger.timezone
        )

    def _fire(self, key: str) -> None:
        plan = self._plans.get(key)
        if plan is None:
            return
        now = self.settings.clock.now()
        with self._lock, transaction(self.sessions) as session:
            created = record_fires(session, self.settings, plan, now - timedelta(minutes=5), now)
        if created:
            log.info("occurrence of %s on %s", plan.campaign, plan.channel, extra={"action": "fire"})
            self.on_occurrence()
