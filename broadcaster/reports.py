"""What came back after "accepted": delivery reports, pushed by gateways or pulled from them (DOMAIN §11).

A report is an idempotent update of one delivery, matched by the key we sent (eSMS RequestId, the
generic gateway's id) or by the provider's message id (SpeedSMS tranId with the phone). The first final
report (delivered / undelivered) is kept on the row; a repeat changes nothing. A report that arrives
before the send outcome is written waits on the row and the outcome takes it up (`delivery.record`).
Interim statuses change nothing. A report nothing matches is logged and kept in `unmatched_reports`;
the report pull matches those again (their message id may have been recorded since), and asks the
gateway about accepted messages that got no report in time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, exists, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement

from broadcaster.db import transaction
from broadcaster.errors import ConfigurationError
from broadcaster.masking import mask_secrets
from broadcaster.models import REPORTABLE, Delivery, DeliveryState, UnmatchedReport, parse_delivery_key, utcnow
from broadcaster.settings import Settings
from channels.base import ChannelAdapter, ChannelError, Report, ReportStatus, configured_adapter

log = logging.getLogger(__name__)
CHANNEL = "sms"
KEPT_FOR = timedelta(days=7)  # eSMS answers look-ups for the last 7 days; unmatched reports go after that


@dataclass
class Applied:
    applied: int = 0  # a delivery took the report
    repeated: int = 0  # the delivery had this report already (a gateway's retry)
    interim: int = 0
    unmatched: int = 0

    def add(self, other: Applied) -> None:
        self.applied += other.applied
        self.repeated += other.repeated
        self.interim += other.interim
        self.unmatched += other.unmatched


def apply_reports(
    session: Session, installation: str, dialect: str, reports: Sequence[Report], now: datetime | None = None
) -> Applied:
    """Record each report on its delivery; keep and log the ones nothing matches."""
    now = now or utcnow()
    result = Applied()
    for report in reports:
        if report.status == ReportStatus.INTERIM:
            result.interim += 1
            continue
        where = _match(report, installation)
        if where is not None and _take(session, where, report, now):
            result.applied += 1
        elif where is not None and session.scalar(select(exists().where(*where).correlate(None))):
            result.repeated += 1
        else:
            _keep_unmatched(session, dialect, report, now)
            result.unmatched += 1
    return result


def _match(report: Report, installation: str) -> list[ColumnElement[bool]] | None:
    """The conditions that find the report's delivery, or None when it names nothing of ours."""
    if report.key:
        parsed = parse_delivery_key(report.key)
        if parsed is not None and parsed[0] == installation:
            _, occurrence, address = parsed
            return [Delivery.occurrence_id == occurrence, Delivery.address == address, Delivery.channel == CHANNEL]
    if report.provider_id:
        where = [Delivery.provider_id == report.provider_id, Delivery.channel == CHANNEL]
        return [*where, Delivery.address == report.address] if report.address else where
    return None


def _take(session: Session, where: list[ColumnElement[bool]], report: Report, now: datetime) -> bool:
    """Write the report on its delivery unless it has one; settle the state where the outcome is known."""
    settles = Delivery.state.in_(REPORTABLE)
    reason = report.reason or None if report.status == ReportStatus.UNDELIVERED else None
    statement = (
        update(Delivery)
        .where(*where, Delivery.report.is_(None))
        .values(
            report=report.status.value,
            report_reason=reason,
            reported_at=now,
            state=case((settles, report.status.value), else_=Delivery.state),
            reason=case((settles, reason), else_=Delivery.reason),
            done_at=case((and_(settles, Delivery.done_at.is_(None)), now), else_=Delivery.done_at),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def _keep_unmatched(session: Session, dialect: str, report: Report, now: datetime) -> None:
    log.warning(
        "a %s delivery report matches no delivery (key %s, message id %s); kept for the report pull",
        dialect,
        report.key or "-",
        report.provider_id or "-",
        extra={"action": "report"},
    )
    session.add(
        UnmatchedReport(
            dialect=dialect,
            key=report.key,
            provider_id=report.provider_id,
            address=report.address,
            report=report.status.value,
            reason=report.reason or None,
            raw=mask_secrets(report.raw)[:4000],
            received_at=now,
        )
    )


# ---- the report pull ----------------------------------------------------------------------------


def pull_reports(sessions: sessionmaker[Session], settings: Settings, installation: str, now: datetime) -> Applied:
    """Match kept reports again, then ask the gateway about accepted messages without a report after
    `report_pull_after_minutes` (within the last 7 days). Run by the timetable every `report_pull_seconds`."""
    total = Applied()
    with transaction(sessions) as session:
        total.add(_match_again(session, installation, now))
    try:
        adapter = configured_adapter(CHANNEL, settings.output_dir)
    except ConfigurationError as exc:
        log.warning("no report pull: %s", exc, extra={"action": "report-pull"})
        return total
    try:
        total.add(_look_up(sessions, settings, adapter, installation, now))
    finally:
        adapter.close()
    return total


def _match_again(session: Session, installation: str, now: datetime) -> Applied:
    session.execute(delete(UnmatchedReport).where(UnmatchedReport.received_at < now - KEPT_FOR))
    result = Applied()
    for kept in session.scalars(select(UnmatchedReport).order_by(UnmatchedReport.id).limit(5000)):
        report = Report(ReportStatus(kept.report), kept.key, kept.provider_id, kept.address, kept.reason or "")
        where = _match(report, installation)
        if where is None:
            continue
        if _take(session, where, report, kept.received_at):
            result.applied += 1
        elif not session.scalar(select(exists().where(*where).correlate(None))):
            continue  # still nothing of ours: kept until it is 7 days old
        session.delete(kept)
    return result


def _look_up(
    sessions: sessionmaker[Session], settings: Settings, adapter: ChannelAdapter, installation: str, now: datetime
) -> Applied:
    if not adapter.looks_up_reports:
        return Applied()
    waited = now - timedelta(minutes=settings.report_pull_after_minutes)
    query = (
        select(Delivery.provider_id, Delivery.address)
        .where(
            Delivery.channel == CHANNEL,
            Delivery.state.in_([DeliveryState.ACCEPTED, DeliveryState.UNKNOWN]),
            Delivery.report.is_(None),
            Delivery.provider_id.is_not(None),
            Delivery.done_at < waited,
            Delivery.done_at > now - KEPT_FOR,
        )
        .order_by(Delivery.done_at)
        .limit(settings.report_pull_batch)
    )
    with sessions() as session:
        due = [(str(provider_id), str(address)) for provider_id, address in session.execute(query)]
    found: list[Report] = []
    for provider_id, address in due:
        try:
            report = adapter.look_up_report(provider_id, address)
        except ChannelError as exc:
            log.warning("the report pull stopped: %s", exc.reason, extra={"action": "report-pull"})
            break
        if report is not None:
            found.append(report)
    with transaction(sessions) as session:
        return apply_reports(session, installation, adapter.name, found, now)
