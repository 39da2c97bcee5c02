"""Bulletins from templates: sandboxed Jinja2, locale fallback, compiled once per occurrence.

Layout: `<templates>/<template>/<locale>/<channel>.<part>.j2`, where a part is `txt`, `html`,
`subject`… A recipient whose locale has no template gets the issuer's default locale.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    meta,
    pass_context,
)
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from broadcaster import text
from broadcaster.directory.audience import recipient_locale
from broadcaster.errors import UserError
from broadcaster.letters import is_numbered
from broadcaster.models import Campaign, CampaignChannel, Issuer
from broadcaster.sandbox import (
    BoundedSandbox,
    ConfinedLoader,
    TemplateLimit,
    TemplateOutsideFolder,
    TextsLoader,
    render_bounded,
)
from broadcaster.settings import Settings
from channels.base import Bulletin, ChannelAdapter, Letter, Recipient, Script, channel_class

RESERVED = frozenset({"campaign", "issuer", "recipient", "occurrence", "options", "reading_rate", "verification_url"})
# Given only to channels that may carry links (e-mail, Facebook): the campaign's page on the public
# verification site. SMS and radio never get it, so a template of theirs that uses it fails validation.
LINK_NAMES = frozenset({"verification_url"})


class TemplateProblem(UserError):
    """A template that cannot be compiled or rendered; the message names the file and line."""


@dataclass(frozen=True)
class CampaignView:
    """What templates see of a campaign, built from a campaign file or from the database alike."""

    slug: str
    number: str
    subject: str
    priority: str
    valid_from: date
    valid_until: date
    dated: date
    template: str
    locales: tuple[str, ...]
    variables: Mapping[str, Any]

    @classmethod
    def build(cls, **fields: Any) -> CampaignView:
        """Variables pass through JSON (as stored): ISO dates in them become dates again for templates."""
        fields["variables"] = revive_dates(json.loads(json.dumps(fields["variables"], default=str)))
        return cls(**fields)

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignView:
        dated = campaign.spec.get("date")
        return cls.build(
            slug=campaign.slug,
            number=campaign.number,
            subject=campaign.subject,
            priority=campaign.priority,
            valid_from=campaign.valid_from,
            valid_until=campaign.valid_until,
            dated=date.fromisoformat(dated) if dated else campaign.valid_from,
            template=campaign.template,
            locales=tuple(campaign.locales),
            variables=campaign.variables,
        )


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def revive_dates(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: revive_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive_dates(item) for item in value]
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def issuer_context(issuer: Issuer) -> dict[str, Any]:
    return {
        "slug": issuer.slug,
        "body": issuer.body,
        "unit": issuer.unit,
        "unit_name": issuer.unit_name,
        "unit_short": issuer.unit_short,
        "symbol": issuer.symbol,
        "place": issuer.place,
        "region": issuer.region,
        "email": issuer.email,
        "website": issuer.website,
        "hashtags": list(issuer.hashtags),
        "hotlines": list(issuer.hotlines),
        "hotline": issuer.hotlines[0] if issuer.hotlines else None,
        "readings": dict(issuer.readings or {}),
        "symbol_reading": issuer.symbol_reading,
        "signer": {"authority": issuer.signer_authority, "title": issuer.signer_title, "name": issuer.signer_name},
        # Only when given: what an issuer without English names sends, and so its versions' fingerprints, stay.
        **({"english": dict(issuer.english)} if issuer.english else {}),
    }


def is_english(locale: str) -> bool:
    return locale.split("-")[0].lower() == "en"


def issuer_in(issuer: Mapping[str, Any], locale: str) -> Mapping[str, Any]:
    """The issuer as a rendering in `locale` names it: in English, its English names and hotline labels
    where the profile gives them (the rest as written); in any other locale, as written."""
    if not is_english(locale):
        return issuer
    english = {name: value for name, value in (issuer.get("english") or {}).items() if value}
    hotlines = [_hotline_in_english(hotline) for hotline in issuer.get("hotlines") or []]
    return {**issuer, **english, "hotlines": hotlines, "hotline": hotlines[0] if hotlines else None}


def _hotline_in_english(hotline: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **hotline,
        "label": hotline.get("label_en") or hotline.get("label", ""),
        "contact": hotline.get("contact_en") or hotline.get("contact", ""),
    }


def sender_name(issuer: Mapping[str, Any], locale: str) -> str:
    """Who a bulletin is from, as its readers say it: "Sở Thông tin và Truyền thông Tây Ninh", or in
    English "Tây Ninh Department of Information and Communications"."""
    named = issuer_in(issuer, locale)
    if is_english(locale):
        return f"{named['place']} {named['unit_name']}"
    return f"{named['unit_name']} {named['place']}"


def campaign_context(view: CampaignView) -> dict[str, Any]:
    return {
        "slug": view.slug,
        "number": view.number,
        "numbered": is_numbered(view.number),  # a draft's number and day stay blank (DOMAIN §7)
        "subject": view.subject,
        "priority": view.priority,
        "valid_from": view.valid_from,
        "valid_until": view.valid_until,
        "date": view.dated,
        "variables": dict(view.variables),
    }


class WatchedRecipient(dict[str, Any]):
    """The recipient as a template sees it, noting whether a rendering looked at it at all.

    A template that names `recipient` may still not read it for a campaign (a letter to the addressees the
    campaign lists names no agency): such a part comes out the same for every recipient, so it is rendered
    and checked once. Every way a template can read a mapping goes through one of these methods.
    """

    _read = False

    def __getitem__(self, key: str) -> Any:
        self._read = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._read = True
        return super().get(key, default)

    def __iter__(self) -> Iterator[str]:
        self._read = True
        return super().__iter__()

    def __reversed__(self) -> Iterator[str]:
        self._read = True
        return super().__reversed__()

    def __len__(self) -> int:
        self._read = True
        return super().__len__()

    def __contains__(self, key: object) -> bool:
        self._read = True
        return super().__contains__(key)

    def keys(self) -> Any:
        self._read = True
        return super().keys()

    def values(self) -> Any:
        self._read = True
        return super().values()

    def items(self) -> Any:
        self._read = True
        return super().items()

    def copy(self) -> dict[str, Any]:
        self._read = True
        return dict(super().items())

    def __eq__(self, other: object) -> bool:
        self._read = True
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        self._read = True
        return super().__ne__(other)

    __hash__ = None

    def __or__(self, other: Any) -> Any:
        self._read = True
        return super().__or__(other)

    def __ror__(self, other: Any) -> Any:
        self._read = True
        return super().__ror__(other)

    def __repr__(self) -> str:
        self._read = True
        return super().__repr__()

    def __str__(self) -> str:
        self._read = True
        return super().__repr__()

    def __format__(self, spec: str) -> str:
        self._read = True
        return format(str(self), spec)


def _was_read(watched: WatchedRecipient) -> bool:
    """Whether a rendering looked at the recipient since the last ask (which starts the next rendering).
    Not a method: a template could call it (the sandbox hides names starting with `_` only)."""
    read, watched._read = watched._read, False
    return read


def recipient_context(recipient: Recipient, locale: str = "") -> dict[str, Any]:
    """What templates see of a recipient; in English, its English name when the directory has one."""
    facts = asdict(recipient.facts)
    name = facts.get("name_en") if is_english(locale) else None
    return {
        "kind": recipient.kind.value,
        "address": recipient.address,
        "locale": recipient.locale,
        **facts,
        "name": name or recipient.name,
    }


# ---- the environment ---------------------------------------------------------------------------


def _region(context: Context) -> str:
    issuer = context.get("issuer")
    return str(issuer["region"]) if isinstance(issuer, Mapping) else "south"


def _with_region(function: Callable[..., str]) -> Callable[..., str]:
    @pass_context
    def filter_(context: Context, value: Any, region: str | None = None) -> str:
        return function(value, region or _region(context))

    return filter_


def _readings(context: Context) -> Mapping[str, str]:
    issuer = context.get("issuer")
    readings = issuer.get("readings") if isinstance(issuer, Mapping) else None
    return readings if isinstance(readings, Mapping) else {}


def _symbol_reading(context: Context) -> str:
    issuer = context.get("issuer")
    chosen = issuer.get("symbol_reading") if isinstance(issuer, Mapping) else None
    return chosen if chosen in text.SYMBOL_READINGS else "brief"  # versions fixed before the choice existed


@pass_context
def _spoken(context: Context, value: Any, region: str | None = None) -> str:
    """`spoken` with the issuer's region, reading dictionary and way of reading symbols (DOMAIN §8, §15)."""
    return text.spoken(str(value), region or _region(context), _readings(context), _symbol_reading(context))


