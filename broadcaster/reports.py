"""What came back after "accepted": delivery reports, pushed by gateways or pulled from them (DOMAIN §11).

A report is an idempotent update of one delivery, matched by the key we sent (eSMS RequestId, the
generic gateway's id) or by the provider's message id (SpeedSMS tranId with the phone). The first final
report a callback brings (delivered / undelivered) is kept on the row; a repeat changes nothing. A callback
proves only that its caller knows the hook's token, which may leak: the report pull, asked by us, has the last
word. Its answer overrides a callback's, and where `report_pull_confirms` is on it asks about deliveries a
callback settled too, so a forged report cannot outlast the telco's real one. A report that arrives
before the send outcome is written waits on the row and the outcome takes it up (`workers.record`).
Interim statuses change nothing. A report nothing matches is logged and kept in `unmatched_reports`;
the report pull matches those again (their message id may have been recorded since), and asks the
gateway about accepted messages that got no report in time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.errors import ConfigurationError
from broadcaster.masking import mask_secrets
from broadcaster.models import REPORTABLE, Delivery, DeliveryState, UnmatchedReport, parse_delivery_key
from broadcaster.settings import Settings
from channels.base import (
    ChannelAdapter,
    ChannelError,
    LooksUpReports,
    Report,
    ReportsDelivery,
    ReportStatus,
    configured_adapter,
)

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


CALLBACK, PULL, CHECKED = "callback", "pull", "checked"  # where a delivery's report came from


def apply_reports(
    session: Session,
    installation: str,
    dialect: str,
    reports: Sequence[Report],
    now: datetime,
    source: str = CALLBACK,
    channel: str = CHANNEL,
) -> Applied:
    """Record each report on its delivery of `channel`; keep and log the ones nothing matches. A callback's
    report is taken by a delivery that has none; the pull's (`source` PULL) also replaces one a callback
    brought."""
    result = Applied()
    connection = session.connection()  # Core: a callback is one UPDATE, never an ORM load
    statements = _OVERRIDE if source == PULL else _TAKE
    for report in reports:
        if report.status == ReportStatus.INTERIM:
            result.interim += 1
            continue
        match = _match(report, installation, channel)
        if match is not None:
            by, values = match
            reason = report.reason or None if report.status == ReportStatus.UNDELIVERED else None
            taken = {**values, "new_report": report.status.value, "new_reason": reason, "now": now}
            if connection.execute(statements[by], taken).rowcount:
                result.applied += 1
                continue
            if connection.execute(_FIND[by], values).first() is not None:
                result.repeated += 1
                continue
        _keep_unmatched(session, kept_dialect(channel, dialect), report, now)
        result.unmatched += 1
    return result


def _match(report: Report, installation: str, channel: str) -> tuple[str, dict[str, object]] | None:
    """Which statement finds the report's delivery, with its values; None when it names nothing of ours."""
    if report.key:
        parsed = parse_delivery_key(report.key)
        if parsed is not None and parsed[0] == installation:
            return "key", {"occurrence": parsed[1], "to": parsed[2], "for_channel": channel}
    if report.provider_id and report.address:
        return "provider_address", {"message": report.provider_id, "to": report.address, "for_channel": channel}
    if report.provider_id:
        return "provider", {"message": report.provider_id, "for_channel": channel}
    return None


def kept_dialect(channel: str, dialect: str) -> str:
    """How an unmatched report names where it came from: the SMS gateway's dialect, or another channel's
    provider after its channel ("zalo.esms"), so that matching it again looks at that channel's deliveries."""
    return dialect if channel == CHANNEL else f"{channel}.{dialect}"


def _kept_channel(dialect: str) -> str:
    return dialect.split(".", 1)[0] if "." in dialect else CHANNEL


