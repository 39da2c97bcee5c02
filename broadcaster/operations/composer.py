"""The campaign composer: a campaign as a form instead of a YAML file, saved through the one `save` operation.

    form = form_of(spec.normalised())        a campaign file (or a stored campaign) as the form
    form.data()                              the form as campaign-file data; `export_yaml(form)` as a file
    save_form(session, actor, form, settings)

The form holds exactly what a campaign file holds — a file imported into it exports unchanged — plus
the text of the templates it edits. Templates stay where every campaign's templates live, in the
templates folder (`<template>/<locale>/<channel>.<part>.j2`): versions (`broadcaster.campaigns.versions`) fix them
from there at submit and compare them with the approved version on every check, so text written in
the page is approved, fingerprinted and watched for change exactly as text written in a file. Text
edited in the page never overwrites a template other campaigns may use: the campaign gets its own
folder, named after it, made from the shared template it started from. If the campaign does not save
(a problem, a refusal), its folder is put back as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.texts import Texts, starting_texts
from broadcaster.errors import UserError
from broadcaster.models import Campaign, CampaignRevision
from broadcaster.operations.campaigns import SavedCampaign
from broadcaster.problems import InvalidInput, Problem
from broadcaster.settings import Settings
from broadcaster.timetable_choices import RuleChoice, choice_of_rule

FORM = "the form"
# The file of each channel that the page edits: what the officer writes. The e-mail letter's layout
# (heading, signature, recipients) stays in the shared layouts; the page edits the letter's body.
EDITED_FILES = {"email": ("_letter_body.j2", "email.txt.j2"), "sms": ("sms.txt.j2",)}
EDITED_FILES |= {"facebook": ("facebook.txt.j2",), "radio": ("radio.txt.j2",), "zalo": ("zalo.txt.j2",)}
CHANNELS = ("email", "sms", "zalo", "facebook", "radio")
# The fallback the page offers a channel: Zalo first, the SMS for whom Zalo could not reach. A campaign file may
# name others; the page then shows theirs too.
FALLBACKS = {"zalo": "sms"}
# Channels a new campaign starts without: Zalo needs the OA's approved templates, which not every department has.
OFF_AT_FIRST = ("zalo",)
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")  # a language tag: never a path


@dataclass
class ChannelForm:
    audience: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    rules: list[RuleChoice] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # only those the file names (defaults stay unsaid)
    # Who this channel could not reach gets another channel's message (`campaigns.file.Fallback`, as data).
    fallback: dict[str, Any] | None = None


@dataclass
class CampaignForm:
    campaign: str = ""
    issuer: str = ""
    number: str = ""
    subject: str = ""
    priority: str = "ordinary"
    valid_from: date | None = None
    valid_until: date | None = None
    dated: date | None = None
    template: str = ""
    locales: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    cap: dict[str, Any] | None = None
    channels: dict[str, ChannelForm] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (channel, locale) → template text

    def data(self) -> dict[str, Any]:
        """The campaign as a campaign file's data; InvalidInput when a timetable choice is incomplete."""
        data, problems = self.data_and_problems()
        if problems:  # with every other problem of the form, so that one mistake hides no other
            raise InvalidInput(FORM, problems + _structural_problems(data, {p.where for p in problems}))
        return data

    def data_and_problems(self) -> tuple[dict[str, Any], list[Problem]]:
        """The campaign's data without the timetable choices that are incomplete, and a problem for each."""
        problems: list[Problem] = []
        channels = {}
        for name, channel in self.channels.items():
            schedule = []
            for index, choice in enumerate(channel.rules):
                try:
                    schedule.append(choice.rule())
                except ValueError as exc:
                    problems.append(Problem(f"channels.{name}.schedule[{index}]", str(exc)))
            channels[name] = {"to": channel.audience, "schedule": schedule, "areas": channel.areas, **channel.options}
            if channel.fallback is not None:
                channels[name]["fallback"] = channel.fallback
        data: dict[str, Any] = {
            "campaign": self.campaign,
            "issuer": self.issuer,
            "number": self.number,
            "subject": self.subject,
            "priority": self.priority,
            "valid": {"from": _iso(self.valid_from), "until": _iso(self.valid_until)},
            "template": self.template,
            "locales": self.locales,
            "variables": self.variables,
            "channels": channels,
        }
        if self.dated is not None:
            data["date"] = self.dated.isoformat()
        if self.cap is not None:
            data["cap"] = self.cap
        return data, problems


