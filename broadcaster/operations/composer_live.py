"""What the composer shows while one types: recipients counted, the timetable read back, the text checked.

Each answer comes from the code that will later do the work — the audience from `audience`, fire times
from `timetable.rule_plans`, texts from the template sandbox and the content checks the sender runs —
so what the page promises is what happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.directory import areas_within, provider_template, provider_templates
from broadcaster.directory.audience import (
    SubscriberFilter,
    missing,
    parse_selector,
    recipients,
    subscriber_conditions,
)
from broadcaster.errors import UserError
from broadcaster.models import Issuer, Rule, RuleKind
from broadcaster.operations.composer import CampaignForm, base_texts, sample_moment, with_edits
from broadcaster.phones import national_digits
from broadcaster.problems import from_validation_error
from broadcaster.rendering import (
    CampaignView,
    ChannelTemplates,
    Composer,
    TemplateProblem,
    build_environment,
    issuer_context,
)
from broadcaster.sandbox import TextsLoader
from broadcaster.settings import Settings
from broadcaster.text import SmsInfo, plain_sms_text, reading_seconds, sms_info
from broadcaster.timetable_choices import RuleChoice, describe, weekday_name
from channels.base import (
    FACTS,
    ChecksReadAloud,
    FillsTemplates,
    ProviderTemplate,
    Recipient,
    RecipientKind,
    channel_class,
)

NEXT_FIRES = 10


# ---- the audience ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceCount:
    recipients: int | None  # None when the audience names something that is not in the directory
    problems: list[str]


def count_audience(
    session: Session, actor: Actor, channel: str, audience: list[str], areas: list[str], today: date
) -> AudienceCount:
    """How many recipients the channel's audience reaches now (opted-out subscribers and other areas left out)."""
    actor.require("directory:read")
    adapter = channel_class(channel)
    selectors, problems = [], []
    for text in audience:
        try:
            selector = parse_selector(text)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if selector.kind != adapter.recipient_kind:
            problems.append(
                f"'{text}' names {selector.kind.plural}, but {channel} sends to {adapter.recipient_kind.plural}"
            )
        elif (sentence := missing(session, selector)) is not None:
            problems.append(sentence)
        else:
            selectors.append(selector)
    if problems:
        return AudienceCount(None, problems)
    if adapter.recipient_kind == RecipientKind.SUBSCRIBER:
        wanted = SubscriberFilter(areas_within(session, areas, today) if areas else None, False, False)
        count = session.scalar(select(func.count()).where(*subscriber_conditions(selectors, wanted))) or 0
    else:
        count = sum(1 for _ in recipients(session, adapter.recipient_kind, selectors, areas, today))
    return AudienceCount(count, [])


# ---- the timetable read back ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fire:
    at: datetime  # in the configured zone
    weekday: str
    slot: str | None

    def shown(self) -> str:
        return f"{self.weekday} {self.at:%d/%m/%Y %H:%M}"


@dataclass(frozen=True)
class TimetableEcho:
    sentences: list[str]
    fires: list[Fire]
    problems: list[str]
    # Rules (by position) whose first two posts would carry the same text, on a channel that refuses a
    # repeated post (Facebook, DOMAIN §12): the second would be refused.
    repeats: list[int] = field(default_factory=list)


def _rule_row(position: int, choice: RuleChoice, settings: Settings) -> Rule:
    rule = choice.rule()
    if "at" in rule:
        at = datetime.fromisoformat(rule["at"]).replace(tzinfo=settings.zone)
        return Rule(position=position, kind=RuleKind.ONCE, at=at)
    if "cron" in rule:
        return Rule(position=position, kind=RuleKind.CRON, cron=rule["cron"], starts=choice.starts, ends=choice.ends)
    return Rule(position=position, kind=RuleKind.SLOTS, slots=rule["slots"], starts=choice.starts, ends=choice.ends)