@pass_context
def _reading_time(context: Context, script: str) -> str:
    seconds = text.reading_seconds(script, float(context.get("reading_rate", 3.5)))
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} phút {rest:02d} giây" if minutes else f"{rest} giây"


def _phone(number: str) -> str:
    """A phone number written for reading on paper: 0276 3631 168, 0888 596 677."""
    return text.written_phone(number)


def _short_date(day: date) -> str:
    """The date as letters write it in running text: 17/4/2024."""
    return f"{day.day}/{day.month}/{day.year}"


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_date(day: date) -> str:
    """The date as English text writes it, never the ambiguous 14/5/2024: 14 May 2024."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_LIST_LINE = re.compile(r"^(?:- |\d+\. )")
# A letter's number and symbol ("720/STTTT-TTr"), which a reader must never find split over two lines.
_LETTER_NUMBER = re.compile(r"\b\d+/[^\W\d_][\w.-]*\w")


def _unbroken_numbers(line: Markup) -> Markup:
    return Markup(_LETTER_NUMBER.sub(r'<span style="white-space:nowrap">\g<0></span>', str(line)))


def _paragraphs(text_: str) -> Markup:
    """Plain text (blank-line separated) as escaped HTML paragraphs; single line breaks are kept."""
    html = []
    for paragraph in re.split(r"\n\s*\n", text_.strip()):
        lines = [_unbroken_numbers(escape(line.strip())) for line in paragraph.strip().splitlines()]
        css = ' class="list"' if all(_LIST_LINE.match(str(line)) for line in lines) else ""
        html.append(f"<p{css}>" + "<br>".join(str(line) for line in lines) + "</p>")
    return Markup("\n".join(html))


def _identity(value: Any, *_args: Any) -> str:
    return str(value)


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory by name and text, for every sandbox `build_environment` makes: a
    campaign's texts are compiled once, not once per page, preview or check (each of which makes its own
    environment over the texts it renders). Compiled code depends on the filters it was compiled with (a
    filter that takes the context is called with it), so sandboxes that leave numbers as digits, whose
    filters differ, keep theirs apart (`COMPILED[digits]`)."""

    def __init__(self, size: int = 512) -> None:
        self.codes: OrderedDict[tuple[str, str], CodeType] = OrderedDict()
        self.size, self.lock = size, threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self.lock:
            code = self.codes.get((bucket.key, bucket.checksum))
            if code is not None:
                self.codes.move_to_end((bucket.key, bucket.checksum))
        bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is None:
            return
        with self.lock:
            self.codes[(bucket.key, bucket.checksum)] = bucket.code
            while len(self.codes) > self.size:
                self.codes.popitem(last=False)


