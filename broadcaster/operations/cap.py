"""CAP 1.2: a campaign's current alert as a document, and an alert (file or allowed URL) as a draft campaign."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from broadcaster.accounts import Actor, bind_actor
from broadcaster.errors import UserError
from broadcaster.problems import Problem
from broadcaster.settings import Settings


@dataclass(frozen=True)
class ExportedAlert:
    msg_type: str  # Alert, Update or Cancel
    identifier: str
    document: bytes  # the alert as XML, checked against the OASIS CAP 1.2 schema


@dataclass(frozen=True)
class ImportedAlert:
    identifier: str  # the alert's own identifier
    slug: str
    status: str
    created: bool
    warnings: list[Problem]  # what will send nothing as imported: a time already past


def export_alert(session: Session, actor: Actor, slug: str, settings: Settings) -> ExportedAlert:
    """The campaign's current CAP alert: Alert when approved, Update after a new approval, Cancel when cancelled."""
    from broadcaster.cap.alerts import alert_for_campaign
    from broadcaster.cap.export import alert_xml
    from broadcaster.rendering import TemplateProblem

    actor.require("campaigns:read")
    alert = alert_for_campaign(session, slug, settings)
    try:
        document = alert_xml(session, alert, settings)
    except TemplateProblem as exc:
        raise UserError(f"campaign '{slug}' cannot be exported as CAP: {exc}") from None
    return ExportedAlert(alert.msg_type, alert.ref.identifier, document)


def import_alert(
    session: Session,
    actor: Actor,
    source: str,
    settings: Settings,
    *,
    issuer: str | None = None,
    slug: str | None = None,
) -> ImportedAlert:
    """A CAP alert becomes a draft campaign (or the revision of an approved one), its texts in the database;
    InvalidInput with every problem when it does not check clean. Audited."""
    from broadcaster.cap.importing import import_alert as import_cap
    from broadcaster.cap.reading import parse_alert, read_source

    actor.require("campaigns:draft")
    alert = parse_alert(read_source(source, settings), source)
    bind_actor(session, actor)
    result = import_cap(session, alert, settings, actor.login, source, issuer, slug)
    return ImportedAlert(alert.identifier, result.slug, result.campaign.status, result.created, result.warnings)