def echo_timetable(
    session: Session,
    settings: Settings,
    form: CampaignForm,
    channel: str,
    locale: str = "vi",
    now: datetime | None = None,
) -> TimetableEcho:
    """The channel's rules as sentences, and its next ten fire times (from now, within the validity window)."""
    from broadcaster.timetable import rule_plans

    if form.valid_from is None or form.valid_until is None:
        return TimetableEcho([], [], ["choose the validity window first"])
    valid = (form.valid_from, form.valid_until)
    section = form.channels.get(channel)
    if section is None:
        return TimetableEcho([], [], [])
    now = (now or settings.clock.now()).astimezone(settings.zone)
    sentences, problems, fires, repeats = [], [], [], []
    refuses_repeats = channel_class(channel).refuses_repeats
    for position, choice in enumerate(section.rules):
        ids = {"campaign_id": 0, "campaign": form.campaign, "channel": channel, "since": now}
        try:
            row = _rule_row(position, choice, settings)
            plans = rule_plans(session, row, section.audience, section.areas, valid, settings.zone, ids, now.date())
            sentences.append(describe(choice, valid, locale))
        except ValueError as exc:  # an incomplete choice, or a cron expression that is not one
            problems.append(str(exc))
            continue
        for plan in plans:
            for index, at in enumerate(plan.fires(now, plan.ends)):
                fires.append(Fire(at.astimezone(settings.zone), weekday_name(at, locale), plan.slot))
                if index + 1 >= NEXT_FIRES:
                    break
        if refuses_repeats and plans and _posts_alike(session, settings, form, channel, plans[0], now):
            repeats.append(position)
    fires.sort(key=lambda fire: fire.at)
    return TimetableEcho(sentences, fires[:NEXT_FIRES], problems, repeats)


def _posts_alike(
    session: Session, settings: Settings, form: CampaignForm, channel: str, plan: Any, now: datetime
) -> bool:
    """Whether the rule's first two posts would carry the same text, in any language of the campaign."""
    two = []
    for at in plan.fires(now, plan.ends):
        two.append(at.astimezone(settings.zone))
        if len(two) == 2:
            break
    if len(two) < 2:
        return False
    issuer = session.scalar(select(Issuer).where(Issuer.slug == form.issuer))
    for (written_for, locale), text in form.texts.items():
        if written_for != channel or not text.strip() or issuer is None:
            continue
        try:
            made = _made(session, settings, form, channel, locale, text, issuer)
            first, second = (made.composer(True).compose("repeat", made.recipient, at).parts for at in two)
        except (ValidationError, TemplateProblem, UserError):
            continue  # the text's own check says what is wrong with it
        if first.get("txt", "").strip() == second.get("txt", "").strip():
            return True
    return False


# ---- the text checked -------------------------------------------------------------------------------------


@dataclass
class TextCheck:
    """A channel's text for one locale, rendered for a sample recipient and checked as the sender checks it."""

    channel: str
    locale: str
    rendered: str = ""
    accented: SmsInfo | None = None  # SMS: the text with its marks
    unaccented: SmsInfo | None = None  # SMS: the same text without marks (what `unaccented` sends)
    sends_unaccented: bool = False
    max_parts: int | None = None
    length: int | None = None  # Facebook: characters, against its limit; Zalo: against its parameter's
    max_length: int | None = None
    reading_seconds: int | None = None  # radio
    to_decode: list[str] = field(default_factory=list)  # radio: what the announcer could not read as words
    problems: list[str] = field(default_factory=list)

    @property
    def sent(self) -> SmsInfo | None:
        return self.unaccented if self.sends_unaccented else self.accented


def _sample(session: Session, kind: RecipientKind, audience: list[str], locale: str, today: date) -> Recipient:
    selectors = []
    for text in audience:
        try:
            selectors.append(parse_selector(text))
        except ValueError:
            continue
    valid = [selector for selector in selectors if selector.kind == kind and missing(session, selector) is None]
    for found in recipients(session, kind, valid, [], today) if valid else iter(()):
        return replace(found, locale=locale)
    return Recipient("", FACTS[kind](), "Người nhận mẫu" if locale == "vi" else "Sample recipient", locale)


@dataclass
class _Made:
    """What renders a text being written: its composers (spoken or in digits), sample recipient and moment."""

    composer: Callable[..., Composer]
    recipient: Recipient
    moment: datetime
    slot: str | None
    options: dict[str, Any]


