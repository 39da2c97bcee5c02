"""Campaigns: checking a campaign file against the directory, storing it, and its history.

`check_campaign` finds every problem at once; `fill` writes a checked campaign's rows (saving it, and the
status change an edit can cause, is `broadcaster.campaigns.revisions.save_campaign`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.campaigns.checks import check_renderings, repeat_warnings
from broadcaster.campaigns.file import (
    CampaignSpec,
    ChannelSpec,
    CronRule,
    Fallback,
    OnceRule,
    Rules,
    RuleSpec,
    SlotsRule,
    Validity,
    first_fire,
)
from broadcaster.campaigns.texts import Texts, starting_texts
from broadcaster.cron import local
from broadcaster.directory import AreaIndex, ordered_slots, provider_template, replaced_areas
from broadcaster.directory.audience import Selector, missing, parse_selector, stations_for
from broadcaster.errors import NotFound, UserError
from broadcaster.models import Campaign, CampaignChannel, CampaignRevision, Issuer, Rule, RuleKind, Status
from broadcaster.problems import InvalidInput, Problem, from_validation_error
from broadcaster.settings import Settings
from broadcaster.yaml_files import read_yaml
from channels.base import ChannelAdapter, FillsTemplates, RecipientKind, registered_channels


def find_campaign(session: Session, slug: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise NotFound(f"there is no campaign '{slug}' (see 'broadcaster campaign list')")
    return campaign


def find_issuer(session: Session, slug: str) -> Issuer | None:
    return session.scalar(select(Issuer).where(Issuer.slug == slug))


def area_notes(session: Session, spec: CampaignSpec, on: date) -> list[str]:
    """Where an audience's areas had ended by `on`, which areas it reaches instead (DOMAIN §13), one line each."""
    notes = []
    for name, channel in spec.channels.items():
        for area, successors in replaced_areas(session, channel.areas, on) if channel.areas else []:
            now = ", ".join(f"{successor.code} ({successor.name})" for successor in successors)
            ended = area.valid_until.strftime("%d/%m/%Y") if area.valid_until else ""
            notes.append(f"channels.{name}.areas: {area.code} ({area.name}) ended on {ended}; it reaches {now}")
    return notes


@dataclass
class ChannelParts:
    """What the checks read of one channel: its audience, areas, options and the rules that parsed."""

    to: list[str]
    areas: list[str]
    rules: list[tuple[int, Rules]]  # (position in the file, rule): paths name the rule as written
    options: dict[str, Any]
    fallback: Fallback | None = None
    scheduled: bool = True  # whether the file gives the channel a timetable (rules that failed to parse count)

    @classmethod
    def of(cls, channel: ChannelSpec) -> ChannelParts:
        rules = list(enumerate(channel.schedule))
        return cls(list(channel.to), list(channel.areas), rules, channel.options, channel.fallback, bool(rules))

    @classmethod
    def salvage(cls, raw: Any) -> ChannelParts | None:
        """The usable parts of a channel section that failed structural validation (None: nothing usable)."""
        if not isinstance(raw, dict):
            return None
        rules = []
        for position, item in enumerate(_list(raw.get("schedule"))):
            try:
                rules.append((position, _RULE.validate_python(item)))
            except ValidationError:
                continue  # reported by the structural validation
        options = {key: value for key, value in raw.items() if key not in ("to", "areas", "schedule", "fallback")}
        try:
            fallback = Fallback.model_validate(raw["fallback"]) if raw.get("fallback") is not None else None
        except ValidationError:
            fallback = None  # reported by the structural validation
        scheduled = bool(_list(raw.get("schedule")))
        return cls(_texts(raw.get("to")), _texts(raw.get("areas")), rules, options, fallback, scheduled)


@dataclass
class CampaignParts:
    """What the directory and timetable checks read of a campaign; None where the file is broken."""

    issuer: str | None
    valid: Validity | None
    channels: dict[str, ChannelParts]

    @classmethod
    def of(cls, spec: CampaignSpec) -> CampaignParts:
        return cls(spec.issuer, spec.valid, {name: ChannelParts.of(c) for name, c in spec.channels.items()})

    @classmethod
    def salvage(cls, data: Mapping[str, Any]) -> CampaignParts:
        """The parts of a structurally broken file that can still be checked, so one mistake hides no other."""
        issuer = data.get("issuer")
        try:
            valid: Validity | None = Validity.model_validate(data.get("valid"))
        except ValidationError:
            valid = None
        sections = data.get("channels")
        channels = {
            str(name): parts
            for name, raw in (sections.items() if isinstance(sections, dict) else [])
            if (parts := ChannelParts.salvage(raw)) is not None
        }
        return cls(issuer if isinstance(issuer, str) else None, valid, channels)


