"""A CAP 1.2 alert becomes a draft campaign, which then goes through the usual approval.

What the alert says becomes the campaign's own texts, in the database where staff read and edit them:
each <info> block's texts as `cap.*.j2` — so the campaign exports the same texts again — and a Facebook
post and a radio script made from them, each ending with the issuer's hotlines. Areas come from the
geocodes (or, failing that, the area names); areas that match none of ours (a foreign alert's) are kept
as text on the draft, shown and exported again, never refused; each <info>'s categories, senderName,
web, parameters and those areas are kept by locale (`cap.infos`), and a language keeps its
region (en-AU, fr-CA). Two <info> of one language are refused (`reading`). The validity window comes from
effective/expires; the priority from urgency and severity (`mapping`).

An Update of an alert imported before changes that draft (or, for an approved campaign, becomes its
revision). A Cancel is never acted on by itself: it says which campaign to cancel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import audit
from broadcaster.campaigns.file import CapCategory, parse_campaign
from broadcaster.campaigns.revisions import save_or_revise
from broadcaster.campaigns.store import campaign_warnings, check_campaign, find_issuer
from broadcaster.cap.export import LETTER_DATE, LETTER_NUMBER
from broadcaster.cap.mapping import AREA_CODE_SYSTEM, priority_of, validity_dates
from broadcaster.cap.reading import Alert, InfoBlock
from broadcaster.directory import AreaIndex
from broadcaster.errors import NotFound, UserError
from broadcaster.models import Area, Campaign, Issuer, Station
from broadcaster.problems import InvalidInput, Problem
from broadcaster.settings import Settings
from broadcaster.text import slugify

_END_RAW = re.compile(r"\{%-?\s*endraw")


@dataclass
class ImportResult:
    slug: str
    campaign: Campaign
    created: bool
    warnings: list[Problem] = field(default_factory=list)  # valid, but a part will send nothing (a time past)


def _raw(text: str) -> str:
    """Text from the alert, kept literally in a template (never run as template code)."""
    return "{% raw %}" + text + "{% endraw %}" if text else ""


def _imported_from(session: Session, identifiers: set[str]) -> Campaign | None:
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        source = (campaign.spec.get("cap") or {}).get("source") or {}
        if source.get("identifier") in identifiers:
            return campaign
    return None


def _refuse_cancel(session: Session, alert: Alert) -> None:
    references = {reference.identifier for reference in alert.references}
    campaign = _imported_from(session, references)
    if campaign is None:
        raise UserError(
            f"alert {alert.identifier} cancels {', '.join(sorted(references))}, which was never imported here: "
            "nothing to cancel"
        )
    raise UserError(
        f"alert {alert.identifier} cancels the alert imported as campaign '{campaign.slug}': cancel it with "
        f"'broadcaster campaign cancel {campaign.slug}' (an import never stops a campaign by itself)"
    )


def _issuer(session: Session, wanted: str | None, earlier: Campaign | None) -> Issuer:
    if earlier is not None and wanted is None:
        return earlier.issuer
    if wanted is not None:
        issuer = find_issuer(session, wanted)
        if issuer is None:
            raise NotFound(f"issuer '{wanted}' is not known")
        return issuer
    issuers = list(session.scalars(select(Issuer).order_by(Issuer.slug)))
    if len(issuers) != 1:
        known = ", ".join(issuer.slug for issuer in issuers) or "none imported yet"
        raise UserError(f"say which issuer the campaign is for with --issuer (known issuers: {known})")
    return issuers[0]


def _areas(session: Session, infos: list[InfoBlock]) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """The codes of our areas the alert names, and by locale its areas that match none of ours (a foreign
    alert's: kept as each <info> wrote them, to be shown on the draft, never a refusal)."""
    index = AreaIndex(session)
    codes = {area.id: area.code for area in session.scalars(select(Area))}
    found: list[str] = []
    outside: dict[str, list[dict[str, Any]]] = {}
    for info in infos:
        for area in info.areas:
            ours = [value for name, value in area.geocodes if name == AREA_CODE_SYSTEM]
            area_id = next((index.find(value) for value in ours if index.find(value)), None) or index.find(
                area.description
            )
            if area_id is None:
                kept = [{"name": name, "value": value} for name, value in area.geocodes]
                shapes = {"polygons": area.polygons, "circles": area.circles}
                outside.setdefault(info.locale, []).append(
                    {"description": area.description, "geocodes": kept, **shapes}
                )
            elif codes[area_id] not in found:
                found.append(codes[area_id])
    return found, outside


_CATEGORIES = set(get_args(CapCategory))


def _info_details(
    infos: list[InfoBlock], outside: dict[str, list[dict[str, Any]]], joined: dict[str, list[int]]
) -> dict[str, Any]:
    """Each <info>'s own details beyond its texts, by locale (`CapInfo`)."""
    return {
        info.locale: {
            "categories": [category for category in info.categories if category in _CATEGORIES],
            "sender_name": info.sender_name or None,
            "web": info.web or None,
            "parameters": [{"name": name, "value": value} for name, value in info.parameters],
            "audience": info.audience or None,
            "event_codes": [{"name": name, "value": value} for name, value in info.event_codes],
            "resources": [
                {
                    "description": resource.description,
                    "mime_type": resource.mime_type,
                    "size": resource.size,
                    "uri": resource.uri or None,
                    "digest": resource.digest or None,
                }
                for resource in info.resources
            ],
            "areas_outside": outside.get(info.locale, []),
            "joined_lines": joined.get(info.locale, []),
        }
        for info in infos
    }


def _common_slots(session: Session, area_codes: list[str], on: date) -> list[str]:
    from broadcaster.directory import ordered_slots
    from broadcaster.directory.audience import parse_selector, stations_for

    stations: list[Station] = stations_for(session, [parse_selector("stations:all")], area_codes, on)
    if not stations:
        return []
    shared = set.intersection(*(set(station.slots) for station in stations))
    return [name for name, _ in ordered_slots(stations[0].slots) if name in shared]


def _local_naive(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")


def campaign_data(
    session: Session, alert: Alert, slug: str, issuer: Issuer, settings: Settings, source: str
) -> dict[str, Any]:
    """The campaign file the alert becomes."""
    if not alert.infos:
        raise InvalidInput(source, [Problem(source, "the alert has no <info> block, so there is nothing to warn of")])
    first = next((info for info in alert.infos if info.locale == "vi"), alert.infos[0])
    if first.expires is None:
        raise InvalidInput(source, [Problem(source, "the alert has no <expires>, so its validity window is unknown")])
    effective = first.effective or alert.sent
    starts, ends = validity_dates(effective, first.expires, settings.zone)
    areas, outside = _areas(session, alert.infos)
    schedule_at = _local_naive(max(effective, datetime.combine(starts, datetime.min.time(), settings.zone)), settings)
    channels: dict[str, Any] = {"facebook": {"to": ["pages:all"], "areas": areas, "schedule": [{"at": schedule_at}]}}
    # Radio stations read out what concerns their own areas: an alert that names only areas outside our list
    # (a foreign one) gets no radio script until staff give it areas of ours.
    slots = (
        []
        if outside and not areas
        else _common_slots(session, areas or ([issuer.area.code] if issuer.area else []), starts)
    )
    if slots:
        channels["radio"] = {"to": ["stations:all"], "areas": areas, "schedule": [{"slots": slots}]}
    data: dict[str, Any] = {
        "campaign": slug,
        "issuer": issuer.slug,
        "number": first.parameter(LETTER_NUMBER) or alert.identifier[:100],
        "subject": first.headline or first.event,
        "priority": priority_of(first.urgency, first.severity, first.certainty),
        "valid": {"from": starts.isoformat(), "until": ends.isoformat()},
        "template": slug,
        "locales": list(dict.fromkeys(info.locale for info in alert.infos)),
        "channels": channels,
        "cap": {
            "status": alert.status,
            "category": first.category if first.category in _CATEGORIES else "Safety",
            "source": alert.source,
            "infos": _info_details(alert.infos, outside, alert.joined),
        },
    }
    if first.parameter(LETTER_DATE):
        data["date"] = first.parameter(LETTER_DATE)
    return data


_FACEBOOK = """⚠️ {headline}

{description}

{instruction}

☎️ {{% for hotline in issuer.hotlines -%}}
{{{{ hotline.label }}}}: {{{{ hotline.number | phone }}}}{{% if not loop.last %}}; {{% endif %}}
{{%- endfor %}}
"""
_RADIO = """{{% set script %}}
{headline}.

{description}

{instruction}

{{% for hotline in issuer.hotlines %}}{{{{ hotline.label }}}}: {{{{ hotline.number }}}}.
{{% endfor %}}
{{% endset %}}
{{{{ script | spoken }}}}
"""


def template_files(info: InfoBlock, with_radio: bool) -> dict[str, str]:
    """file name → template text, for one locale."""
    parts = {
        "event": info.event,
        "headline": info.headline,
        "description": info.description,
        "instruction": info.instruction,
    }
    files = {f"cap.{part}.j2": _raw(text) + "\n" for part, text in parts.items() if text}
    raw = {part: _raw(text) for part, text in parts.items()}
    files["facebook.txt.j2"] = _FACEBOOK.format(**raw)
    if with_radio:
        files["radio.txt.j2"] = _RADIO.format(**raw)
    return files


def _unsafe_texts(alert: Alert, source: str) -> list[Problem]:
    return [
        Problem(source, f"the {info.locale} text contains '{{% endraw', which cannot be kept as plain text")
        for info in alert.infos
        if any(_END_RAW.search(text) for text in (info.event, info.headline, info.description, info.instruction))
    ]


def alert_texts(alert: Alert, data: dict[str, Any]) -> dict[str, str]:
    """The campaign's texts from the alert's <info> blocks, named under the campaign's own template name."""
    return {
        f"{data['template']}/{info.locale}/{name}": text
        for info in alert.infos
        for name, text in template_files(info, "radio" in data["channels"]).items()
    }


def import_alert(
    session: Session,
    alert: Alert,
    settings: Settings,
    actor: str,
    source: str,
    issuer_slug: str | None = None,
    slug: str | None = None,
) -> ImportResult:
    """The alert as a draft campaign, its texts in the database (a revision of an approved one); InvalidInput with
    every problem when it does not check clean, and then nothing is stored."""
    if alert.msg_type == "Cancel":
        _refuse_cancel(session, alert)
    if alert.msg_type not in ("Alert", "Update") or alert.status not in ("Actual", "Exercise", "Test"):
        raise UserError(
            f"alert {alert.identifier} is {alert.status} {alert.msg_type}: only an Alert or an Update that is "
            "Actual, Exercise or Test becomes a campaign"
        )
    problems = _unsafe_texts(alert, source)
    if problems:
        raise InvalidInput(source, problems)
    earlier = _imported_from(session, {r.identifier for r in alert.references} | {alert.identifier})
    slug = slug or (earlier.slug if earlier else ("cap-" + slugify(alert.identifier))[:100].rstrip("-"))
    existing = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if existing is not None and existing is not earlier:
        raise UserError(f"campaign '{slug}' already exists and was not imported from this alert; choose --slug")
    issuer = _issuer(session, issuer_slug, earlier)
    data = campaign_data(session, alert, slug, issuer, settings, source)
    spec = parse_campaign(data, source)
    texts = alert_texts(alert, data)
    problems = check_campaign(session, spec, settings, texts)
    if problems:
        raise InvalidInput(f"the campaign made from alert {alert.identifier}", problems)
    campaign, created = save_or_revise(session, spec, actor, settings, texts)
    audit.record(session, campaign, actor, "import", alert=alert.source, source=source)
    return ImportResult(slug, campaign, created, _joined_infos(alert, source) + campaign_warnings(spec, settings))


def _joined_infos(alert: Alert, source: str) -> list[Problem]:
    return [
        Problem(
            source,
            f"line {line}: this <info> in '{locale}' says what an earlier one says but for its areas; "
            "the two are kept as one, with the areas of both",
        )
        for locale, lines in alert.joined.items()
        for line in lines
    ]
