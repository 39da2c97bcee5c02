"""A campaign's live monitor: per channel what is planned, fanning out, sent, delivered, failed, skipped,
with reasons grouped; resume a paused channel, retry failures, send to the test list or to everyone now;
search deliveries by address; the CSV export is the API's (the console's sign-in reads it).

The counts refresh by htmx polling of `/campaigns/{slug}/monitor/live`, which reads only the index of the
campaign's deliveries by occurrence and state (operations.monitoring), never the outbox rows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from broadcaster import airing
from broadcaster.accounts import Actor
from broadcaster.errors import UserError
from broadcaster.operations import campaigns as campaign_operations
from broadcaster.operations import sending, stations
from broadcaster.operations.calendar import feed_link, rotate_feed_link
from broadcaster.operations.monitoring import campaign_monitor
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import FormState, console_router, page_for, render, settings_of, words_of
from broadcaster.web.console.sentences import sentence_of
from broadcaster.web.console.words import language

router = console_router()
Reader = Annotated[Actor, Depends(page_for("campaigns:read"))]
Sender = Annotated[Actor, Depends(page_for("campaigns:send"))]
POLL_SECONDS = 5
CHANNEL_ACTIONS = ("resume", "retry", "send-test", "send-now")


def _context(request: Request, session: Session, actor: Actor, slug: str, reasons: bool = False) -> dict[str, Any]:
    settings = settings_of(request)
    state = campaign_monitor(session, actor, settings, slug, reasons=reasons)
    return {"monitor": state, "slug": slug, "poll_seconds": POLL_SECONDS}


def _page_context(request: Request, session: Session, actor: Actor, slug: str) -> dict[str, Any]:
    settings = settings_of(request)
    detail = campaign_operations.show(session, actor, slug)
    has_radio = any(item.channel == "radio" for item in detail.channels)
    reports = stations.slot_reports(session, actor, settings, slug) if has_radio else []
    return _context(request, session, actor, slug) | {
        "detail": detail,
        "search": FormState(),
        "airing": airing.count_slots(reports),
        "slot_reports": sorted(reports, key=lambda item: item.fire_at, reverse=True),
        "reasons": airing.REASON_WORDS[language(request)],
        "states": airing.STATE_WORDS[language(request)],
        "form": FormState(),
        "failed_channel": None,
        "feed_link": feed_link(session, actor, slug, request.app.state.signing_secret, settings.public_url),
    }


@router.get("/campaigns/{slug}/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    context = _page_context(request, session, actor, slug)
    done = request.query_params.get("done", "")
    context["done"] = words_of(request).get(f"done_{done}") if done in (*CHANNEL_ACTIONS, "feed_link") else None
    return render(request, "monitor.html", context)


@router.get("/campaigns/{slug}/deliveries", response_class=HTMLResponse)
def deliveries_search(request: Request, session: DbSession, actor: Reader, slug: str, address: str = "") -> Response:
    """Every delivery of the campaign to one address: an index lookup per occurrence, nothing counted."""
    detail = campaign_operations.show(session, actor, slug)
    search = FormState(values={"address": address})
    found = None
    if address.strip():
        try:
            found = sending.find_deliveries(session, actor, slug, address)
        except UserError as exc:
            search.fail("address", sentence_of(exc, language(request)))
    context = {"detail": detail, "slug": slug, "search": search, "found": found}
    return render(request, "deliveries.html", context, status_code=422 if search.failed else 200)


@router.get("/campaigns/{slug}/monitor/live", response_class=HTMLResponse)
def monitor_live(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    """The counts alone, for htmx to swap in every few seconds."""
    return render(request, "_monitor_live.html", _context(request, session, actor, slug))


@router.get("/campaigns/{slug}/monitor/reasons", response_class=HTMLResponse)
def monitor_reasons(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    """The reasons of failed, skipped and held deliveries, grouped and counted (loaded once per page view)."""
    return render(request, "_monitor_reasons.html", _context(request, session, actor, slug, reasons=True))


@router.post("/campaigns/{slug}/channels/{channel}/{action}", response_class=HTMLResponse)
def channel_action(
    request: Request,
    session: DbSession,
    actor: Sender,
    slug: str,
    channel: str,
    action: str,
    everyone: Annotated[str, Form()] = "",
) -> Response:
    """resume, retry, send-test, send-now (which must be confirmed as going to everyone)."""
    words = words_of(request)
    settings = settings_of(request)
    form = FormState()
    field = f"{channel}-{action}"
    if action not in CHANNEL_ACTIONS:
        raise UserError(f"'{action}' is not something a channel can do ({', '.join(CHANNEL_ACTIONS)})")
    if action == "send-now" and everyone != "yes":
        form.fail(field, words["confirm_everyone"])
    else:
        try:
            with session.begin_nested():  # a refusal leaves nothing half-done in the page's transaction
                if action == "resume":
                    campaign_operations.resume_channel(session, actor, slug, channel)
                elif action == "retry":
                    sending.retry_failed(session, actor, slug, channel, settings)
                else:
                    sending.send_now(session, actor, slug, channel, settings, test=action == "send-test")
        except UserError as exc:
            form.fail(field, sentence_of(exc, language(request)))
    if not form.failed:
        return RedirectResponse(f"/campaigns/{slug}/monitor?done={action}", status_code=303)
    context = _page_context(request, session, actor, slug) | {"form": form, "failed_channel": channel}
    return render(request, "monitor.html", context | {"done": None}, status_code=422)


@router.post("/campaigns/{slug}/feed-link/rotate", response_class=HTMLResponse)
def rotate_feed(request: Request, session: DbSession, actor: Sender, slug: str) -> Response:
    """A new subscribable calendar link; the old one stops working at once (audited)."""
    rotate_feed_link(session, actor, slug, request.app.state.signing_secret, settings_of(request).public_url)
    return RedirectResponse(f"/campaigns/{slug}/monitor?done=feed_link", status_code=303)