_WHERE = {
    "key": (Delivery.occurrence_id == bindparam("occurrence"), Delivery.address == bindparam("to")),
    "provider_address": (Delivery.provider_id == bindparam("message"), Delivery.address == bindparam("to")),
    "provider": (Delivery.provider_id == bindparam("message"),),
}
_SETTLES = Delivery.state.in_(REPORTABLE)
# Built once (building them per callback cost more than running them). The report is written only on a
# delivery that has none, so a repeat changes nothing; the state moves only where the outcome is written
# and open (accepted, unknown, failed, pending a retry); otherwise the outcome takes the report up.
_TAKE = {
    by: update(Delivery)
    .where(*where, Delivery.channel == bindparam("for_channel"), Delivery.report.is_(None))
    .values(
        report=bindparam("new_report"),
        report_reason=bindparam("new_reason"),
        reported_at=bindparam("now"),
        report_source=CALLBACK,
        state=case((_SETTLES, bindparam("new_report")), else_=Delivery.state),
        reason=case((_SETTLES, bindparam("new_reason")), else_=Delivery.reason),
        done_at=case((and_(_SETTLES, Delivery.done_at.is_(None)), bindparam("now")), else_=Delivery.done_at),
    )
    for by, where in _WHERE.items()
}
# The pull's answer: taken as a callback's is, and also over a report a callback brought (the state that report
# set, delivered or undelivered, follows the pull's).
_REPORTED = Delivery.state.in_([DeliveryState.DELIVERED, DeliveryState.UNDELIVERED])
_OVERRIDES = or_(_SETTLES, and_(_REPORTED, Delivery.report_source.in_([CALLBACK, CHECKED])))
_CONFIRMS = and_(Delivery.report == bindparam("new_report"), Delivery.report_reason.is_not(None))
_OVERRIDE = {
    by: update(Delivery)
    .where(
        *where,
        Delivery.channel == bindparam("for_channel"),
        or_(Delivery.report.is_(None), Delivery.report_source.in_([CALLBACK, CHECKED])),
    )
    .values(
        report=bindparam("new_report"),
        # Where the pull confirms a callback's report, the callback's reason (it names the telco) is kept.
        report_reason=case((_CONFIRMS, Delivery.report_reason), else_=bindparam("new_reason")),
        reported_at=bindparam("now"),
        report_source=PULL,
        state=case((_OVERRIDES, bindparam("new_report")), else_=Delivery.state),
        reason=case((and_(_OVERRIDES, ~_CONFIRMS), bindparam("new_reason")), else_=Delivery.reason),
        done_at=case((and_(_OVERRIDES, Delivery.done_at.is_(None)), bindparam("now")), else_=Delivery.done_at),
    )
    for by, where in _WHERE.items()
}
_FIND = {
    by: select(Delivery.id).where(*where, Delivery.channel == bindparam("for_channel")).limit(1)
    for by, where in _WHERE.items()
}


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
        adapter = configured_adapter(CHANNEL, settings.output_dir, settings.clock)
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
    kept = list(session.scalars(select(UnmatchedReport).order_by(UnmatchedReport.id).limit(5000)))
    reports = [
        Report(ReportStatus(item.report), item.key, item.provider_id, item.address, item.reason or "") for item in kept
    ]
    result = Applied()
    connection = session.connection()
    for item, report in zip(kept, reports, strict=True):
        match = _match(report, installation, _kept_channel(item.dialect))
        if match is None:
            continue  # still nothing of ours: kept until it is 7 days old
        by, values = match
        reason = report.reason or None if report.status == ReportStatus.UNDELIVERED else None
        taken = {**values, "new_report": report.status.value, "new_reason": reason, "now": item.received_at}
        if connection.execute(_TAKE[by], taken).rowcount:
            result.applied += 1
        elif connection.execute(_FIND[by], values).first() is None:
            continue
        session.delete(item)
    return result


def _look_up(
    sessions: sessionmaker[Session], settings: Settings, adapter: ChannelAdapter, installation: str, now: datetime
) -> Applied:
    asking = adapter if isinstance(adapter, LooksUpReports) and adapter.looks_up_reports else None
    if asking is None and not (isinstance(adapter, ReportsDelivery) and adapter.reports_delivery):
        return Applied()  # the gateway never reports: `accepted` is all there is to know
    with transaction(sessions) as session:
        _end_unsettled(session, settings, now)
    if asking is None:
        return Applied()
    due = _due_look_ups(sessions, settings, now)
    found: list[Report] = []
    asked: list[int] = []
    unsettled: list[dict[str, object]] = []  # asked, but no final answer: each backs off on its own
    for row in due:
        try:
            report = asking.look_up_report(row.provider_id, row.address)
        except ChannelError as exc:
            log.warning("the report pull stopped: %s", exc.reason, extra={"action": "report-pull"})
            break
        asked.append(row.id)
        if report is not None and report.status != ReportStatus.INTERIM:
            found.append(report)
            continue
        said = report.reason if report is not None else "the gateway does not know this message"
        unsettled.append({"row": row.id, "next": now + _backoff(settings, row.look_ups), "said": said[:500]})
    with transaction(sessions) as session:
        applied = apply_reports(session, installation, adapter.name, found, now, source=PULL)
        applied.interim += len(unsettled)
        # A callback's report the gateway neither confirmed nor contradicted is not asked about again.
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(asked), Delivery.report_source == CALLBACK)
            .values(report_source=CHECKED)
        )
        if unsettled:
            session.connection().execute(_ASKED_AGAIN_LATER, unsettled)
        return applied


