"""Campaigns: checking a campaign file against the directory, storing it, and its history.

`check_campaign` finds every problem at once; `save_campaign` stores a checked campaign (a change
to a campaign that was submitted or paused sends it back to draft, so it is approved again).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import lifecycle
from broadcaster.audience import Selector, missing, parse_selector, stations_for
from broadcaster.campaign_file import CampaignSpec, ChannelSpec, CronRule, OnceRule, SlotsRule
from broadcaster.directory import AreaIndex, ordered_slots, replaced_areas
from broadcaster.errors import NotFound, TransitionRefused
from broadcaster.models import Campaign, CampaignChannel, Issuer, Rule, RuleKind, Status
from broadcaster.problems import Problem, from_validation_error
from broadcaster.scheduling_rules import cron_trigger
from broadcaster.settings import Settings
from channels.base import ChannelAdapter, RecipientKind, registered_channels


def find_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise NotFound(f"there is no campaign '{slug}' (see 'broadcaster campaign list')")
    return campaign


def find_issuer(session: Session, slug: str) -> Issuer | None:
    return session.scalar(select(Issuer).where(Issuer.slug == slug))


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A datetime from a campaign file in the configured zone (naive means local time)."""
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def area_notes(session: Session, spec: CampaignSpec) -> list[str]:
    """Where an audience's areas have ended, which areas it reaches instead (DOMAIN §13), one line each."""
    notes = []
    for name, channel in spec.channels.items():
        for area, successors in replaced_areas(session, channel.areas) if channel.areas else []:
            now = ", ".join(f"{successor.code} ({successor.name})" for successor in successors)
            ended = area.valid_until.strftime("%d/%m/%Y") if area.valid_until else ""
            notes.append(f"channels.{name}.areas: {area.code} ({area.name}) ended on {ended}; it reaches {now}")
    return notes


def check_campaign(session: Session, spec: CampaignSpec, settings: Settings) -> list[Problem]:
    """Every problem of a structurally valid campaign, checked against the directory and templates."""
    problems: list[Problem] = []
    issuer = find_issuer(session, spec.issuer)
    if issuer is None:
        known = ", ".join(session.scalars(select(Issuer.slug).order_by(Issuer.slug))) or "none imported yet"
        problems.append(Problem("issuer", f"issuer '{spec.issuer}' is not known (known issuers: {known})"))
    channels = registered_channels()
    for name, channel in spec.channels.items():
        where = f"channels.{name}"
        adapter = channels.get(name)
        if adapter is None:
            known = ", ".join(sorted(channels))
            problems.append(Problem(where, f"'{name}' is not a channel (known channels: {known})"))
            continue
        problems += _check_options(where, adapter, channel, settings)
        selectors = _check_audience(session, where, adapter, channel, problems)
        problems += _check_rules(session, where, spec, channel, selectors, settings.zone)
    if issuer is not None and not problems:
        from broadcaster.checks import check_renderings  # rendering needs a well-formed campaign

        problems += check_renderings(session, spec, issuer, settings)
    return problems


def _check_options(
    where: str, adapter: type[ChannelAdapter], channel: ChannelSpec, settings: Settings
) -> list[Problem]:
    try:
        # Options that name files (a Facebook image) are checked against the content folder.
        adapter.CampaignOptions.model_validate(channel.options, context={"content_dir": settings.content_dir})
    except ValidationError as exc:
        return from_validation_error(exc, [where])
    return []


def _check_audience(
    session: Session, where: str, adapter: type[ChannelAdapter], channel: ChannelSpec, problems: list[Problem]
) -> list[Selector]:

    selectors: list[Selector] = []
    for index, text in enumerate(channel.to):
        path = f"{where}.to[{index}]"
        try:
            selector = parse_selector(text)
        except ValueError as exc:
            problems.append(Problem(path, str(exc)))
            continue
        if selector.kind != adapter.recipient_kind:
            problems.append(
                Problem(
                    path,
                    f"'{text}' names {selector.kind.plural}, "
                    f"but {adapter.name} sends to {adapter.recipient_kind.plural}",
                )
            )
        elif (sentence := missing(session, selector)) is not None:
            problems.append(Problem(path, sentence))
        else:
            selectors.append(selector)
    areas = AreaIndex(session)
    for index, code in enumerate(channel.areas):
        if areas.find(code) is None:
            problems.append(Problem(f"{where}.areas[{index}]", f"area '{code}' is not in the area list"))
    return selectors


def _check_range(path: str, starts: date | None, ends: date | None, spec: CampaignSpec) -> list[Problem]:
    valid = spec.valid
    first, last = starts or valid.starts, ends or valid.ends
    problems = []
    if first < valid.starts or last > valid.ends:
        problems.append(
            Problem(path, f"runs {first} to {last}, outside the validity window {valid.starts} to {valid.ends}")
        )
    if last < first:
        problems.append(Problem(path, f"ends ({last}) before it starts ({first})"))
    return problems


