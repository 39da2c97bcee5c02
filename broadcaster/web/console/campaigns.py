"""Campaigns: the list, a campaign's page with its lifecycle actions, and the preview an approver reads.

The preview renders each channel in each locale exactly as it goes out (the letter as its A4 PDF, the SMS
with its encoding and parts, the post, the radio script with its reading time) for a sample recipient the
reader can change, beside the differences from the last approved version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns import lifecycle, revisions, versions
from broadcaster.campaigns.store import find_campaign
from broadcaster.errors import UserError
from broadcaster.letters import letter_file
from broadcaster.models import Campaign, CampaignVersion, RevisionStatus, Status, SubscriberList
from broadcaster.operations import campaigns as operations
from broadcaster.operations import sending
from broadcaster.operations.composer_live import as_it_will_look
from broadcaster.operations.preview import Preview, preview, revision_content
from broadcaster.settings import Settings
from broadcaster.text import reading_seconds, sms_info
from broadcaster.timetable_choices import choice_of_rule, describe
from broadcaster.web.auth import DbSession
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
from broadcaster.web.console.sentences import sentence_of
from broadcaster.web.console.words import language

router = console_router()
register_nav(NavItem(20, "campaigns", "/campaigns", "campaigns:read"))
Reader = Annotated[Actor, Depends(page_for("campaigns:read"))]
CHANNEL_ORDER = ("email", "sms", "zalo", "facebook", "radio")


@router.get("/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession, actor: Reader, status: str = "") -> Response:
    campaigns = operations.list_campaigns(session, actor)
    shown = [item for item in campaigns if not status or item.status == status]
    counts = {state.value: sum(1 for item in campaigns if item.status == state) for state in Status}
    return render(
        request, "campaigns.html", {"campaigns": shown, "status": status, "counts": counts, "statuses": list(Status)}
    )


# ---- one campaign ---------------------------------------------------------------------------------------


def _actions(campaign: Campaign, actor: Actor) -> list[str]:
    """The actions this person may take on the campaign as it stands; with a revision, submit, approve and
    return act on the revision (`operations.change_status`)."""
    status, revision = Status(campaign.status), campaign.revision
    allowed = []
    for action, permission in operations.LIFECYCLE_PERMISSIONS.items():
        if not actor.may(permission):
            continue
        if revision is not None and action in operations.REVISION_ACTIONS:
            submitted = revision.status == RevisionStatus.SUBMITTED
            if action == "discard-revision" or (action == "submit") != submitted:
                allowed.append(action)
        elif action != "discard-revision" and status in lifecycle.TRANSITIONS[action].sources:
            allowed.append(action)
    return allowed


def pending_version(session: Session, campaign: Campaign) -> CampaignVersion | None:
    """The version waiting for approval: a submitted campaign's, or its submitted revision's."""
    revision = campaign.revision
    if revision is not None:
        waiting = revision.version if revision.status == RevisionStatus.SUBMITTED else None
        return versions.numbered(session, campaign, waiting) if waiting is not None else None
    return versions.latest_version(session, campaign) if campaign.status == Status.SUBMITTED else None


# The console's words for what bars a person from approving (`versions.approval_bar`, the lifecycle's rule).
APPROVAL_BAR_WORDS = {versions.ApprovalBar.SUBMITTER: "you_submitted", versions.ApprovalBar.AUTHOR: "you_drafted"}


def approval_refusal(session: Session, campaign: Campaign, actor: Actor) -> str | None:
    """The word key saying why this person may not approve (two-person rule), or None."""
    version = pending_version(session, campaign)
    bar = versions.approval_bar(version, actor.login) if version is not None else None
    return APPROVAL_BAR_WORDS[bar] if bar is not None else None


# What changed under an approved campaign, named as people know it (the content's top-level fields).
CHANGED_PARTS = {
    "issuer.hotlines": "changed_hotlines",
    "issuer.hotline": "changed_hotlines",
    "issuer.readings": "changed_readings",
}


def changed_parts(changes: list[dict[str, Any]]) -> list[str]:
    """Word keys for what differs from the version in force: hotlines, readings, the issuer's other details."""
    found = []
    for change in changes:
        where = str(change.get("field", "texts"))
        key = next((word for prefix, word in CHANGED_PARTS.items() if where.startswith(prefix)), None)
        key = key or ("changed_issuer" if where.startswith("issuer.") else "changed_content")
        if key not in found:
            found.append(key)
    return found