def _structural_problems(data: dict[str, Any], incomplete: set[str]) -> list[Problem]:
    from broadcaster.campaigns.file import parse_campaign

    try:
        parse_campaign(data, FORM)
    except InvalidInput as exc:
        return _besides(exc.problems, incomplete)
    return []


def _besides(problems: list[Problem], incomplete: set[str]) -> list[Problem]:
    """Problems other than an emptied timetable's, where an incomplete choice was left out (already said)."""
    channels = {where.split(".schedule", 1)[0] for where in incomplete}
    return [p for p in problems if ".schedule" not in p.where or p.where.split(".schedule", 1)[0] not in channels]


def _every_problem(session: Session, form: CampaignForm, settings: Settings) -> list[Problem]:
    """Every problem of a form that does not read as a campaign: its structure, and the directory and
    timetable checked on what did read (as `campaign check` does for a broken file)."""
    from broadcaster.campaigns.store import check_campaign_data

    data, incomplete = form.data_and_problems()
    checked = check_campaign_data(session, data, FORM, settings)
    return incomplete + _besides(checked.problems, {p.where for p in incomplete})


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(value: Any) -> date | None:
    return None if value is None else value if isinstance(value, date) else date.fromisoformat(str(value))


_NOT_OPTIONS = ("to", "areas", "schedule", "fallback")  # what every channel has; the rest is its own options


def form_of(data: Mapping[str, Any]) -> CampaignForm:
    """A structurally valid campaign (`CampaignSpec.normalised()`) as the form."""
    channels = {
        name: ChannelForm(
            audience=list(section["to"]),
            areas=list(section.get("areas", [])),
            rules=[choice_of_rule(rule) for rule in section["schedule"]],
            options={key: value for key, value in section.items() if key not in _NOT_OPTIONS},
            fallback=dict(section["fallback"]) if section.get("fallback") is not None else None,
        )
        for name, section in data["channels"].items()
    }
    return CampaignForm(
        campaign=data["campaign"],
        issuer=data["issuer"],
        number=data["number"],
        subject=data["subject"],
        priority=data.get("priority", "ordinary"),
        valid_from=_date(data["valid"]["from"]),
        valid_until=_date(data["valid"]["until"]),
        dated=_date(data.get("date")),
        template=data["template"],
        locales=list(data.get("locales", [])),
        variables=dict(data.get("variables", {})),
        cap=data.get("cap"),
        channels=channels,
    )


def import_file(content: bytes, filename: str) -> CampaignForm:
    """An uploaded campaign file as the form (read exactly as `campaign add` reads a file)."""
    from broadcaster.operations.campaigns import read_upload

    return form_of(read_upload(content, filename).normalised())


def export_yaml(form: CampaignForm) -> str:
    """The form as a campaign file: `campaign add` reads it back to the same campaign."""
    from broadcaster.operations.campaigns import read_data

    spec = read_data(form.data(), FORM)
    return yaml.safe_dump(spec.normalised(), allow_unicode=True, sort_keys=False, width=120)