_RULE: TypeAdapter[Rules] = TypeAdapter(RuleSpec)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _texts(value: Any) -> list[str]:
    return [item for item in _list(value) if isinstance(item, str)]


@dataclass
class CheckedFile:
    """A campaign file checked: its spec when it is structurally valid, its problems, its warnings."""

    source: str
    spec: CampaignSpec | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def check_campaign_file(session: Session, path: Path, settings: Settings, now: datetime | None = None) -> CheckedFile:
    """Every problem of a campaign file in one go — structure, directory, timetable, templates — and warnings."""
    try:
        data = read_yaml(path)
    except InvalidInput as exc:
        return CheckedFile(str(path), None, exc.problems)
    return check_campaign_data(session, data, str(path), settings, now)


def check_campaign_data(
    session: Session, data: Any, source: str, settings: Settings, now: datetime | None = None
) -> CheckedFile:
    if not isinstance(data, dict):
        return CheckedFile(source, None, [Problem(source, "a campaign file must be a mapping of fields")])
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        # The directory and timetable are checked on what did parse: a bad cron or an impossible
        # date must not hide an unknown group or a rule outside the window.
        found, _ = check_parts(session, CampaignParts.salvage(data), settings)
        return CheckedFile(source, None, list(dict.fromkeys([*from_validation_error(exc), *found])))
    problems = check_campaign(session, spec, settings)
    warnings = campaign_warnings(spec, settings, now)
    issuer = find_issuer(session, spec.issuer) if not problems else None
    if issuer is not None:
        texts = texts_for(session, spec, settings)
        warnings += repeat_warnings(session, spec, issuer, settings, texts)
    return CheckedFile(source, spec, problems, warnings)


def texts_for(session: Session, spec: CampaignSpec, settings: Settings) -> Texts:
    """The texts a campaign file stands for: the campaign's own when it exists and keeps its template (a
    revision's, while one is drafted), else a copy of the shared template it names (UserError: none such)."""
    existing = session.scalar(select(Campaign).where(Campaign.slug == spec.campaign))
    if existing is not None and existing.template == spec.template:
        revision = session.get(CampaignRevision, existing.id)
        kept = revision.texts if revision is not None else existing.texts
        if kept:
            return dict(kept)
    return starting_texts(settings, spec.template)


def check_campaign(
    session: Session, spec: CampaignSpec, settings: Settings, texts: Mapping[str, Any] | None = None
) -> list[Problem]:
    """Every problem of a structurally valid campaign, checked against the directory, and its texts rendered
    (`texts`: the campaign's; by default those the file stands for, see `texts_for`)."""
    problems, issuer = check_parts(session, CampaignParts.of(spec), settings)
    if texts is None:
        try:
            texts = texts_for(session, spec, settings)
        except UserError as exc:
            return [*problems, Problem("template", str(exc))]
    if issuer is not None and not problems:
        problems += check_renderings(session, spec, issuer, settings, texts)
    return problems


def check_parts(session: Session, parts: CampaignParts, settings: Settings) -> tuple[list[Problem], Issuer | None]:
    """Problems of the issuer, audiences, options and timetable rules; and the issuer when it is known."""
    problems: list[Problem] = []
    issuer = find_issuer(session, parts.issuer) if parts.issuer is not None else None
    if parts.issuer is not None and issuer is None:
        known = ", ".join(session.scalars(select(Issuer.slug).order_by(Issuer.slug))) or "none imported yet"
        problems.append(Problem("issuer", f"issuer '{parts.issuer}' is not known (known issuers: {known})"))
    channels = registered_channels()
    for name, channel in parts.channels.items():
        where = f"channels.{name}"
        adapter = channels.get(name)
        if adapter is None:
            known = ", ".join(sorted(channels))
            problems.append(Problem(where, f"'{name}' is not a channel (known channels: {known})"))
            continue
        problems += _check_options(where, adapter, channel, settings) or _check_template(
            session, where, adapter, channel
        )
        selectors = _check_audience(session, where, adapter, channel, problems)
        problems += _check_rules(session, where, parts.valid, channel, selectors, settings)
    problems += _check_fallbacks(parts.channels, channels)
    return problems, issuer


