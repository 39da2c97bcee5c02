"""The results page (`/campaigns/{slug}/results`, and `/results` for every campaign in a period): per
channel, station, area, subscriber list and day, each chart with its table beside it, and the report's
text to edit before exporting it (the exports are `broadcaster.web.console.report_exports`).

The figures are `broadcaster.operations.results`'; the tables and charts are `broadcaster.reporting`'s,
the same the exported documents carry.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from broadcaster import reporting
from broadcaster.accounts import Actor
from broadcaster.operations import campaigns as campaign_operations
from broadcaster.operations.results import LONGEST_PERIOD, campaign_results
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import FormState, console_router, page_for, render, settings_of, words_of
from broadcaster.web.console.words import language

router = console_router()
Reader = Annotated[Actor, Depends(page_for("campaigns:read"))]


def read_period(request: Request, start: str, end: str, *, needed: bool) -> tuple[FormState, date | None, date | None]:
    """The period asked for, each day checked, with the sentence beside its field when it is wrong; the
    whole period page opens on this month so far."""
    said = words_of(request)
    form = FormState(values={"start": start, "end": end})
    if needed and not start and not end:
        today = settings_of(request).today()
        start, end = f"{today.replace(day=1)}", f"{today}"
        form.values = {"start": start, "end": end}
    days: dict[str, date | None] = {}
    for name, value in (("start", start), ("end", end)):
        try:
            days[name] = date.fromisoformat(value) if value.strip() else None
        except ValueError:
            form.fail(name, said["bad_day"].format(value=value))
            days[name] = None
    first, last = days["start"], days["end"]
    if not form.failed and (first is None) != (last is None):
        form.fail("end" if last is None else "start", said["period_both"])
    if first is not None and last is not None:
        if last < first:
            form.fail("end", said["period_backwards"])
        elif last - first >= timedelta(days=LONGEST_PERIOD):
            form.fail("end", said["period_too_long"].format(days=LONGEST_PERIOD))
    return form, first, last


def results_context(
    request: Request, session: Session, actor: Actor, slug: str | None, start: date | None, end: date | None
) -> dict[str, Any]:
    found = campaign_results(session, actor, settings_of(request), slug, start, end)
    shown = reporting.layout(found, language(request))
    return {"results": found, "layout": shown, "report_text": " ".join(shown.summaries)}


@router.get("/campaigns/{slug}/results", response_class=HTMLResponse)
def campaign_page(
    request: Request, session: DbSession, actor: Reader, slug: str, start: str = "", end: str = ""
) -> Response:
    detail = campaign_operations.show(session, actor, slug)
    form, first, last = read_period(request, start, end, needed=False)
    context: dict[str, Any] = {"detail": detail, "slug": slug, "form": form, "results": None}
    if not form.failed:
        context |= results_context(request, session, actor, slug, first, last)
    return render(request, "results.html", context, status_code=422 if form.failed else 200)


@router.get("/results", response_class=HTMLResponse)
def period_page(request: Request, session: DbSession, actor: Reader, start: str = "", end: str = "") -> Response:
    form, first, last = read_period(request, start, end, needed=True)
    context: dict[str, Any] = {"detail": None, "slug": None, "form": form, "results": None}
    if not form.failed:
        context |= results_context(request, session, actor, None, first, last)
    return render(request, "results.html", context, status_code=422 if form.failed else 200)
