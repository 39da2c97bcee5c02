"""A campaign's alert as a CAP 1.2 document (DOMAIN §10, §14), built with lxml and checked by the schema.

<alert>: identifier, sender, sent (the approval or cancellation), status (Actual, or Exercise/Test as the
campaign says), msgType (Alert, Update, Cancel) with references, scope Public. One <info> per locale:
category, event, urgency/severity/certainty from the priority (`mapping.RESPONSE`), effective/expires
from the validity window, senderName, headline, description, instruction, web (the campaign's page on
the verification site), contact (the official hotlines), the letter's number and date as parameters,
and one <area> per targeted area with its name and geocode. A Cancel carries no <info>: it withdraws
what was published and says so in <note>.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.campaigns.versions import published_content
from broadcaster.cap.alerts import AlertRef, CampaignAlert
from broadcaster.cap.mapping import AREA_CODE_SYSTEM, NAMESPACE, cap_time, language_tag, response_of, validity_times
from broadcaster.cap.schema import check_alert
from broadcaster.cap.texts import render_cap_texts
from broadcaster.models import Area, Campaign
from broadcaster.rendering import CampaignView, issuer_context, issuer_in, sender_name
from broadcaster.settings import Settings

LETTER_NUMBER = "letterNumber"
LETTER_DATE = "letterDate"


def alert_document_url(settings: Settings, identifier: str) -> str:
    return f"{settings.public_url}/cap/{identifier}.xml"


def _add(parent: Any, name: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        element.text = text
    return element


def references_text(refs: Iterable[AlertRef], settings: Settings) -> str:
    return " ".join(f"{ref.sender},{ref.identifier},{cap_time(ref.sent, settings.zone)}" for ref in refs)


def targeted_areas(session: Session, campaign: Campaign) -> list[Area]:
    """The areas the campaign's channels are limited to, else the issuer's own area."""
    codes = list(dict.fromkeys(code for channel in campaign.channels for code in channel.areas))
    if not codes:
        return [campaign.issuer.area] if campaign.issuer.area is not None else []
    found = {area.code: area for area in session.scalars(select(Area).where(Area.code.in_(codes)))}
    return [found[code] for code in codes if code in found]


def contact_text(hotlines: Iterable[dict[str, Any]]) -> str:
    return "; ".join(
        f"{line.get('label')}: {line['number']}" if line.get("label") else str(line["number"]) for line in hotlines
    )


def build_alert(session: Session, alert: CampaignAlert, settings: Settings) -> Any:
    """The <alert> element; ValueError-free: the schema check runs on what is built."""
    campaign = alert.campaign
    cap = campaign.spec.get("cap") or {}
    root = etree.Element(f"{{{NAMESPACE}}}alert", nsmap={None: NAMESPACE})
    _add(root, "identifier", alert.ref.identifier)
    _add(root, "sender", alert.ref.sender)
    _add(root, "sent", cap_time(alert.ref.sent, settings.zone))
    _add(root, "status", cap.get("status", "Actual"))
    _add(root, "msgType", alert.msg_type)
    _add(root, "scope", "Public")
    if alert.msg_type == "Cancel":
        _add(root, "note", f"Campaign {campaign.slug} ({campaign.number}) was cancelled.")
    if alert.references:
        _add(root, "references", references_text(alert.references, settings))
    if alert.msg_type != "Cancel":
        for locale, texts in render_cap_texts(published_content(session, campaign), settings).items():
            _add_info(root, session, campaign, locale, texts, settings, cap)
    return root


def _add_info(
    root: Any,
    session: Session,
    campaign: Campaign,
    locale: str,
    texts: dict[str, str],
    settings: Settings,
    cap: dict[str, Any],
) -> None:
    """One <info>. An imported alert's own details for this language (`cap.infos`: every category, its
    audience and event codes, its sender's name and web page, its parameters and resources) are written as it
    gave them, and its areas outside our list
    after ours, so that an alert imported and exported again says what it said."""
    issuer = campaign.issuer
    kept: dict[str, Any] = (cap.get("infos") or {}).get(locale) or {}
    urgency, severity, certainty = response_of(campaign.priority)
    effective, expires = validity_times(campaign.valid_from, campaign.valid_until, settings.zone)
    info = _add(root, "info")
    _add(info, "language", language_tag(locale))
    for category in kept.get("categories") or [cap.get("category", "Safety")]:
        _add(info, "category", category)
    _add(info, "event", texts["event"])
    for name, value in (("urgency", urgency), ("severity", severity), ("certainty", certainty)):
        _add(info, name, value)
    if kept.get("audience"):
        _add(info, "audience", kept["audience"])
    for code in kept.get("event_codes") or []:
        _add_value(info, "eventCode", code)
    _add(info, "effective", cap_time(effective, settings.zone))
    _add(info, "expires", cap_time(expires, settings.zone))
    named = issuer_context(issuer)  # in English, the issuer's English names and hotline labels
    _add(info, "senderName", kept.get("sender_name") or sender_name(named, locale))
    _add(info, "headline", texts["headline"])
    _add(info, "description", texts["description"])
    if texts.get("instruction"):
        _add(info, "instruction", texts["instruction"])
    _add(info, "web", kept.get("web") or settings.warning_page_url(campaign.slug))
    if issuer.hotlines:
        _add(info, "contact", contact_text(issuer_in(named, locale)["hotlines"]))
    view = CampaignView.of(campaign)
    letter = [(LETTER_NUMBER, campaign.number.strip()), (LETTER_DATE, view.dated.isoformat())]
    theirs = [
        (item["name"], item["value"]) for item in kept.get("parameters") or [] if item["name"] not in dict(letter)
    ]
    # Ours only when it has a value; theirs as the alert gave them, an empty one too (a profile's field left blank).
    for name, value in [*((name, value) for name, value in letter if value), *theirs]:
        _add_value(info, "parameter", {"name": name, "value": value})
    for resource in kept.get("resources") or []:
        _add_resource(info, resource)
    outside = kept.get("areas_outside") or []
    # An imported foreign alert that names none of our areas is not about the issuer's own area either.
    ours = targeted_areas(session, campaign) if not outside or any(c.areas for c in campaign.channels) else []
    for area in ours:
        _add_area(info, {"description": area.name, "geocodes": [{"name": AREA_CODE_SYSTEM, "value": area.code}]})
    for kept_area in outside:
        _add_area(info, kept_area)


def _add_area(info: Any, area: dict[str, Any]) -> None:
    """An <area> in the schema's order: areaDesc, polygons, circles, geocodes."""
    element = _add(info, "area")
    _add(element, "areaDesc", area["description"])
    for polygon in area.get("polygons") or []:
        _add(element, "polygon", polygon)
    for circle in area.get("circles") or []:
        _add(element, "circle", circle)
    for code in area.get("geocodes") or []:
        _add_value(element, "geocode", code)


def _add_value(parent: Any, name: str, value: dict[str, str]) -> None:
    """A value named in some code system: <parameter>, <eventCode>, <geocode>."""
    element = _add(parent, name)
    _add(element, "valueName", value["name"])
    _add(element, "value", value["value"])


def _add_resource(info: Any, resource: dict[str, Any]) -> None:
    """A <resource> in the schema's order: resourceDesc, mimeType, size, uri, digest."""
    element = _add(info, "resource")
    _add(element, "resourceDesc", resource["description"])
    _add(element, "mimeType", resource["mime_type"])
    for name, key in (("size", "size"), ("uri", "uri"), ("digest", "digest")):
        if resource.get(key) is not None:
            _add(element, name, str(resource[key]))


def alert_xml(session: Session, alert: CampaignAlert, settings: Settings) -> bytes:
    """The alert as UTF-8 XML; it has passed the OASIS schema (a failure here is a bug, raised as such)."""
    root = build_alert(session, alert, settings)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    problems = check_alert(document)
    if problems:
        raise RuntimeError("the CAP alert built does not pass the CAP 1.2 schema: " + "; ".join(problems))
    return bytes(document)
