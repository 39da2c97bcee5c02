"""The campaign composer: `/compose` (a new campaign) and `/compose/{slug}` (a draft), no YAML needed.

The page posts the whole form; htmx posts it too, as one types, to `/compose/check/…` (the text rendered
and checked, also once the page has loaded: a page with four channels is not held up by four renderings),
`/compose/count/…` (recipients) and `/compose/timetable/…` (the timetable as a sentence and its next ten
sends). Saving goes through `operations.composer.save_form`, which saves through the same
operation as `campaign add` and the API; each problem is shown beside the field its path names.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from broadcaster.accounts import Actor
from broadcaster.campaigns.file import Fallback
from broadcaster.campaigns.plain import FIELDS, with_post_date
from broadcaster.campaigns.texts import shared_templates
from broadcaster.errors import UserError
from broadcaster.models import Campaign, Status
from broadcaster.operations import campaigns as campaign_ops
from broadcaster.operations import directory as directory_ops
from broadcaster.operations.composer import (
    CHANNELS,
    FALLBACKS,
    OFF_AT_FIRST,
    CampaignForm,
    ChannelForm,
    base_texts,
    export_yaml,
    form_of,
    import_file,
    problems_by_field,
    save_form,
    texts_of,
)
from broadcaster.operations.composer_live import (
    audience_choices,
    check_text,
    count_audience,
    echo_timetable,
    issuer_choices,
    template_choices,
    template_values,
)
from broadcaster.problems import InvalidInput
from broadcaster.timetable_choices import KINDS, SLOT_WORDS, WEEKDAYS
from broadcaster.web.auth import DbSession
from broadcaster.web.console.composer_form import LOCALES, parse_form, shown_value, text_views, value_shape
from broadcaster.web.console.pages import (
    FormState,
    NavItem,
    console_router,
    page_for,
    register_nav,
    render,
    settings_of,
    words_of,
)
from broadcaster.web.console.sentences import said, sentences_of
from broadcaster.web.console.words import language
from channels.base import FillsTemplates, channel_class

router = console_router()
register_nav(NavItem(20, "compose", "/compose", "campaigns:draft"))

Drafter = Annotated[Actor, Depends(page_for("campaigns:draft"))]
SLOTS = ("morning", "noon", "evening")


async def _form_fields(request: Request) -> FormData:
    return await request.form()  # parsed once: the CSRF check has already read it


Fields = Annotated[FormData, Depends(_form_fields)]


# ---- the page ------------------------------------------------------------------------------------------


def _templates(request: Request) -> list[str]:
    """The shared templates a campaign can start from."""
    return shared_templates(settings_of(request))


def _texts(session: Session, request: Request, form: CampaignForm) -> dict[tuple[str, str], str]:
    """The texts the page edits: the campaign's own, or the chosen shared template's for a new one."""
    base = base_texts(session, settings_of(request), form.campaign, form.template)
    return texts_of(base, form.template, list(CHANNELS), form.locales)


def _blank(session: Session, request: Request) -> tuple[CampaignForm, dict[str, ChannelForm]]:
    settings = settings_of(request)
    today = settings.today()
    issuers = issuer_choices(session)
    form = CampaignForm(
        issuer=issuers[0][0] if issuers else "",
        valid_from=today,
        valid_until=today + timedelta(days=30),
        template="",  # a blank campaign; a shared template is a choice
        locales=["vi"],
    )
    sections = {channel: ChannelForm() for channel in CHANNELS}
    form.channels = {channel: section for channel, section in sections.items() if channel not in OFF_AT_FIRST}
    form.texts = _texts(session, request, form)
    return form, sections


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    form: CampaignForm,
    sections: dict[str, ChannelForm],
    state: FormState | None = None,
    *,
    status_code: int = 200,
    notice: str = "",
    data: FormData | None = None,
) -> Response:
    settings = settings_of(request)
    lang = language(request)
    every = replace(form, channels=sections)
    existing = session.scalar(select(Campaign).where(Campaign.slug == form.campaign)) if form.campaign else None
    offers = {
        channel: section.fallback["channel"] if section.fallback else FALLBACKS[channel]
        for channel, section in sections.items()
        if section.fallback or channel in FALLBACKS
    }
    choices = {channel: template_choices(session, actor, channel) for channel in CHANNELS if _fills_templates(channel)}
    context = {
        "form": state or FormState(),
        "c": form,
        "sections": sections,
        "channels": CHANNELS,
        "locales": LOCALES,
        "kinds": KINDS,
        "weekdays": WEEKDAYS[lang],
        "slot_names": {slot: SLOT_WORDS[lang].get(slot, slot) for slot in SLOTS},
        "issuers": issuer_choices(session),
        "templates": _templates(request),
        "choices": {channel: audience_choices(session, actor, channel) for channel in CHANNELS},
        "counts": {
            channel: count_audience(
                session, actor, channel, sections[channel].audience, sections[channel].areas, settings.today()
            )
            for channel in CHANNELS
            if sections[channel].audience
        },
        "echoes": {channel: echo_timetable(session, settings, every, channel, lang) for channel in CHANNELS},
        "option_fields": {channel: channel_class(channel).CampaignOptions.model_fields for channel in CHANNELS},
        "template_choices": choices,
        "template_values": {
            channel: template_values(templates, sections[channel].options) for channel, templates in choices.items()
        },
        "fallback_offers": offers,
        "fallback_sources": {target: source for source, target in offers.items()},
        # Channels that send only as another's fallback: their own audience and timetable are not asked for.
        "handed_to": {offers[source] for source in form.channels if source in offers and sections[source].fallback},
        "fallback_default": Fallback(channel="-").model_dump(),
        "existing": existing,
        "notice": notice,
        "drafts": session.scalars(
            select(Campaign).where(Campaign.status.in_([Status.DRAFT, Status.SUBMITTED])).order_by(Campaign.slug)
        ).all(),
        "variables": [(name, value_shape(value), shown_value(value)) for name, value in form.variables.items()],
        "plain_texts": text_views(form.texts, data, lang),
        "fields": [(field.key, field.label(lang)) for field in FIELDS],
        "cap_json": json.dumps(form.cap, ensure_ascii=False) if form.cap is not None else "",
    }
    return render(request, "composer.html", context, status_code=status_code)


def _fills_templates(channel: str) -> bool:
    return issubclass(channel_class(channel), FillsTemplates)


@router.get("/compose", response_class=HTMLResponse)
def new_campaign(request: Request, session: DbSession, actor: Drafter) -> Response:
    form, sections = _blank(session, request)
    return _page(request, session, actor, form, sections)


@router.get("/compose/{slug}", response_class=HTMLResponse)
def edit_campaign(request: Request, session: DbSession, actor: Drafter, slug: str) -> Response:
    words = words_of(request)
    detail = campaign_ops.show(session, actor, slug)
    form = form_of(detail.spec)
    form.texts = _texts(session, request, form)
    sections = {channel: form.channels.get(channel, ChannelForm()) for channel in CHANNELS}
    notice = words["saved"] if "saved" in request.query_params else ""
    notice = words["submitted"] if "submitted" in request.query_params else notice
    return _page(request, session, actor, form, sections, notice=notice)


@router.post("/compose", response_class=HTMLResponse)
def save_campaign(request: Request, session: DbSession, actor: Drafter, data: Fields) -> Response:
    form, sections, state = parse_form(data, words_of(request))
    if not state.failed:
        try:
            with session.begin_nested():  # a refused save leaves nothing behind, and the page is shown again
                save_form(session, actor, form, settings_of(request))
        except InvalidInput as exc:
            _fail_by_field(state, exc, language(request))
        except UserError as exc:
            state.fail_with(exc, language(request))
        else:
            return RedirectResponse(f"/compose/{form.campaign}?saved=1", status_code=303)
    return _page(request, session, actor, form, sections, state, status_code=422, data=data)


@router.post("/compose/import", response_class=HTMLResponse)
def import_campaign_file(request: Request, session: DbSession, actor: Drafter, data: Fields) -> Response:
    upload = data.get("file")
    words = words_of(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        form, sections = _blank(session, request)
        state = FormState()
        state.fail("import", words["file_empty"])
        return _page(request, session, actor, form, sections, state, status_code=422)
    try:
        form = import_file(upload.file.read(), upload.filename)
    except UserError as exc:
        form, sections = _blank(session, request)
        state = FormState()
        for sentence in sentences_of(exc, language(request)):
            state.fail("import", sentence)
        return _page(request, session, actor, form, sections, state, status_code=422)
    form.texts = _texts(session, request, form)
    sections = {channel: form.channels.get(channel, ChannelForm()) for channel in CHANNELS}
    return _page(request, session, actor, form, sections)


@router.post("/compose/template", response_class=HTMLResponse)
def use_template(request: Request, session: DbSession, actor: Drafter, data: Fields) -> Response:
    """The form again with the chosen template's texts in place of those being edited."""
    form, sections, state = parse_form(data, words_of(request))
    form.texts = _texts(session, request, form)
    return _page(request, session, actor, form, sections, state)  # the template's texts, shown plain if they can be