def field_of(path: str) -> str:
    """The form field a problem's path belongs to (`channels.sms.schedule[1].at` → `channels.sms.schedule[1]`),
    so its sentence is shown next to that field; "" for problems of the campaign as a whole."""
    where = path.split(" ", 1)[0]  # "channels.sms (vi, 0912…)": a rendering checked for a sample recipient
    if (matched := re.match(r"^channels\.(\w+)\.(to|areas|schedule)(\[\d+\])?", where)) is not None:
        kind = matched[2]
        return (
            f"channels.{matched[1]}.{kind}{matched[3] or ''}" if kind == "schedule" else f"channels.{matched[1]}.{kind}"
        )
    if (matched := re.match(r"^channels\.(\w+)$", where)) is not None:
        return f"texts.{matched[1]}" if " " in path else f"channels.{matched[1]}"
    if (matched := re.match(r"^channels\.(\w+)\.fallback\b", where)) is not None:
        return f"channels.{matched[1]}.fallback"
    if (matched := re.match(r"^channels\.(\w+)\.", where)) is not None:
        return f"channels.{matched[1]}.options"
    if where.startswith("valid"):
        return "valid"
    if where.startswith("variables"):
        return "variables"
    if where == "template":
        return "texts"
    head = re.split(r"[.\[]", where, maxsplit=1)[0]
    known = ("campaign", "issuer", "number", "subject", "priority", "date", "locales", "cap")
    return head if head in known else ""


def problems_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(field_of(problem.where), []).append(
            str(problem) if not field_of(problem.where) else problem.message
        )
    return found


# ---- the campaign's texts -----------------------------------------------------------------------------


def edited_name(texts: Mapping[str, Any], template: str, channel: str, locale: str) -> str:
    """The name of the text the page edits for this channel and locale, among the campaign's texts."""
    candidates = EDITED_FILES[channel]
    for name in candidates:
        if f"{template}/{locale}/{name}" in texts:
            return f"{template}/{locale}/{name}"
    return f"{template}/{locale}/{candidates[-1]}"


def texts_of(
    texts: Mapping[str, Any], template: str, channels: list[str], locales: list[str]
) -> dict[tuple[str, str], str]:
    """The edited text of each channel and locale as the campaign's texts hold it ("" where it has none)."""
    return {
        (channel, locale): str(texts.get(edited_name(texts, template, channel, locale), ""))
        for channel in channels
        for locale in locales
    }


def base_texts(session: Session, settings: Settings, slug: str, template: str) -> Texts:
    """The texts the page's edits apply to: the campaign's own (its revision's, while one is drafted) when it
    keeps its template, else a copy of the shared template chosen (none when there is no such template)."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug)) if slug else None
    if campaign is not None and campaign.template == template:
        revision = session.get(CampaignRevision, campaign.id)
        return dict(revision.texts if revision is not None else campaign.texts)
    try:
        return starting_texts(settings, template)
    except UserError:
        return {}


def with_edits(base: Mapping[str, Any], template: str, edits: Mapping[tuple[str, str], str]) -> Texts:
    """The campaign's texts with the page's edits in place; a text the page did not send is kept as it was."""
    texts = {str(name): str(text) for name, text in base.items()}
    for (channel, locale), text in edits.items():
        if channel not in EDITED_FILES or not _LOCALE.fullmatch(locale):
            raise UserError(f"there is no {channel} text in '{locale}' to write (channels: {', '.join(EDITED_FILES)})")
        name = edited_name(texts, template, channel, locale)
        if text.strip() or name in texts:  # a locale the campaign never wrote this channel in stays unwritten
            texts[name] = text.rstrip("\n") + "\n" if text.strip() else ""
    return texts


# ---- saving -------------------------------------------------------------------------------------------


def save_form(session: Session, actor: Actor, form: CampaignForm, settings: Settings) -> SavedCampaign:
    """Check and save the form's campaign and its texts, by the same operation as a file (`campaigns.save`):
    a draft in place, an approved campaign as its revision (it keeps sending meanwhile). Nothing is written
    anywhere but in the campaign: no other campaign, and no shared template, changes."""
    from broadcaster.operations.campaigns import read_data, save

    actor.require("campaigns:draft")
    try:
        data = form.data()
        spec = read_data(data, FORM)
    except InvalidInput:
        raise InvalidInput(FORM, _every_problem(session, form, settings)) from None
    texts = with_edits(base_texts(session, settings, spec.campaign, spec.template), spec.template, form.texts)
    return save(session, actor, spec, FORM, settings, texts)


# ---- what the page shows as one types -------------------------------------------------------------------


def sample_moment(form: CampaignForm, settings: Settings) -> datetime:
    day = form.valid_from or settings.today()
    return datetime.combine(day, time(8), settings.zone)