def _check_fallbacks(channels: Mapping[str, ChannelParts], known: Mapping[str, type[ChannelAdapter]]) -> list[Problem]:
    """Each channel sends on its own timetable to its audience, or only as another channel's fallback."""
    problems = []
    targets = {parts.fallback.channel: name for name, parts in channels.items() if parts.fallback is not None}
    for name, parts in channels.items():
        where = f"channels.{name}"
        if name in targets:
            problems += _check_fallback_target(where, name, targets[name], parts)
        elif not parts.scheduled:
            problems.append(
                Problem(
                    f"{where}.schedule",
                    f"{name} has no timetable, so it sends nothing: give it one, or make it another channel's fallback",
                )
            )
        elif not parts.to:
            problems.append(Problem(f"{where}.to", f"{name} has no audience: name who receives it"))
        if parts.fallback is not None:
            problems += _check_fallback_source(where, name, parts.fallback, channels, known)
    return problems


def _check_fallback_target(where: str, name: str, source: str, parts: ChannelParts) -> list[Problem]:
    problems = []
    if parts.scheduled:
        problems.append(
            Problem(
                f"{where}.schedule",
                f"{name} is {source}'s fallback, so it sends only to whom {source} could not reach: leave its "
                "timetable empty (with a timetable of its own, everyone would get both)",
            )
        )
    if parts.to:
        problems.append(
            Problem(f"{where}.to", f"{name} is {source}'s fallback and sends to {source}'s audience: leave it empty")
        )
    return problems


def _check_fallback_source(
    where: str,
    name: str,
    fallback: Fallback,
    channels: Mapping[str, ChannelParts],
    known: Mapping[str, type[ChannelAdapter]],
) -> list[Problem]:
    path, target = f"{where}.fallback.channel", fallback.channel
    if target == name:
        return [Problem(path, f"{name} cannot be its own fallback: name another of the campaign's channels")]
    if target not in channels:
        return [
            Problem(path, f"the campaign has no channel '{target}' to fall back to: add it (its text is what is sent)")
        ]
    if channels[target].fallback is not None:
        return [Problem(path, f"{target} has a fallback of its own: a fallback cannot fall back again")]
    adapter, other = known.get(name), known.get(target)
    if adapter is not None and other is not None and adapter.recipient_kind != other.recipient_kind:
        return [
            Problem(
                path,
                f"{name} sends to {adapter.recipient_kind.plural}, {target} to {other.recipient_kind.plural}: "
                "a fallback must reach the same recipients",
            )
        ]
    return []


def campaign_warnings(spec: CampaignSpec, settings: Settings, now: datetime | None = None) -> list[Problem]:
    """What is valid but will send nothing: a validity window, or rules, entirely in the past."""
    zone = settings.zone
    moment = (now or settings.clock.now()).astimezone(zone)
    today = moment.date()
    if spec.valid.ends < today:
        return [Problem("valid", f"the validity window ended on {spec.valid.ends}, before today: nothing will be sent")]
    warnings = []
    for name, channel in spec.channels.items():
        for index, rule in enumerate(channel.schedule):
            path = f"channels.{name}.schedule[{index}]"
            if isinstance(rule, OnceRule) and (at := local(rule.at, zone)) < moment:
                warnings.append(Problem(f"{path}.at", f"{at:%Y-%m-%d %H:%M} is already past: this rule sends nothing"))
            elif not isinstance(rule, OnceRule) and (last := rule.ends or spec.valid.ends) < today:
                warnings.append(Problem(path, f"runs until {last}, already past: this rule sends nothing"))
    return warnings


def _check_options(
    where: str, adapter: type[ChannelAdapter], channel: ChannelParts, settings: Settings
) -> list[Problem]:
    try:
        # Options that name files (a Facebook image) are checked against the content folder.
        adapter.CampaignOptions.model_validate(channel.options, context={"content_dir": settings.content_dir})
    except ValidationError as exc:
        return from_validation_error(exc, [where])
    return []