@router.post("/compose/refresh", response_class=HTMLResponse)
def refresh(request: Request, session: DbSession, actor: Drafter, data: Fields) -> Response:
    """The form again as it stands, with a blank timetable line under each channel's rules to fill in; and
    the date of each post added to a channel's text when asked (a channel that refuses a repeated post)."""
    form, sections, state = parse_form(data, words_of(request))
    if (channel := data.get("add_date")) in CHANNELS:
        form.texts = {
            (written_for, locale): with_post_date(text, locale) if written_for == channel else text
            for (written_for, locale), text in form.texts.items()
        }
    return _page(request, session, actor, form, sections, state, data=data)


@router.post("/compose/export", response_model=None)
def export_campaign_file(request: Request, session: DbSession, actor: Drafter, data: Fields) -> Response:
    form, sections, state = parse_form(data, words_of(request))
    if not state.failed:
        try:
            text = export_yaml(form)
        except InvalidInput as exc:
            _fail_by_field(state, exc, language(request))
        else:
            name = f"{form.campaign or 'campaign'}.yaml"
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            return Response(text, media_type="application/yaml; charset=utf-8", headers=headers)
    return _page(request, session, actor, form, sections, state, status_code=422, data=data)


@router.post("/compose/{slug}/submit", response_class=HTMLResponse)
def submit_campaign(request: Request, session: DbSession, actor: Drafter, slug: str) -> Response:
    try:
        with session.begin_nested():
            campaign_ops.change_status(session, actor, slug, "submit", settings=settings_of(request))
    except UserError as exc:
        detail = campaign_ops.show(session, actor, slug)
        form = form_of(detail.spec)
        form.texts = _texts(session, request, form)
        sections = {channel: form.channels.get(channel, ChannelForm()) for channel in CHANNELS}
        state = FormState()
        if isinstance(exc, InvalidInput):
            _fail_by_field(state, exc, language(request))
        else:
            state.fail_with(exc, language(request))
        return _page(request, session, actor, form, sections, state, status_code=422)
    return RedirectResponse(f"/compose/{slug}?submitted=1", status_code=303)


