"""Content checks: what a bulletin must never say, run when a campaign is validated and before sending.

The warnings tell people never to follow links and to trust only official numbers, so a bulletin
with a link or an unofficial number teaches the opposite of its message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from broadcaster.campaigns.file import CampaignSpec, ChannelSpec, CronRule, OnceRule, SlotsRule, first_cron_fire
from broadcaster.campaigns.texts import has_texts
from broadcaster.cron import cron_trigger, local, walk
from broadcaster.directory.audience import parse_selector, recipient_locale, recipients
from broadcaster.directory.templates import provider_template
from broadcaster.models import Issuer
from broadcaster.phones import national_digits, same_number
from broadcaster.problems import Problem
from broadcaster.rendering import RESERVED, CampaignView, Composer, TemplateProblem
from broadcaster.settings import Settings
from broadcaster.text import read_phone
from channels.base import ChannelAdapter, FillsTemplates, Recipient, read_aloud_problems

_LINK = re.compile(
    r"(?<![@\w.])(?:https?://\S+|www\.\S+|[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|info|xyz|io|me|top|link|ly|cc)\b(?:/\S*)?)",
    re.IGNORECASE,
)
_PHONE_LIKE = re.compile(r"(?<![\w/])(?:\+84|0)\d(?:[ .]?\d){7,10}(?!\d)")


def links_in(text: str) -> list[str]:
    return _LINK.findall(text)


def phone_numbers_in(text: str) -> list[str]:
    return [re.sub(r"[ .]", "", match) for match in _PHONE_LIKE.findall(text)]


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def hotline_said(spoken: Mapping[str, str], hotlines: Iterable[str]) -> bool:
    """Whether the announcer's version says one of the hotlines, digit by digit as `read_phone` reads it:
    the officer may have written the number in words, which leaves no digits for the other check to find."""
    said = _words("\n".join(spoken.values()))
    return any(f" {_words(read_phone(hotline))} " in f" {said} " for hotline in hotlines)


def content_problems(
    adapter: type[ChannelAdapter],
    parts: Mapping[str, str],
    options: Any,
    hotlines: Iterable[str],
    spoken: Mapping[str, str] | None = None,
) -> list[str]:
    """Every reason this rendered bulletin (numbers still in digits) must not go out; `spoken`, the same
    bulletin as read aloud (radio), may give the hotline in words instead."""
    problems: list[str] = []
    hotlines = list(hotlines)
    body = "\n".join(value for key, value in parts.items() if key != "html")
    if not adapter.default_limits.links_allowed:
        problems += [
            f"the text has a link ({link}); {adapter.name} bulletins must not contain links, since the "
            "warning tells people never to follow one"
            for link in dict.fromkeys(links_in(body))
        ]
    found = phone_numbers_in(body)
    for number in dict.fromkeys(found):
        if not any(same_number(number, hotline) for hotline in hotlines):
            problems.append(
                f"the text has the phone number {number}, which is not one of the issuer's official hotlines "
                f"({', '.join(hotlines)})"
            )
    given = any(same_number(number, hotline) for number in found for hotline in hotlines)
    if not given and not (spoken is not None and hotline_said(spoken, hotlines)):
        problems.append(f"the {adapter.name} text does not give an official hotline ({', '.join(hotlines)})")
    problems += adapter.check_content(parts, options)
    return problems


def _sample_moment(spec: CampaignSpec, channel: ChannelSpec, recipient: Recipient, settings: Settings) -> datetime:
    zone = settings.zone
    if not channel.schedule:
        return datetime.combine(spec.valid.starts, time(8), zone)
    rule = channel.schedule[0]
    if isinstance(rule, OnceRule):
        return local(rule.at, zone)
    if isinstance(rule, CronRule):
        return first_cron_fire(rule, spec, zone) or datetime.combine(spec.valid.starts, time(8), zone)
    slot_time = recipient.slots.get(rule.slots[0], "08:00")
    return datetime.combine(rule.starts or spec.valid.starts, time.fromisoformat(slot_time), zone)


def _samples(
    session: Session, adapter: type[ChannelAdapter], channel: ChannelSpec, locales: Sequence[str], on: date
) -> list[tuple[str, Recipient]]:
    """One real recipient per locale the audience needs (its first), and one for each declared locale."""
    selectors = [parse_selector(text) for text in channel.to]
    chosen: dict[str, Recipient] = {}
    for recipient in recipients(session, adapter.recipient_kind, selectors, channel.areas, on):
        chosen.setdefault(recipient_locale(recipient, locales[0]), recipient)
        if len(chosen) >= 4:
            break
    if chosen:
        first = next(iter(chosen.values()))
        for locale in locales:
            chosen.setdefault(locale, first)
    return list(chosen.items())


def sent_as(spec: CampaignSpec, name: str) -> ChannelSpec:
    """The channel whose audience and timetable a channel's messages go by: its own, or for a channel that
    sends only as a fallback, the channel it stands in for."""
    channel = spec.channels[name]
    if channel.schedule:
        return channel
    for other in spec.channels.values():
        if other.fallback is not None and other.fallback.channel == name:
            return other
    return channel


def view_of_spec(spec: CampaignSpec, issuer: Issuer) -> CampaignView:
    return CampaignView.build(
        slug=spec.campaign,
        number=spec.number,
        subject=spec.subject,
        priority=spec.priority,
        valid_from=spec.valid.starts,
        valid_until=spec.valid.ends,
        dated=spec.dated or spec.valid.starts,
        template=spec.template,
        locales=tuple(spec.locales or [issuer.default_locale]),
        variables=spec.variables,
    )


def _template_problems(
    session: Session, adapter: type[ChannelAdapter], options: Any, parts: Mapping[str, str]
) -> list[str]:
    """A rendered bulletin against the provider template its campaign names (a Zalo text over its length)."""
    if not issubclass(adapter, FillsTemplates) or (template_id := adapter.template_named(options)) is None:
        return []
    template = provider_template(session, adapter.name, template_id)
    return adapter.rendered_problems(options, template, parts) if template is not None else []


def check_renderings(
    session: Session, spec: CampaignSpec, issuer: Issuer, settings: Settings, texts: Mapping[str, Any]
) -> list[Problem]:
    """Render every channel from the campaign's texts for real sample recipients and check what would be sent."""
    if not has_texts(texts, spec.template):
        return [Problem("template", f"the campaign has no texts of template '{spec.template}' to send")]
    problems = [
        Problem(f"variables.{name}", f"'{name}' is a name templates use for something else; choose another")
        for name in spec.variables
        if name in RESERVED
    ]
    view = view_of_spec(spec, issuer)
    hotlines = [national_digits(hotline["number"]) for hotline in issuer.hotlines]
    used: set[str] = set()
    for name, channel in spec.channels.items():
        spoken = Composer.for_channel(view, issuer, name, channel.options, settings, texts)
        digits = Composer.for_channel(view, issuer, name, channel.options, settings, texts, digits=True)
        for locale in view.locales:  # a locale without its own text falls back to the issuer's
            used |= spoken.templates.variables_used(locale)
        timed = sent_as(spec, name)  # a fallback's samples are its first channel's recipients
        for locale, recipient in _samples(session, spoken.adapter, timed, view.locales, settings.today()):
            moment = _sample_moment(spec, timed, recipient, settings)
            first = timed.schedule[0] if timed.schedule else None
            slot = first.slots[0] if isinstance(first, SlotsRule) else None
            sample = replace(recipient, locale=locale)
            try:
                read_aloud = spoken.compose("check", sample, moment, slot)
                bulletin = digits.compose("check", sample, moment, slot)
            except TemplateProblem as exc:
                problems.append(Problem("template", str(exc)))
                break
            where = f"channels.{name} ({locale}, {recipient.name or recipient.address})"
            found = content_problems(spoken.adapter, bulletin.parts, spoken.options, hotlines, read_aloud.parts)
            found += read_aloud_problems(spoken.adapter, read_aloud.parts)
            found += _template_problems(session, spoken.adapter, spoken.options, bulletin.parts)
            problems += [Problem(where, sentence) for sentence in found]
    unreadable = any(problem.where == "template" for problem in problems)  # then what it uses is unknown
    problems += [
        Problem(f"variables.{name}", f"'{name}' is not used by template '{spec.template}' (a misspelt name?)")
        for name in spec.variables
        if name not in used and name not in RESERVED and not unreadable
    ]
    return list(dict.fromkeys(problems))