def _check_template(
    session: Session, where: str, adapter: type[ChannelAdapter], channel: ChannelParts
) -> list[Problem]:
    """The campaign's values for the provider template its options name (a Zalo OA's ZNS template), against the
    template as the directory keeps it: every parameter given, none over its length."""
    if not issubclass(adapter, FillsTemplates):
        return []
    options = adapter.CampaignOptions.model_validate(channel.options)
    template_id = adapter.template_named(options)
    if template_id is None:
        return []
    template = provider_template(session, adapter.name, template_id)
    return [Problem(f"{where}.template_id", problem) for problem in adapter.template_problems(options, template)]


def _check_audience(
    session: Session, where: str, adapter: type[ChannelAdapter], channel: ChannelParts, problems: list[Problem]
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


def _check_range(path: str, starts: date | None, ends: date | None, valid: Validity) -> list[Problem]:
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
    valid: Validity | None,
    channel: ChannelParts,
    selectors: Sequence[Selector],
    settings: Settings,
) -> list[Problem]:
    """Rules against the validity window (when it parsed) and the stations' slots."""
    zone = settings.zone
    problems: list[Problem] = []
    for index, rule in channel.rules:
        path = f"{where}.schedule[{index}]"
        if isinstance(rule, OnceRule) and valid is not None:
            window_start, window_end = valid.window(zone)
            at = local(rule.at, zone)
            if not window_start <= at < window_end:
                problems.append(
                    Problem(
                        path + ".at",
                        f"{at:%Y-%m-%d %H:%M} is outside the validity window {valid.starts} to {valid.ends}",
                    )
                )
        elif isinstance(rule, CronRule) and valid is not None:
            out_of_range = _check_range(path, rule.starts, rule.ends, valid)
            problems += out_of_range
            if not out_of_range and first_fire(rule, valid, zone) is None:
                problems.append(Problem(path + ".cron", f"'{rule.cron}' never fires within its dates"))
        elif isinstance(rule, SlotsRule):
            problems += _check_range(path, rule.starts, rule.ends, valid) if valid is not None else []
            problems += _check_slots(session, path, rule, channel, selectors, settings.today())
    return problems


def _check_slots(
    session: Session, path: str, rule: SlotsRule, channel: ChannelParts, selectors: Sequence[Selector], on: date
) -> list[Problem]:
    if any(selector.kind != RecipientKind.STATION for selector in selectors):
        return [Problem(path + ".slots", "slots are broadcast times of radio stations; this audience has none")]
    problems = []
    for station in stations_for(session, selectors, channel.areas, on):
        for slot in rule.slots:
            if slot not in station.slots:
                known = ", ".join(name for name, _ in ordered_slots(station.slots)) or "none"
                problems.append(
                    Problem(path + ".slots", f"station '{station.slug}' has no slot '{slot}' (its slots: {known})")
                )
    return problems


# ---- storing -----------------------------------------------------------------------------------


def rules_of(channel: ChannelSpec, zone: ZoneInfo) -> list[Rule]:
    """The channel's timetable as rule rows (not added to any session until a campaign holds them)."""
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


def fill(campaign: Campaign, spec: CampaignSpec, texts: Mapping[str, Any], issuer: Issuer, zone: ZoneInfo) -> None:
    """Put a campaign document and its texts in the campaign's place (its channels are replaced)."""
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
    campaign.texts = dict(texts)
    campaign.channels = [
        CampaignChannel(
            channel=name,
            audience=list(channel.to),
            areas=list(channel.areas),
            options=channel.options,
            rules=rules_of(channel, zone),
            fallback=channel.fallback.model_dump() if channel.fallback is not None else None,
        )
        for name, channel in spec.channels.items()
    ]


# A draft is edited in place (a submitted one returns to draft); an approved campaign is revised beside it.
EDITABLE = frozenset({Status.DRAFT, Status.SUBMITTED})
REVISABLE = frozenset({Status.APPROVED, Status.ACTIVE, Status.PAUSED})


def spec_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-by-field differences between two normalised specs, for the audit log."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            changes += spec_changes(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))
        return changes
    return [] if old == new else [{"field": path, "old": old, "new": new}]