COMPILED = {False: CompiledTemplates(), True: CompiledTemplates()}


def build_environment(templates: Path | BaseLoader, *, digits: bool = False) -> SandboxedEnvironment:
    """The sandbox templates run in, over the templates folder or another loader (a version's stored
    templates). `digits=True` leaves numbers unspoken, so checks can find them."""
    environment = BoundedSandbox(
        loader=ConfinedLoader(templates) if isinstance(templates, Path) else templates,
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        bytecode_cache=COMPILED[digits],
    )
    environment.filters.update(
        number_to_words=_identity if digits else _with_region(text.number_to_words),
        read_phone=_identity if digits else text.read_phone,
        read_date=_with_region(text.read_date),
        read_time=_with_region(text.read_time),
        spoken=_identity if digits else _spoken,
        strip_diacritics=text.strip_diacritics,
        plain_sms_text=text.plain_sms_text,
        admin_date=text.admin_date,
        reading_time=_reading_time,
        phone=_phone,
        short_date=_short_date,
        long_date=_long_date,
        paragraphs=_paragraphs,
    )
    environment.globals["sms_info"] = text.sms_info
    return environment


_PARSER = build_environment(TextsLoader({}))


# ---- template sets ------------------------------------------------------------------------------


@dataclass
class ChannelTemplates:
    """A campaign template's parts for one channel, per locale, compiled once and rendered many times.

    A part that never reads `recipient` renders the same text for every recipient of a locale: it is
    rendered once per locale and occurrence and reused (a province's SMS is one text, a million times).
    """

    environment: SandboxedEnvironment
    template: str
    channel: str
    fallback: str
    compiled: dict[str, dict[str, Template]] = field(default_factory=dict)
    _files: dict[str, dict[str, str]] = field(default_factory=dict)
    _personal: dict[str, bool] = field(default_factory=dict)
    _rendered: dict[tuple[str, str, Any], str] = field(default_factory=dict)

    def files(self, locale: str) -> dict[str, str]:
        """part → template name, for the templates that exist in that locale."""
        if locale not in self._files:
            loader = self.environment.loader
            assert loader is not None
            prefix = f"{self.template}/{locale}/{self.channel}."
            self._files[locale] = {
                name[len(prefix) : -len(".j2")]: name
                for name in sorted(loader.list_templates())
                if name.startswith(prefix) and name.endswith(".j2") and "/" not in name[len(prefix) :]
            }
        return self._files[locale]

    def locale_for(self, locale: str) -> str | None:
        for candidate in (locale, self.fallback):
            if self.files(candidate):
                return candidate
        return None

    def parts(self, locale: str) -> dict[str, Template]:
        chosen = self.locale_for(locale)
        if chosen is None:
            raise TemplateProblem(
                f"template '{self.template}' has no {self.channel} text for locale '{locale}' nor for "
                f"'{self.fallback}' ({self.template}/{locale}/{self.channel}.txt.j2)"
            )
        if chosen not in self.compiled:
            self.compiled[chosen] = {part: self._compile(name) for part, name in self.files(chosen).items()}
            for name in self.files(chosen).values():
                self._personal[name] = "recipient" in self.names_read([name])
        return self.compiled[chosen]

    def personal(self, locale: str) -> bool:
        """Whether any part for this locale reads `recipient`, and so differs from one recipient to the next."""
        return any(self._personal.get(template.name or part, True) for part, template in self.parts(locale).items())

    def _compile(self, name: str) -> Template:
        try:
            return self.environment.get_template(name)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(f"template {exc.name or name} line {exc.lineno}: {exc.message}") from None
        except (TemplateOutsideFolder, TemplateLimit) as exc:  # a link out of the folder, or a file too large
            raise TemplateProblem(f"template {name} reads {exc.message}") from None

    def render(self, locale: str, context: Mapping[str, Any]) -> dict[str, str]:
        rendered = {}
        occurrence = context.get("occurrence", {})
        moment = (occurrence.get("at"), occurrence.get("slot"))
        watched = context.get("recipient")
        if isinstance(watched, Mapping) and not isinstance(watched, WatchedRecipient):
            watched = WatchedRecipient(watched)
            context = {**context, "recipient": watched}
        for part, template in self.parts(locale).items():
            name = template.name or part
            key = (name, locale, moment)
            if key in self._rendered:
                rendered[part] = self._rendered[key]
                continue
            if isinstance(watched, WatchedRecipient):
                _was_read(watched)
            try:
                rendered[part] = render_bounded(template, context).strip() + "\n"
            except Exception as exc:  # templates are staff-written data: any failure in one is theirs to fix
                raise TemplateProblem(_explain(exc, name)) from None
            # A part that never looked at the recipient is the same for every recipient of this moment.
            if not self._personal.get(name, True) or (isinstance(watched, WatchedRecipient) and not _was_read(watched)):
                self._rendered[key] = rendered[part]
        return rendered

    def shared(self, locale: str, context: Mapping[str, Any]) -> bool:
        """Whether every part for this locale and moment came out the same for every recipient (each
        was rendered once, without reading the recipient)."""
        occurrence = context.get("occurrence", {})
        moment = (occurrence.get("at"), occurrence.get("slot"))
        return all(
            (template.name or part, locale, moment) in self._rendered for part, template in self.parts(locale).items()
        )

    def variables_used(self, locale: str) -> set[str]:
        """Top-level names the templates of this locale (and those they extend or include) read."""
        chosen = self.locale_for(locale)
        return self.names_read(list(self.files(chosen).values()) if chosen else [])

    def names_read(self, names: list[str]) -> set[str]:
        pending = list(names)
        seen: set[str] = set()
        used: set[str] = set()
        loader = self.environment.loader
        assert loader is not None
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                reads, parents = _names_in(loader.get_source(self.environment, name)[0])
            except TemplateError:
                continue  # compiling the template reports the error with its line
            used |= reads
            pending += parents
        return used


