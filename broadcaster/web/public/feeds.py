"""CAP for other systems: `/cap/<identifier>.xml` (a campaign's current alert) and `/cap/alerts.atom`
(the warnings in force, one entry each linking its alert, as the OASIS CAP feeds note describes); and each
campaign's calendar at its secret link, `/feeds/campaigns/<slug>/<token>.ics`, for phone calendars."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from lxml import etree

from broadcaster.campaigns.versions import published_content
from broadcaster.cap.alerts import alert_by_identifier, current_alerts
from broadcaster.cap.export import alert_document_url, alert_xml
from broadcaster.cap.mapping import cap_time
from broadcaster.cap.texts import render_cap_texts
from broadcaster.operations.calendar import FeedLinkRefused, feed_fires
from broadcaster.settings import Settings
from broadcaster.web.auth import DbSession
from broadcaster.web.portal.calendar import campaign_calendar
from broadcaster.web.public.pages import limited

ATOM = "http://www.w3.org/2005/Atom"
CAP_MEDIA_TYPE = "application/cap+xml"
router = APIRouter(include_in_schema=False)
# A campaign feed holds its fires from a month ago to four months ahead, as the console's download does.
FEED_DAYS_BEFORE, FEED_DAYS_AFTER = 30, 120


@router.get("/cap/alerts.atom")
def feed(request: Request, session: DbSession) -> Response:
    if (refusal := limited(request)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    now = settings.local_now()
    alerts = current_alerts(session, settings, now.date())
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _add(root, "id", f"{settings.public_url}/cap/alerts.atom")
    _add(root, "title", "Cảnh báo đang có hiệu lực")
    _add(
        root,
        "updated",
        max((cap_time(a.ref.sent, settings.zone) for a in alerts), default=cap_time(now, settings.zone)),
    )
    etree.SubElement(root, f"{{{ATOM}}}link", rel="self", href=f"{settings.public_url}/cap/alerts.atom")
    for alert in alerts:
        campaign = alert.campaign
        texts = next(iter(render_cap_texts(published_content(session, campaign), settings).values()))
        entry = _add(root, "entry")
        url = alert_document_url(settings, alert.ref.identifier)
        _add(entry, "id", url)
        _add(entry, "title", texts["headline"])
        _add(entry, "updated", cap_time(alert.ref.sent, settings.zone))
        author = _add(entry, "author")
        _add(author, "name", f"{campaign.issuer.unit_name} {campaign.issuer.place}")
        etree.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type=CAP_MEDIA_TYPE, href=url)
        _add(entry, "summary", f"{campaign.number.strip()} — V/v {campaign.subject}")
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Response(body, media_type="application/atom+xml", headers={"Cache-Control": "public, max-age=60"})


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    if text is not None:
        element.text = text
    return element


@router.get("/cap/{identifier}.xml")
def alert_document(request: Request, session: DbSession, identifier: str) -> Response:
    """A campaign's current alert; earlier alerts it replaced, drafts and unknown names are not found."""
    if (refusal := limited(request)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    alert = alert_by_identifier(session, identifier[:300], settings)
    return Response(
        alert_xml(session, alert, settings), media_type=CAP_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=60"}
    )


@router.get("/feeds/campaigns/{slug}/{token}.ics")
def campaign_feed(request: Request, session: DbSession, slug: str, token: str) -> Response:
    """A campaign's fires as an iCalendar feed a phone calendar subscribes to (the link is the credential)."""
    if (refusal := limited(request)) is not None:
        return refusal
    settings: Settings = request.app.state.settings
    now = settings.clock.now()
    start, end = now - timedelta(days=FEED_DAYS_BEFORE), now + timedelta(days=FEED_DAYS_AFTER)
    try:
        campaign, fires = feed_fires(session, settings, slug, token, request.app.state.signing_secret, start, end)
    except FeedLinkRefused as exc:
        sentence = str(exc)[:1].upper() + str(exc)[1:] + "."
        return Response(sentence, status_code=404, media_type="text/plain; charset=utf-8")
    link = f"{settings.public_url}/campaigns/{slug}"
    body = campaign_calendar(campaign.number, campaign.subject, fires, settings, link)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={"Cache-Control": "no-store"})
