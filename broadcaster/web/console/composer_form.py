"""The composer's posted form read back as a campaign: field names as `composer.html` writes them, values that
are not a date, a time or JSON a sentence beside their field."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time
from typing import Any, get_origin

from starlette.datastructures import FormData

from broadcaster import json_input
from broadcaster.campaigns.file import Fallback
from broadcaster.campaigns.plain import to_plain, to_template
from broadcaster.operations.composer import CHANNELS, CampaignForm, ChannelForm
from broadcaster.timetable_choices import KINDS, RuleChoice
from broadcaster.web.console.pages import FormState
from channels.base import channel_class

LOCALES = ("vi", "en")


class _Reader:
    """Reads the posted fields; a value that is not a date or a time is a sentence beside its field."""

    def __init__(self, data: FormData, words: dict[str, str]):
        self.data, self.words, self.state = data, words, FormState()

    def text(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def raw(self, name: str) -> str:
        """As typed: a letter not yet signed has a blank before its symbol ("     /STTTT-TTra")."""
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    def texts(self, name: str) -> list[str]:
        return [value.strip() for value in self.data.getlist(name) if isinstance(value, str) and value.strip()]

    def day(self, name: str, field: str) -> date | None:
        value = self.text(name)
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            self.state.fail(field, self.words["date_wrong"].format(value=value))
            return None

    def clock(self, name: str, field: str) -> time | None:
        value = self.text(name)
        try:
            return time.fromisoformat(value) if value else None
        except ValueError:
            self.state.fail(field, self.words["time_wrong"].format(value=value))
            return None

    def json(self, name: str, field: str, empty: Any) -> Any:
        value = self.text(name)
        try:
            return json_input.loads(value) if value else empty
        except json_input.JsonRefused as exc:
            self.state.fail(field, self.words["variables_not_json"].format(reason=exc))
            return empty


def _rule(read: _Reader, prefix: str, field: str) -> RuleChoice | None:
    kind = next((known for known in KINDS if known == read.text(f"{prefix}.kind")), None)
    if kind is None:
        return None  # a blank line of the timetable
    return RuleChoice(
        kind,
        on=read.day(f"{prefix}.once_day", field),
        at=read.clock(f"{prefix}.{'once' if kind == 'once' else 'weekly'}_time", field),
        weekdays=sorted({int(day) for day in read.texts(f"{prefix}.weekday") if day.isdigit() and int(day) < 7}),
        slots=read.texts(f"{prefix}.slot"),
        starts=read.day(f"{prefix}.from", field) if kind != "once" else None,
        ends=read.day(f"{prefix}.until", field) if kind != "once" else None,
        cron=read.text(f"{prefix}.cron"),
    )


def _options(read: _Reader, channel: str) -> dict[str, Any]:
    """The options the form names: those the campaign had, and any set to other than the default."""
    present = set(read.texts(f"{channel}.opt_present"))
    options: dict[str, Any] = {}
    for name, info in channel_class(channel).CampaignOptions.model_fields.items():
        raw = read.text(f"{channel}.opt.{name}")
        value: Any = raw
        if info.annotation is bool:
            value = raw == "on"
        elif info.annotation is int:
            value = int(raw) if raw.lstrip("-").isdigit() else raw or info.default
        elif get_origin(info.annotation) is dict:
            value = _named_values(read, f"{channel}.opt.{name}")
        elif not raw:
            value = None
        default = info.get_default(call_default_factory=True)
        if name in present or value != default:
            options[name] = value
    return options


def _named_values(read: _Reader, prefix: str) -> dict[str, str]:
    """Values by name, one field each (a ZNS template's parameters): `<prefix>.<i>.name` and `<prefix>.<i>.value`;
    a name left without a value is not given (the checks then say the template needs it)."""
    values: dict[str, str] = {}
    for index in range(100):
        if f"{prefix}.{index}.name" not in read.data:
            break
        name, value = read.text(f"{prefix}.{index}.name"), read.raw(f"{prefix}.{index}.value")
        if name and value.strip():
            values[name] = value.strip()
    return values


def _fallback(read: _Reader, channel: str) -> dict[str, Any] | None:
    """The channel's fallback as the form says it: on or off, the channel it hands on to, the wait and whether
    an unknown outcome is handed on too."""
    if read.text(f"{channel}.fallback.on") != "on":
        return None
    raw = read.text(f"{channel}.fallback.wait_minutes")
    wait: Any = Fallback.model_fields["wait_minutes"].default
    if raw.isdigit():
        wait = int(raw)
    elif raw:
        read.state.fail(f"channels.{channel}.fallback", read.words["minutes_wrong"].format(value=raw))
        wait = raw
    return {
        "channel": read.text(f"{channel}.fallback.channel"),
        "wait_minutes": wait,
        "when_unknown": read.text(f"{channel}.fallback.when_unknown") == "on",
    }


def _handed_on(chosen: dict[str, ChannelForm], sections: dict[str, ChannelForm]) -> dict[str, ChannelForm]:
    """The chosen channels, with each channel another chosen one falls back to chosen too (its text is what goes
    out) and without an audience or a timetable of its own (it sends only to whom the other could not reach).
    What the page showed for them is left in the sections, should the fallback be turned off again."""
    channels = dict(chosen)
    for name, section in chosen.items():
        target = section.fallback["channel"] if section.fallback is not None else None
        if target in sections and target != name:
            channels[target] = replace(sections[target], audience=[], rules=[])
    return channels


def _channel(read: _Reader, channel: str) -> ChannelForm:
    rules: list[RuleChoice] = []
    for index in range(50):
        prefix = f"{channel}.rule.{index}"
        if f"{prefix}.kind" not in read.data:
            break
        rule = _rule(read, prefix, f"channels.{channel}.schedule[{len(rules)}]")
        if rule is not None:
            rules.append(rule)
    areas = [code.strip() for code in read.text(f"{channel}.areas").split(",") if code.strip()]
    audience = read.texts(f"{channel}.to")
    order = {selector: index for index, selector in enumerate(read.text(f"{channel}.to_order").split())}
    audience.sort(key=lambda selector: order.get(selector, len(order)))  # as the campaign had them, new ones after
    return ChannelForm(audience, areas, rules, _options(read, channel), _fallback(read, channel))


def _variables(read: _Reader) -> dict[str, Any]:
    """The values put into the template, each in the field its shape calls for: a line of text, one item a
    line, or JSON for anything else (a previous letter's number and date); a new one named in the last row."""
    variables: dict[str, Any] = {}
    shapes = read.data.getlist("var_shape")
    for index, raw_name in enumerate(read.data.getlist("var_name")):
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        if not name:
            continue  # the row for a new value, left empty
        shape = shapes[index] if index < len(shapes) else "text"
        raw = read.data.get(f"var.{index}")
        value = raw if isinstance(raw, str) else ""
        if shape == "lines":
            variables[name] = [line.strip() for line in value.splitlines() if line.strip()]
        elif shape == "json":
            variables[name] = read.json(f"var.{index}", "variables", None)
        else:
            variables[name] = value
    return variables


def parse_form(data: FormData, words: dict[str, str]) -> tuple[CampaignForm, dict[str, ChannelForm], FormState]:
    """The posted form: the campaign (with its chosen channels), every channel's section, and what is unreadable."""
    read = _Reader(data, words)
    sections = {channel: _channel(read, channel) for channel in CHANNELS}
    chosen = {channel: sections[channel] for channel in CHANNELS if read.text(f"{channel}.on") == "on"}
    locales = [locale for locale in read.texts("locales") if locale in LOCALES] or ["vi"]
    form = CampaignForm(
        campaign=read.text("campaign"),
        issuer=read.text("issuer"),
        number=read.raw("number"),
        subject=read.raw("subject"),
        priority=read.text("priority") or "ordinary",
        valid_from=read.day("valid_from", "valid"),
        valid_until=read.day("valid_until", "valid"),
        dated=read.day("dated", "date"),
        template=read.text("template") or read.text("campaign"),  # a blank campaign: its own texts
        locales=locales,
        variables=_variables(read),
        cap=read.json("cap", "cap", None),
        channels=_handed_on(chosen, sections),
        texts={(channel, locale): _text(read, channel, locale) for channel in CHANNELS for locale in locales},
    )
    return form, sections, read.state


def text_mode(data: FormData | None, channel: str, locale: str) -> str:
    """How the page showed a text: "plain" (words and named fields) or "advanced" (template code)."""
    return "advanced" if data is not None and data.get(f"mode.{channel}.{locale}") == "advanced" else "plain"


def text_views(
    texts: dict[tuple[str, str], str], data: FormData | None, lang: str
) -> dict[tuple[str, str], str | None]:
    """What each text box shows: its plain words, or None for template code (the advanced view), which
    is what the officer chose, or what a text holding more than words and fields must be edited in."""
    views: dict[tuple[str, str], str | None] = {}
    for (channel, locale), text in texts.items():
        chosen = text_mode(data, channel, locale) if data is not None else "plain"
        views[(channel, locale)] = to_plain(text, channel, lang) if chosen == "plain" else None
    return views


def _text(read: _Reader, channel: str, locale: str) -> str:
    """The template text of a channel and locale: as written in the advanced view, or made from plain words."""
    plain, code = f"plain.{channel}.{locale}", f"text.{channel}.{locale}"
    # Just switched to the advanced view: the page sent the plain words, and the code is made from them.
    if plain in read.data and (text_mode(read.data, channel, locale) == "plain" or code not in read.data):
        return to_template(read.raw(plain).replace("\r\n", "\n"), channel)
    return read.raw(code)


def value_shape(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "lines"
    return "json"


def shown_value(value: Any) -> str:
    shape = value_shape(value)
    if shape == "text":
        return str(value)
    if shape == "lines":
        return "\n".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)