def _fail_by_field(state: FormState, exc: InvalidInput, lang: str) -> None:
    """Each problem beside the field it is about, in the console's language."""
    for where, sentences in problems_by_field(exc.problems).items():
        for sentence in sentences:
            state.fail(where, said(sentence, lang))


# ---- what htmx asks for as one types -----------------------------------------------------------------------


@router.post("/compose/check/{channel}/{locale}", response_class=HTMLResponse)
def live_check(
    request: Request, session: DbSession, actor: Drafter, data: Fields, channel: str, locale: str
) -> Response:
    form, sections, _state = parse_form(data, words_of(request))
    if channel not in CHANNELS or locale not in LOCALES:
        raise UserError(f"there is no {channel} text in '{locale}' to check")
    text = form.texts.get((channel, locale), "")
    every = replace(form, channels=sections)
    checked = check_text(session, actor, settings_of(request), every, channel, locale, text) if text.strip() else None
    return render(request, "_composer_check.html", {"check": checked, "channel": channel, "locale": locale})


@router.post("/compose/reading/{locale}/{index}", response_class=HTMLResponse)
def add_reading(
    request: Request, session: DbSession, actor: Drafter, data: Fields, locale: str, index: int
) -> Response:
    """A reading given beside the radio text ("EVN đọc là e vê en"): added to the issuer's reading dictionary
    (audited), and the radio text checked again with it."""
    words = words_of(request)
    form, sections, _state = parse_form(data, words)
    if locale not in LOCALES:
        raise UserError(f"there is no radio text in '{locale}' to check")
    written = data.get(f"written.radio.{locale}.{index}")
    reading = data.get(f"reading.radio.{locale}.{index}")
    context: dict[str, Any] = {"channel": "radio", "locale": locale}
    try:
        with session.begin_nested():
            directory_ops.add_reading(session, actor, form.issuer, str(written or ""), str(reading or ""))
    except UserError:
        context["reading_problem"] = words["reading_refused"].format(written=written or "")
    else:
        context["reading_notice"] = words["reading_added"].format(
            written=written, reading=" ".join(str(reading).split())
        )
    text = form.texts.get(("radio", locale), "")
    every = replace(form, channels=sections)
    checked = check_text(session, actor, settings_of(request), every, "radio", locale, text) if text.strip() else None
    return render(request, "_composer_check.html", {**context, "check": checked})