def _campaign_context(session: Session, actor: Actor, slug: str, settings: Settings, lang: str) -> dict[str, Any]:
    """What the campaign page shows; the timetable's sentences too, which every rendering of it needs."""
    detail = operations.show(session, actor, slug)
    campaign = find_campaign(session, slug)
    return {
        "sentences": timetable_sentences(campaign, lang),
        "detail": detail,
        "campaign": campaign,
        "actions": _actions(campaign, actor),
        "refusal": approval_refusal(session, campaign, actor),
        "version": versions.latest_version(session, campaign),
        "approved": versions.approved_version(session, campaign),
        "revision": campaign.revision,
        "returned": revisions.returned_reason(session, campaign),
        "changed": changed_parts(versions.changes_since_fixed(session, campaign, settings)),
        "test_lists": session.scalars(
            select(SubscriberList.name).where(SubscriberList.is_test.is_(True)).order_by(SubscriberList.name)
        ).all(),
    }


def timetable_sentences(campaign: Campaign, lang: str) -> dict[str, list[str]]:
    """Each channel's rules as the composer reads them back ("every Thứ Hai and Thứ Năm at 19:00 …")."""
    valid = (campaign.valid_from, campaign.valid_until)
    sentences: dict[str, list[str]] = {}
    for channel, section in dict(campaign.spec.get("channels", {})).items():
        try:
            sentences[channel] = [describe(choice_of_rule(rule), valid, lang) for rule in section.get("schedule", [])]
        except (ValueError, KeyError, TypeError):
            continue  # a rule the choices cannot express: the page shows the rule as stored
    return sentences