def _made(
    session: Session, settings: Settings, form: CampaignForm, channel: str, locale: str, text: str, issuer: Issuer
) -> _Made:
    template = form.template
    texts = with_edits(base_texts(session, settings, form.campaign, template), template, {(channel, locale): text})
    section = form.channels.get(channel)
    options = dict(section.options) if section else {}
    adapter = channel_class(channel)
    view = CampaignView.build(
        slug=form.campaign or "campaign",
        number=form.number,
        subject=form.subject,
        priority=form.priority,
        valid_from=form.valid_from or settings.today(),
        valid_until=form.valid_until or settings.today(),
        dated=form.dated or form.valid_from or settings.today(),
        template=template,
        locales=(locale,),
        variables=form.variables,
    )
    audience = _sent_to(form, channel)
    recipient = _sample(session, adapter.recipient_kind, audience, locale, settings.today())
    slot = (
        next((rule.slots[0] for rule in section.rules if rule.kind == "slots" and rule.slots), None)
        if section
        else None
    )
    moment = sample_moment(form, settings)
    if slot and slot in recipient.slots:
        moment = datetime.combine(moment.date(), time.fromisoformat(recipient.slots[slot]), settings.zone)
    links = {"verification_url": settings.warning_page_url(view.slug)} if adapter.default_limits.links_allowed else {}

    def composer(digits: bool, channel_options: dict[str, Any] | None = None) -> Composer:
        environment = build_environment(TextsLoader(texts), digits=digits)
        return Composer(
            adapter=adapter,
            view=view,
            issuer=issuer_context(issuer),
            templates=ChannelTemplates(environment, template, channel, issuer.default_locale),
            channel_options=options if channel_options is None else channel_options,
            reading_rate=settings.reading_rate,
            content_dir=settings.content_dir,
            links=links,
        )

    return _Made(composer, recipient, moment, slot, options)


def _sent_to(form: CampaignForm, channel: str) -> list[str]:
    """The audience a channel's messages go to: its own, or for a channel that sends only as another's fallback
    (Zalo's SMS), the audience of the channel it stands in for."""
    for name, other in form.channels.items():
        if name != channel and other.fallback is not None and other.fallback.get("channel") == channel:
            return other.audience
    section = form.channels.get(channel)
    return section.audience if section else []


def check_text(
    session: Session, actor: Actor, settings: Settings, form: CampaignForm, channel: str, locale: str, text: str
) -> TextCheck:
    """Render the text being written for a sample recipient of the audience, and check it."""
    from broadcaster.campaigns.checks import content_problems

    actor.require("campaigns:draft")
    result = TextCheck(channel, locale)
    issuer = session.scalar(select(Issuer).where(Issuer.slug == form.issuer))
    if issuer is None:
        result.problems.append("choose the issuer first: the text is checked against its hotlines")
        return result
    made = _made(session, settings, form, channel, locale, text, issuer)
    options, adapter = made.options, channel_class(channel)
    shown_options = {**options, "unaccented": False} if channel == "sms" else options
    try:
        spoken = made.composer(False, shown_options).compose("check", made.recipient, made.moment, made.slot)
        digits_composer = made.composer(True)
        digits = digits_composer.compose("check", made.recipient, made.moment, made.slot)
    except ValidationError as exc:
        result.problems += [str(problem) for problem in from_validation_error(exc, ["options"])]
        return result
    except (TemplateProblem, UserError) as exc:
        result.problems.append(str(exc))
        return result
    result.rendered = spoken.parts.get("txt", "")
    hotlines = [national_digits(hotline["number"]) for hotline in issuer.hotlines]
    result.problems += content_problems(adapter, digits.parts, digits_composer.options, hotlines, spoken.parts)
    if issubclass(adapter, FillsTemplates):  # shown as it will look: the provider's template with its values
        _fill_template(session, result, adapter, digits_composer.options, spoken.parts)
    if issubclass(adapter, ChecksReadAloud):  # asked about beside the announcer's version, a reading each ("đọc là …")
        result.to_decode = adapter.left_to_decode(spoken.parts)
    if channel == "sms":
        result.accented, result.unaccented = sms_info(result.rendered), sms_info(plain_sms_text(result.rendered))
        result.sends_unaccented = bool(options.get("unaccented", False))
        result.max_parts = int(options.get("max_parts", 1))
    elif channel == "facebook":
        result.length, result.max_length = len(result.rendered), adapter.default_limits.max_length
    elif channel == "radio":
        result.reading_seconds = reading_seconds(result.rendered, settings.reading_rate)
    return result


def _fill_template(
    session: Session, result: TextCheck, adapter: type[FillsTemplates], options: Any, parts: Mapping[str, str]
) -> None:
    template_id = adapter.template_named(options)
    template = provider_template(session, result.channel, template_id) if template_id else None
    if template_id is None:
        return
    result.problems += adapter.template_problems(options, template)
    if template is not None:
        result.problems += adapter.rendered_problems(options, template, parts)
        result.rendered = adapter.preview(options, template, parts)
        limit = dict(template.params).get(str(getattr(options, "text_param", None) or ""))
        if limit is not None:  # the text against the length its parameter allows
            result.length, result.max_length = len(parts.get("txt", "").strip()), limit


