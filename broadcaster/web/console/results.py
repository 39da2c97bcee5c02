"""The results page (`/campaigns/{slug}/results`, and `/results` for every campaign in a period): per
channel, station, area, subscriber list and day, each chart with its table beside it, and the report's
text to edit before exporting it (the exports are `broadcaster.web.console.report_exports`).

The figures are `broadcaster.operations.results`'; the tables and charts are `broadcaster.operations.reporting`'s,
the same the exported documents carry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.campaigns.store import find_campaign
from broadcaster.models import Issuer
from broadcaster.operations import campaigns as campaign_operations
from broadcaster.operations import reporting
from broadcaster.operations.report_files import (
    FORMATS,
    Report,
    default_addressee,
    figures_csv,
    figures_xlsx,
    lay_out_ahead,
    report_docx,
    report_pdf,
)
from broadcaster.operations.results import LONGEST_PERIOD, Results, campaign_results, facebook_reach
from broadcaster.rendering import issuer_context
from broadcaster.settings import Settings
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
) -> tuple[dict[str, Any], Callable[[], bool]]:
    """The page's figures, tables and report form; and what lays the report's PDF out while the staff read
    and write (called once the page is made, so that it does not slow the page): their export then lays
    out its text only."""
    settings = settings_of(request)
    found = campaign_results(session, actor, settings, slug, start, end)
    shown = reporting.layout(found, language(request))
    issuer = _issuer(session, slug)
    addressee = default_addressee(issuer)
    text = "\n\n".join(shown.summaries)
    subject = _subject(session, slug, start, end)

    def report() -> Report:
        return _report_of(settings, found, issuer, subject, text, addressee)

    shown_context = {"results": found, "layout": shown, "report_text": text, "addressee": addressee}
    return shown_context, lambda: lay_out_ahead(report, settings.templates_dir)


@router.get("/campaigns/{slug}/results", response_class=HTMLResponse)
def campaign_page(
    request: Request, session: DbSession, actor: Reader, slug: str, start: str = "", end: str = ""
) -> Response:
    detail = campaign_operations.show(session, actor, slug)
    form, first, last = read_period(request, start, end, needed=False)
    context: dict[str, Any] = {"detail": detail, "slug": slug, "form": form, "results": None}
    if form.failed:
        return render(request, "results.html", context, status_code=422)
    return _results_page(request, session, actor, slug, first, last, context)


@router.get("/results", response_class=HTMLResponse)
def period_page(request: Request, session: DbSession, actor: Reader, start: str = "", end: str = "") -> Response:
    form, first, last = read_period(request, start, end, needed=True)
    context: dict[str, Any] = {"detail": None, "slug": None, "form": form, "results": None}
    if form.failed:
        return render(request, "results.html", context, status_code=422)
    return _results_page(request, session, actor, None, first, last, context)


def _results_page(
    request: Request,
    session: Session,
    actor: Actor,
    slug: str | None,
    first: date | None,
    last: date | None,
    context: dict[str, Any],
) -> Response:
    """The results page; once it is drawn, the report's figures are laid out ahead of an export."""
    shown, ahead = results_context(request, session, actor, slug, first, last)
    page = render(request, "results.html", context | shown)
    ahead()
    return page


@router.get("/campaigns/{slug}/results/facebook-reach", response_class=HTMLResponse)
def campaign_facebook_reach(request: Request, session: DbSession, actor: Reader, slug: str) -> Response:
    """What the campaign's posts reached, asked of the Graph API (loaded once the page is shown)."""
    return render(request, "_results_reach.html", {"posts": facebook_reach(session, actor, settings_of(request), slug)})


# ---- the report as files ------------------------------------------------------------------------------

LONGEST_TEXT = 20_000


def _issuer(session: Session, slug: str | None) -> dict[str, Any]:
    """Who reports: the campaign's issuer; for a period, the installation's first issuer."""
    campaign = find_campaign(session, slug) if slug is not None else None
    issuer = campaign.issuer if campaign is not None else session.scalar(select(Issuer).order_by(Issuer.slug))
    return issuer_context(issuer) if issuer is not None else {}


def _subject(session: Session, slug: str | None, first: date | None, last: date | None) -> str:
    campaign = find_campaign(session, slug) if slug is not None else None
    period = f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}" if first and last else ""
    return " ".join(part for part in ("kết quả tuyên truyền", campaign.subject if campaign else "", period) if part)


def _report_of(
    settings: Settings, found: Results, issuer: dict[str, Any], subject: str, text: str, addressee: str
) -> Report:
    return Report(
        issuer=issuer,
        subject=subject,
        text=text,
        addressee=addressee,
        day=settings.today(),
        at=found.at.astimezone(settings.zone),
        layout=reporting.layout(found, "vi"),  # the department's document: Vietnamese
    )


def _report(
    request: Request,
    session: Session,
    actor: Actor,
    slug: str | None,
    form: FormState,
    first: date | None,
    last: date | None,
) -> Report:
    settings = settings_of(request)
    found = campaign_results(session, actor, settings, slug, first, last)
    text, addressee = str(form.values.get("text") or ""), str(form.values.get("to") or "")
    return _report_of(settings, found, _issuer(session, slug), _subject(session, slug, first, last), text, addressee)


def _export(request: Request, session: Session, actor: Actor, slug: str | None, values: dict[str, str]) -> Response:
    form, first, last = read_period(request, values["start"], values["end"], needed=slug is None)
    form.values |= {"text": values["text"], "to": values["to"]}
    if values["format"] not in FORMATS:
        form.fail("", words_of(request)["report_format"])
    if len(values["text"]) > LONGEST_TEXT or len(values["to"]) > 300:
        form.fail("text", words_of(request)["report_too_long"].format(characters=LONGEST_TEXT))
    if form.failed:
        context: dict[str, Any] = {"detail": None, "slug": slug, "form": form, "results": None}
        if slug is not None:
            context["detail"] = campaign_operations.show(session, actor, slug)
        return render(request, "results.html", context, status_code=422)
    report = _report(request, session, actor, slug, form, first, last)
    kind = values["format"]
    made = {
        "docx": lambda: report_docx(report),
        "pdf": lambda: report_pdf(report, settings_of(request).templates_dir),
        "xlsx": lambda: figures_xlsx(report.layout),
        "csv": lambda: figures_csv(report.layout),
    }[kind]()
    name = report.filename(kind)
    return Response(made, media_type=FORMATS[kind], headers={"Content-Disposition": f'attachment; filename="{name}"'})


ExportForm = Annotated[str, Form()]


@router.post("/campaigns/{slug}/results/report")
def campaign_report(
    request: Request,
    session: DbSession,
    actor: Reader,
    slug: str,
    format: ExportForm,
    start: ExportForm = "",
    end: ExportForm = "",
    text: ExportForm = "",
    to: ExportForm = "",
) -> Response:
    find_campaign(session, slug)  # a campaign that does not exist is the not-found page
    return _export(
        request, session, actor, slug, {"format": format, "start": start, "end": end, "text": text, "to": to}
    )


@router.post("/results/report")
def period_report(
    request: Request,
    session: DbSession,
    actor: Reader,
    format: ExportForm,
    start: ExportForm = "",
    end: ExportForm = "",
    text: ExportForm = "",
    to: ExportForm = "",
) -> Response:
    return _export(
        request, session, actor, None, {"format": format, "start": start, "end": end, "text": text, "to": to}
    )