def repeat_warnings(
    session: Session, spec: CampaignSpec, issuer: Issuer, settings: Settings, texts: Mapping[str, Any]
) -> list[Problem]:
    """A repeating rule of a channel that refuses a repeated text (Facebook, error 506, DOMAIN §12)
    whose first two fires would render the same text: the second would be refused."""
    view = view_of_spec(spec, issuer)
    warnings = []
    for name, channel in spec.channels.items():
        composer = Composer.for_channel(view, issuer, name, channel.options, settings, texts)
        if not composer.adapter.refuses_repeats:
            continue
        samples = _samples(session, composer.adapter, channel, view.locales, settings.today())
        for index, rule in enumerate(channel.schedule):
            fires = _first_two_fires(rule, spec, settings) if isinstance(rule, CronRule) else []
            if len(fires) < 2 or not samples:
                continue
            if (locale := _renders_alike(composer, samples, fires)) is not None:
                first, second = (fire.strftime("%d/%m/%Y %H:%M") for fire in fires)
                warnings.append(
                    Problem(
                        f"channels.{name}.schedule[{index}]",
                        f"fires on {first} and {second} with the same {name} text ({locale}), and {name} "
                        "refuses a repeated post: put the date ({{ occurrence.date | short_date }}) or a "
                        "line that changes in the template",
                    )
                )
    return warnings


def _first_two_fires(rule: CronRule, spec: CampaignSpec, settings: Settings) -> list[datetime]:
    zone = settings.zone
    start = datetime.combine(rule.starts or spec.valid.starts, time(0), zone)
    end = datetime.combine((rule.ends or spec.valid.ends) + timedelta(days=1), time(0), zone)
    fires = []
    for fire in walk(cron_trigger(rule.cron, zone), start - timedelta(microseconds=1), end - timedelta(microseconds=1)):
        fires.append(fire)
        if len(fires) == 2:
            break
    return fires


def _renders_alike(composer: Composer, samples: list[tuple[str, Recipient]], fires: list[datetime]) -> str | None:
    """The first locale whose text is the same at both fire times, or None."""
    for locale, recipient in samples:
        sample = replace(recipient, locale=locale)
        try:
            first, second = (composer.compose("check", sample, fire).parts.get("txt", "") for fire in fires)
        except TemplateProblem:
            return None  # reported as a problem by the rendering check
        if first.strip() == second.strip():
            return locale
    return None