def _check_rules(
    session: Session,
    where: str,
    spec: CampaignSpec,
    channel: ChannelSpec,
    selectors: Sequence[Selector],
    zone: ZoneInfo,
) -> list[Problem]:
    problems: list[Problem] = []
    window_start, window_end = spec.window(zone)
    for index, rule in enumerate(channel.schedule):
        path = f"{where}.schedule[{index}]"
        if isinstance(rule, OnceRule):
            at = local(rule.at, zone)
            if not window_start <= at < window_end:
                problems.append(
                    Problem(
                        path + ".at",
                        f"{at:%Y-%m-%d %H:%M} is outside the validity window {spec.valid.starts} to {spec.valid.ends}",
                    )
                )
        elif isinstance(rule, CronRule):
            out_of_range = _check_range(path, rule.starts, rule.ends, spec)
            problems += out_of_range
            if not out_of_range and first_cron_fire(rule, spec, zone) is None:
                problems.append(Problem(path + ".cron", f"'{rule.cron}' never fires within its dates"))
        elif isinstance(rule, SlotsRule):
            problems += _check_range(path, rule.starts, rule.ends, spec)
            problems += _check_slots(session, path, rule, channel, selectors)
    return problems


def first_cron_fire(rule: CronRule, spec: CampaignSpec, zone: ZoneInfo) -> datetime | None:
    start = datetime.combine(rule.starts or spec.valid.starts, time(0), zone)
    end = datetime.combine((rule.ends or spec.valid.ends) + timedelta(days=1), time(0), zone)
    fire: datetime | None = cron_trigger(rule.cron, zone).get_next_fire_time(None, start)
    return fire if fire is not None and fire < end else None


def _check_slots(
    session: Session, path: str, rule: SlotsRule, channel: ChannelSpec, selectors: Sequence[Selector]
) -> list[Problem]:
    if any(selector.kind != RecipientKind.STATION for selector in selectors):
        return [Problem(path + ".slots", "slots are broadcast times of radio stations; this audience has none")]
    problems = []
    for station in stations_for(session, selectors, channel.areas):
        for slot in rule.slots:
            if slot not in station.slots:
                known = ", ".join(name for name, _ in ordered_slots(station.slots)) or "none"
                problems.append(
                    Problem(path + ".slots", f"station '{station.slug}' has no slot '{slot}' (its slots: {known})")
                )
    return problems


# ---- storing -----------------------------------------------------------------------------------


def _rules_of(channel: ChannelSpec, zone: ZoneInfo) -> list[Rule]:
    rules = []
    for position, rule in enumerate(channel.schedule):
        if isinstance(rule, OnceRule):
            rules.append(Rule(position=position, kind=RuleKind.ONCE, at=local(rule.at, zone)))
        elif isinstance(rule, CronRule):
            rules.append(
                Rule(position=position, kind=RuleKind.CRON, cron=rule.cron, starts=rule.starts, ends=rule.ends)
            )
        else:
            rules.append(
                Rule(position=position, kind=RuleKind.SLOTS, slots=rule.slots, starts=rule.starts, ends=rule.ends)
            )
    return rules


def _fill(campaign: Campaign, spec: CampaignSpec, issuer: Issuer, zone: ZoneInfo) -> None:
    campaign.issuer_id = issuer.id
    campaign.number = spec.number
    campaign.subject = spec.subject
    campaign.priority = spec.priority
    campaign.valid_from = spec.valid.starts
    campaign.valid_until = spec.valid.ends
    campaign.locales = spec.locales or [issuer.default_locale]
    campaign.template = spec.template
    campaign.variables = spec.model_dump(mode="json")["variables"]
    campaign.spec = spec.normalised()
    campaign.channels = [
        CampaignChannel(
            channel=name,
            audience=list(channel.to),
            areas=list(channel.areas),
            options=channel.options,
            rules=_rules_of(channel, zone),
        )
        for name, channel in spec.channels.items()
    ]


EDITABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.PAUSED})


def save_campaign(session: Session, spec: CampaignSpec, actor: str, settings: Settings) -> tuple[Campaign, bool]:
    """Store a checked campaign; returns it and whether it is new. Changes are audited field by field."""
    issuer = find_issuer(session, spec.issuer)
    if issuer is None:
        raise NotFound(f"issuer '{spec.issuer}' is not known")
    campaign = session.scalar(select(Campaign).where(Campaign.slug == spec.campaign))
    if campaign is None:
        campaign = Campaign(slug=spec.campaign, status=Status.DRAFT, created_by=actor)
        _fill(campaign, spec, issuer, settings.zone)
        session.add(campaign)
        session.flush()
        lifecycle.record(session, campaign, actor, "create", spec=campaign.spec)
        return campaign, True
    status = Status(campaign.status)
    if status not in EDITABLE:
        raise TransitionRefused(
            f"campaign '{campaign.slug}' is {status.value} and its content cannot change; "
            "pause it first, then load the new file (it will need approval again)"
        )
    changes = spec_changes(campaign.spec, spec.normalised())
    if not changes:
        return campaign, False
    campaign.channels.clear()
    session.flush()  # the old channels go before the new ones arrive: (campaign, channel) is unique
    _fill(campaign, spec, issuer, settings.zone)
    lifecycle.record(session, campaign, actor, "edit", changes=changes)
    if status != Status.DRAFT:
        campaign.status, campaign.submitted_by, campaign.approved_by = Status.DRAFT, None, None
        campaign.status_before_pause = None
        lifecycle.record(
            session,
            campaign,
            actor,
            "return",
            **{"from": status.value, "to": "draft"},
            reason="content changed; it needs approval again",
        )
    return campaign, False


def spec_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-by-field differences between two normalised specs, for the audit log."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            changes += spec_changes(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return changes
    return [] if old == new else [{"field": path, "old": old, "new": new}]