def as_it_will_look(session: Session, channel: str, options: Mapping[str, Any], parts: Mapping[str, str]) -> str | None:
    """A rendered bulletin as its recipient will see it, where the channel fills a provider's template (Zalo);
    None for other channels, or a template the directory does not know."""
    adapter = channel_class(channel)
    if not issubclass(adapter, FillsTemplates):
        return None
    validated = adapter.CampaignOptions.model_validate(dict(options))
    template_id = adapter.template_named(validated)
    template = provider_template(session, channel, template_id) if template_id else None
    return adapter.preview(validated, template, parts) if template is not None else None


# ---- a provider's template and the values it is filled with (Zalo's ZNS) -------------------------------------


@dataclass(frozen=True)
class TemplateParam:
    name: str
    max_length: int | None  # None: the chosen template has no such parameter (or the directory lacks the template)
    value: str
    fills_text: bool  # the parameter the channel's rendered text fills (`text_param`)


@dataclass(frozen=True)
class TemplateValues:
    """What the page asks about a channel that fills a provider's template: which template, a value for each of
    its parameters, and the parameter the text fills."""

    template_id: str
    template: ProviderTemplate | None  # None: none chosen, or one the directory does not know
    params: list[TemplateParam]
    text_param: str


def template_choices(session: Session, actor: Actor, channel: str) -> list[ProviderTemplate]:
    """The approved templates of a channel that fills a provider's templates (imported into the directory)."""
    actor.require("directory:read")
    return provider_templates(session, channel)


def template_values(
    templates: list[ProviderTemplate], options: Mapping[str, Any], *, chosen_now: bool = False
) -> TemplateValues:
    """The channel's template and values as the page shows them: a field for each of the template's parameters,
    in its order, then any value the campaign gives that the template does not have (kept, and shown as such,
    so that nothing is lost on saving). A template just chosen keeps only the values it has a parameter for, and
    has its text fill its longest parameter unless the text fills one of them already."""
    template_id = str(options.get("template_id") or "")
    template = next((known for known in templates if known.template_id == template_id), None)
    given = {str(name): str(value) for name, value in dict(options.get("params") or {}).items()}
    text_param = str(options.get("text_param") or "")
    lengths = dict(template.params) if template is not None else {}
    if chosen_now and template is not None:
        given = {name: value for name, value in given.items() if name in lengths}
        if text_param not in lengths:
            text_param = max(template.params, key=lambda param: param[1])[0]
    names = [name for name, _ in template.params] if template is not None else []
    names += [name for name in given if name not in names]
    params = [TemplateParam(name, lengths.get(name), given.get(name, ""), name == text_param) for name in names]
    return TemplateValues(template_id, template, params, text_param)


# ---- what the audience can be chosen from -------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceChoice:
    selector: str  # as a campaign file writes it: "list:thue-bao-tay-ninh"
    label: str
    test: bool = False  # a subscriber list marked as a test list


def audience_choices(session: Session, actor: Actor, channel: str) -> list[AudienceChoice]:
    """Every audience the directory offers a channel, named as people know them."""
    from broadcaster.models import AgencyGroup, FacebookPage, Station, SubscriberList

    actor.require("directory:read")
    kind = channel_class(channel).recipient_kind
    if kind == RecipientKind.AGENCY:
        groups = session.scalars(select(AgencyGroup.group).distinct().order_by(AgencyGroup.group))
        return [AudienceChoice("agencies:all", "*")] + [AudienceChoice(f"group:{group}", group) for group in groups]
    if kind == RecipientKind.SUBSCRIBER:
        lists = session.scalars(select(SubscriberList).order_by(SubscriberList.is_test, SubscriberList.slug))
        return [AudienceChoice(f"list:{item.slug}", item.name, item.is_test) for item in lists]
    if kind == RecipientKind.STATION:
        stations = session.scalars(select(Station).order_by(Station.slug))
        return [AudienceChoice("stations:all", "*")] + [AudienceChoice(f"station:{s.slug}", s.name) for s in stations]
    pages = session.scalars(select(FacebookPage).order_by(FacebookPage.slug))
    return [AudienceChoice("pages:all", "*")] + [AudienceChoice(f"page:{page.slug}", page.name) for page in pages]


def issuer_choices(session: Session) -> list[tuple[str, str]]:
    return [
        (issuer.slug, f"{issuer.unit_short} {issuer.place}")
        for issuer in session.scalars(select(Issuer).order_by(Issuer.slug))
    ]