LONGEST_WAIT = timedelta(hours=3)  # between two look-ups of one message, however often it was asked

# One statement for all the rows asked without a final answer: each gets its own next look-up, and an
# accepted row keeps what the gateway last said (the reason it ends `unknown` with, if it never settles).
_ASKED_AGAIN_LATER = (
    update(Delivery)
    .where(Delivery.id == bindparam("row"))
    .values(
        look_up_at=bindparam("next"),
        look_ups=Delivery.look_ups + 1,
        reason=case((Delivery.state == DeliveryState.ACCEPTED, bindparam("said")), else_=Delivery.reason),
    )
)


def _backoff(settings: Settings, look_ups: int) -> timedelta:
    """How long until a message asked `look_ups` times before (and again now) without a final answer is
    asked again: the pull's own period, doubling each time, at most LONGEST_WAIT."""
    seconds = settings.report_pull_seconds * 2 ** min(look_ups, 20)
    return min(timedelta(seconds=seconds), LONGEST_WAIT)


def _end_unsettled(session: Session, settings: Settings, now: datetime) -> int:
    """Accepted messages still without a final report `report_pull_valid_hours` after acceptance end
    `unknown`, with what the gateway last said (or why they could not be looked up); they are not asked
    again. A report that comes later still settles them (`apply_reports`)."""
    hours = f"{settings.report_pull_valid_hours:g}"
    unsettled = (
        Delivery.channel == CHANNEL,
        Delivery.state == DeliveryState.ACCEPTED,
        Delivery.report.is_(None),
        Delivery.done_at < now - timedelta(hours=settings.report_pull_valid_hours),
    )
    no_id = f"no delivery report came within {hours} hours, and without the gateway's message id it cannot be asked"
    asked = f"no final delivery report within {hours} hours of acceptance; the gateway last said: "
    never = f"no delivery report within {hours} hours of acceptance, and the gateway was not asked"
    reason = case(
        (Delivery.provider_id.is_(None), func.coalesce(Delivery.reason + "; ", "") + no_id),
        (Delivery.look_ups > 0, asked + func.coalesce(Delivery.reason, "nothing")),
        else_=never,
    )
    ended = session.execute(
        update(Delivery)
        .where(*unsettled)
        .values(state=DeliveryState.UNKNOWN, reason=reason, look_up_at=None)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(ended, "rowcount", 0) or 0)
    if count:
        log.info("%d accepted SMS ended unknown: no final report in time", count, extra={"action": "report-pull"})
    return count


@dataclass(frozen=True)
class _Due:
    id: int
    provider_id: str
    address: str
    look_ups: int


def _due_look_ups(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> list[_Due]:
    """The messages to ask about: accepted (or unknown) ones without a final report, each once it is due on
    its own schedule — first `report_pull_after_minutes` after acceptance, then backing off — the longest
    waiting first, so rows that never settle cannot starve newer ones; then (with `report_pull_confirms`)
    those a callback settled, of the last 7 days."""
    waited = now - timedelta(minutes=settings.report_pull_after_minutes)
    due_at = func.coalesce(Delivery.look_up_at, Delivery.done_at)
    columns = (Delivery.id, Delivery.provider_id, Delivery.address, Delivery.look_ups)
    unreported = (
        select(*columns)
        .where(
            Delivery.channel == CHANNEL,
            Delivery.provider_id.is_not(None),
            Delivery.state.in_([DeliveryState.ACCEPTED, DeliveryState.UNKNOWN]),
            Delivery.report.is_(None),
            Delivery.done_at > now - timedelta(hours=settings.report_pull_valid_hours),
            Delivery.done_at < waited,
            or_(Delivery.look_up_at.is_(None), Delivery.look_up_at <= now),
        )
        .order_by(due_at, Delivery.id)
        .limit(settings.report_pull_batch)
    )
    with sessions() as session:
        due = [_Due(int(row[0]), str(row[1]), str(row[2]), int(row[3] or 0)) for row in session.execute(unreported)]
        room = settings.report_pull_batch - len(due)
        if settings.report_pull_confirms and room > 0:
            called_back = (
                select(*columns)
                .where(
                    Delivery.channel == CHANNEL,
                    Delivery.provider_id.is_not(None),
                    Delivery.done_at > now - KEPT_FOR,
                    Delivery.report_source == CALLBACK,
                )
                .order_by(Delivery.reported_at)
                .limit(room)
            )
            due += [
                _Due(int(row[0]), str(row[1]), str(row[2]), int(row[3] or 0)) for row in session.execute(called_back)
            ]
    return due