@router.get("/campaigns/{slug}", response_class=HTMLResponse)
def campaign_page(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    context = _campaign_context(session, actor, slug, settings_of(request), language(request)) | {"form": FormState()}
    return render(request, "campaign.html", context)


@router.post("/campaigns/{slug}/revise", response_class=HTMLResponse)
def start_revision(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    """A revision of an approved campaign, to send what changed under it; then the composer opens it."""
    try:
        with session.begin_nested():
            operations.start_revision(session, actor, slug, settings_of(request))
    except UserError as exc:
        return _campaign_page_again(request, session, actor, slug, "", sentence_of(exc, language(request)))
    return RedirectResponse(f"/compose/{slug}", status_code=303)


@router.post("/campaigns/{slug}/test-send", response_class=HTMLResponse)
def draft_test_send(
    request: Request, session: DbSession, actor: Reader, slug: str, channel: Annotated[str, Form()] = "sms"
) -> Response:
    """The campaign as it is being written, sent to the test lists before anyone approves it."""
    try:
        with session.begin_nested():
            sending.send_draft_test(session, actor, slug, channel, settings_of(request))
    except UserError as exc:
        lang = language(request)
        return _campaign_page_again(request, session, actor, slug, "test_send", sentence_of(exc, lang))
    return RedirectResponse(f"/campaigns/{slug}?tested={channel}", status_code=303)


def _campaign_page_again(
    request: Request, session: Session, actor: Actor, slug: str, where: str, sentence: str
) -> Response:
    form = FormState()
    form.fail(where, sentence)
    context = _campaign_context(session, actor, slug, settings_of(request), language(request)) | {"form": form}
    return render(request, "campaign.html", context, status_code=422)


@router.post("/campaigns/{slug}/{action}", response_class=HTMLResponse)
def change_status(
    request: Request,
    session: DbSession,
    actor: Reader,
    slug: str,
    action: str,
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """submit, approve, return (with a reason), pause, resume, cancel: each refusal a sentence on the page."""
    words = words_of(request)
    form = FormState(values={"reason": reason})
    if action == "return" and not reason.strip():
        form.fail("reason", words["reason_needed"])
    else:
        try:
            # Nested: a refused change leaves nothing half-done in the transaction the page still reads from.
            with session.begin_nested():
                operations.change_status(session, actor, slug, action, reason or None, settings=settings_of(request))
        except UserError as exc:
            form.fail("reason" if action == "return" else "", sentence_of(exc, language(request)))
    if not form.failed:
        target = f"/campaigns/{slug}/preview" if back == "preview" else f"/campaigns/{slug}"
        return RedirectResponse(target, status_code=303)
    if back == "preview":
        context = _preview_context(request, session, actor, slug, {}) | {"form": form, "failed_action": action}
        return render(request, "preview.html", context, status_code=422)
    context = _campaign_context(session, actor, slug, settings_of(request), language(request)) | {
        "form": form,
        "failed_action": action,
    }
    return render(request, "campaign.html", context, status_code=422)


# ---- preview and approval -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendering:
    preview: Preview
    sms: Any = None  # text.SmsInfo for SMS
    reading_seconds: int | None = None  # for radio
    has_letter: bool = False
    filled: str | None = None  # Zalo: the ZNS template's text with the campaign's values, as it will look


def _rendering(item: Preview, rate: float) -> Rendering:
    text = item.parts.get("txt", "")
    if item.channel == "sms":
        return Rendering(item, sms=sms_info(text))
    if item.channel == "radio":
        return Rendering(item, reading_seconds=reading_seconds(text, rate))
    return Rendering(item, has_letter=bool(item.parts.get("html")))


def _preview_context(
    request: Request, session: Session, actor: Actor, slug: str, wanted: dict[str, str], of_revision: bool = False
) -> dict[str, Any]:
    settings = settings_of(request)
    context = _campaign_context(session, actor, slug, settings, language(request))
    campaign: Campaign = context["campaign"]
    of_revision = of_revision and campaign.revision is not None
    sample = FormState(values=dict(wanted))
    renderings: dict[str, list[Rendering]] = {}
    for item in sorted(campaign.channels, key=lambda c: CHANNEL_ORDER.index(c.channel)):
        for locale in campaign.locales:
            try:
                shown = preview(
                    session,
                    actor,
                    slug,
                    item.channel,
                    settings,
                    locale=locale,
                    recipient=wanted.get(item.channel),
                    revision=of_revision,
                )
            except UserError as exc:
                sample.fail(item.channel, sentence_of(exc, language(request)))
                continue
            rendering = _rendering(shown, settings.reading_rate)
            filled = as_it_will_look(session, item.channel, item.options, shown.parts)
            renderings.setdefault(item.channel, []).append(replace(rendering, filled=filled))
    changes, against = _changes(session, campaign, settings, of_revision)
    return context | {
        "renderings": renderings,
        "sample": sample,
        "changes": changes,
        "changes_against": against,
        "of_revision": of_revision,
    }


def _changes(
    session: Session, campaign: Campaign, settings: Any, of_revision: bool
) -> tuple[list[dict[str, Any]] | None, int | None]:
    """What differs from the version in force — or, for a revision sent back, from the version returned —
    and that version's number; None when no version was ever approved."""
    approved = versions.approved_version(session, campaign)
    if approved is None:
        return None, None
    if of_revision and campaign.revision is not None:
        content = revision_content(session, campaign)
        returned = campaign.revision.returned_version
        before = versions.numbered(session, campaign, returned) if returned is not None else None
        if before is not None and campaign.revision.version is None:
            return versions.differences(before.content, content), before.number
        return versions.differences(approved.content, content), approved.number
    latest = versions.latest_version(session, campaign)
    if campaign.status == Status.DRAFT:
        content = versions.current_content(session, campaign, settings)
    else:
        content = latest.content if latest is not None else approved.content
    return versions.differences(approved.content, content), approved.number


@router.get("/campaigns/{slug}/preview", response_class=HTMLResponse)
def preview_page(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    wanted = {
        channel: request.query_params[channel].strip()
        for channel in CHANNEL_ORDER
        if request.query_params.get(channel, "").strip()
    }
    context = _preview_context(request, session, actor, slug, wanted, request.query_params.get("of") == "revision")
    status = 422 if context["sample"].failed else 200
    return render(request, "preview.html", context | {"form": FormState()}, status_code=status)


@router.get("/campaigns/{slug}/letter.pdf")
def letter(
    request: Request, session: DbSession, actor: Reader, slug: str, locale: str, recipient: str = ""
) -> Response:
    """The letter exactly as the e-mail attaches it: an A4 PDF."""
    shown = preview(session, actor, slug, "email", settings_of(request), locale=locale, recipient=recipient or None)
    campaign = find_campaign(session, slug)
    made = letter_file(shown.parts.get("html"), campaign.number, shown.fire_at.date())
    if made is None:
        raise UserError(f"campaign '{slug}' has no printed letter")
    return Response(
        made.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{made.name}"', "Cache-Control": "no-store"},
    )