@functools.lru_cache(maxsize=1024)
def _names_in(source: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """The top-level names a template's text reads and the templates it names (parsed once per text)."""
    tree = _PARSER.parse(source)
    return frozenset(meta.find_undeclared_variables(tree)), tuple(
        parent for parent in meta.find_referenced_templates(tree) if parent
    )


def _explain(exc: Exception, name: str) -> str:
    line = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            name = "/".join(Path(frame.filename).parts[-3:])
            line = f" line {frame.lineno}"
            break
    message = str(getattr(exc, "message", None) or exc)
    undefined = re.fullmatch(r"'(\w+)' is undefined", message)
    if undefined and undefined[1] in LINK_NAMES:
        message = f"uses '{undefined[1]}', a link, which this channel never carries (links are for e-mail and Facebook)"
    elif undefined:
        message = f"uses '{undefined[1]}', which is not defined (add it to the campaign's variables)"
    attribute = re.fullmatch(r"'.*' has no attribute '(\w+)'", message)
    if attribute:
        message = f"uses '{attribute[1]}', which is not defined (check the campaign's variables)"
    if isinstance(exc, TemplateOutsideFolder):
        message = f"reads {message}"
    elif isinstance(exc, TemplateLimit):
        message = f"goes past a limit: it {message}"
    elif "unsafe" in message:
        message = f"is refused by the sandbox: {message}"
    elif not isinstance(exc, TemplateError):
        message = f"failed: {message}"
    return f"template {name}{line} {message}"


def context_for(
    campaign: CampaignView,
    issuer: Mapping[str, Any],
    recipient: Recipient,
    options: Mapping[str, Any],
    occurrence: Mapping[str, Any],
    reading_rate: float,
    locale: str = "",
) -> dict[str, Any]:
    """Everything a template may use, named as a text in `locale` names them. Campaign variables are
    also top-level names."""
    return {
        **campaign.variables,
        "campaign": campaign_context(campaign),
        "issuer": issuer_in(issuer, locale),
        "recipient": recipient_context(recipient, locale),
        "options": dict(options),
        "occurrence": dict(occurrence),
        "reading_rate": reading_rate,
    }


def occurrence_context(fire_at: datetime, slot: str | None = None) -> dict[str, Any]:
    return {"date": fire_at.date(), "time": fire_at.time(), "at": fire_at, "slot": slot}


# ---- bulletins ---------------------------------------------------------------------------------


@dataclass
class Composer:
    """Turns a recipient and a fire time into a Bulletin for one campaign channel.

    Built once per occurrence: templates are compiled on first use and reused for every recipient.
    """

    adapter: type[ChannelAdapter]
    view: CampaignView
    issuer: Mapping[str, Any]
    templates: ChannelTemplates
    channel_options: Mapping[str, Any]
    reading_rate: float
    content_dir: Path
    links: Mapping[str, str] = field(default_factory=dict)  # LINK_NAMES, for channels that allow links

    def __post_init__(self) -> None:
        self.options = self.adapter.CampaignOptions.model_validate(dict(self.channel_options))
        self._shared_parts: dict[tuple[str, datetime, str | None], dict[str, str]] = {}
        self._shared_letters: dict[str, Letter] = {}
        self._shared_scripts: dict[str | None, Script] = {}

    @classmethod
    def for_channel(
        cls,
        view: CampaignView,
        issuer: Issuer,
        channel: str,
        channel_options: Mapping[str, Any],
        settings: Settings,
        texts: Mapping[str, Any],
        *,
        digits: bool = False,
    ) -> Composer:
        """A composer over the campaign's own texts (`texts`: template name → text)."""
        environment = build_environment(TextsLoader(dict(texts)), digits=digits)
        adapter = channel_class(channel)
        links = {"verification_url": settings.warning_page_url(view.slug)}
        return cls(
            adapter=adapter,
            view=view,
            issuer=issuer_context(issuer),
            templates=ChannelTemplates(environment, view.template, channel, issuer.default_locale),
            channel_options=channel_options,
            reading_rate=settings.reading_rate,
            content_dir=settings.content_dir,
            links=links if adapter.default_limits.links_allowed else {},
        )

    @classmethod
    def for_campaign(cls, campaign: Campaign, channel: CampaignChannel, settings: Settings) -> Composer:
        return cls.for_channel(
            CampaignView.of(campaign), campaign.issuer, channel.channel, channel.options, settings, campaign.texts
        )

    def shares(self, moment: tuple[str, datetime, str | None]) -> bool:
        """Whether every recipient of this (locale, fire time, slot) gets the same parts, as rendered once."""
        return moment in self._shared_parts

    def locale_for(self, recipient: Recipient) -> str:
        wanted = recipient_locale(recipient, self.view.locales[0])
        return wanted if wanted in self.view.locales else self.view.locales[0]

    def compose(
        self,
        key: str,
        recipient: Recipient,
        fire_at: datetime,
        slot: str | None = None,
        attempt: int = 1,
        unanswered_before: bool | None = None,
    ) -> Bulletin:
        locale = self.locale_for(recipient)
        moment = (locale, fire_at, slot)
        parts = self._shared_parts.get(moment)
        if parts is None:
            context = context_for(
                self.view,
                self.issuer,
                recipient,
                self.channel_options,
                occurrence_context(fire_at, slot),
                self.reading_rate,
                locale,
            ) | dict(self.links)
            parts = self.adapter.adapt(self.templates.render(locale, context), self.options)
            if self.templates.shared(locale, context):
                # Nobody's name in it (or read by this campaign's text): every recipient of this locale and
                # moment gets these very parts.
                self._shared_parts[moment] = parts
        return Bulletin(
            key,
            recipient,
            parts,
            self.view.slug,
            self.view.priority,
            locale,
            fire_at,
            self.options,
            self._letter(locale),
            self._script(slot),
            self.content_dir,
            attempt,
            unanswered_before,
        )

    def _letter(self, locale: str) -> Letter:
        """The document and its sender, in the locale's words: one object for every bulletin of that locale."""
        letter = self._shared_letters.get(locale)
        if letter is None:
            email = self.issuer.get("email")
            letter = Letter(
                issuer=str(self.issuer["slug"]),
                sender_name=sender_name(self.issuer, locale),
                sender_email=str(email) if email else None,
                number=self.view.number,
                subject=self.view.subject,
                dated=self.view.dated,
            )
            self._shared_letters[locale] = letter
        return letter

    def _script(self, slot: str | None) -> Script:
        script = self._shared_scripts.get(slot)
        if script is None:
            script = Script(slot=slot, reading_rate=self.reading_rate, region=str(self.issuer["region"]))
            self._shared_scripts[slot] = script
        return script