@router.post("/compose/values/{channel}", response_class=HTMLResponse)
def live_values(request: Request, session: DbSession, actor: Drafter, data: Fields, channel: str) -> Response:
    """The template's fields again: a value for each parameter of the template just chosen (`chosen`), or with
    another parameter filled by the text."""
    _form, sections, _state = parse_form(data, words_of(request))
    if channel not in CHANNELS or not _fills_templates(channel):
        raise UserError(f"{channel} fills no provider's template")
    templates = template_choices(session, actor, channel)
    section = sections[channel]
    values = template_values(templates, section.options, chosen_now="chosen" in request.query_params)
    context = {"channel": channel, "values": values, "templates": templates, "present": section.options}
    return render(request, "_composer_values.html", {**context, "form": FormState()})


@router.post("/compose/count/{channel}", response_class=HTMLResponse)
def live_count(request: Request, session: DbSession, actor: Drafter, data: Fields, channel: str) -> Response:
    _form, sections, _state = parse_form(data, words_of(request))
    if channel not in CHANNELS:
        raise UserError(f"'{channel}' is not a channel")
    section = sections[channel]
    today = settings_of(request).today()
    count = (
        count_audience(session, actor, channel, section.audience, section.areas, today) if section.audience else None
    )
    return render(request, "_composer_count.html", {"count": count, "channel": channel})


@router.post("/compose/timetable/{channel}", response_class=HTMLResponse)
def live_timetable(request: Request, session: DbSession, actor: Drafter, data: Fields, channel: str) -> Response:
    form, sections, _state = parse_form(data, words_of(request))
    if channel not in CHANNELS:
        raise UserError(f"'{channel}' is not a channel")
    echo = echo_timetable(session, settings_of(request), replace(form, channels=sections), channel, language(request))
    return render(request, "_composer_timetable.html", {"echo": echo, "channel": channel})
