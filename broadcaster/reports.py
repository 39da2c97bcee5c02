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

import enum
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.schema import CreateTable

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


class Verdict(enum.Enum):
    """What became of one report."""

    APPLIED = "applied"  # its delivery took it
    REPEATED = "repeated"  # its delivery had a report already (a gateway's retry)
    INTERIM = "interim"  # not final: changes nothing
    UNMATCHED = "unmatched"  # names no delivery of ours: kept for the report pull


@dataclass
class Applied:
    applied: int = 0  # a delivery took the report
    repeated: int = 0  # the delivery had this report already (a gateway's retry)
    interim: int = 0
    unmatched: int = 0

    @classmethod
    def tally(cls, verdicts: Iterable[Verdict]) -> Applied:
        counted = Counter(verdicts)
        return cls(
            counted[Verdict.APPLIED], counted[Verdict.REPEATED], counted[Verdict.INTERIM], counted[Verdict.UNMATCHED]
        )

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
) -> Applied:
    """Record each report on its delivery; keep and log the ones nothing matches. A callback's report is taken
    by a delivery that has none; the pull's (`source` PULL) also replaces one a callback brought."""
    return Applied.tally(judge_reports(session, installation, dialect, reports, now, source))


def judge_reports(
    session: Session,
    installation: str,
    dialect: str,
    reports: Sequence[Report],
    now: datetime,
    source: str = CALLBACK,
) -> list[Verdict]:
    """`apply_reports`, saying what became of each report, in order. However many reports, it costs a few
    statements (see `_write`): a gateway reports thousands of messages a second, and on PostgreSQL each
    statement is a round trip."""
    verdicts: list[Verdict] = [Verdict.UNMATCHED] * len(reports)
    matched: dict[str, dict[tuple[object, ...], list[int]]] = {}  # way of matching → delivery → its reports
    for index, report in enumerate(reports):
        if report.status == ReportStatus.INTERIM:
            verdicts[index] = Verdict.INTERIM
            continue
        match = _match(report, installation)
        if match is not None:
            matched.setdefault(match[0], {}).setdefault(match[1], []).append(index)
    # One report per delivery goes to the statements: a callback's first (as if the copies came one after the
    # other, the later ones repeats), the pull's last (its latest answer).
    chosen = {
        by: {found: indexes[-1] if source == PULL else indexes[0] for found, indexes in deliveries.items()}
        for by, deliveries in matched.items()
    }
    rows = {by: [_Row(found, reports[index], now) for found, index in first.items()] for by, first in chosen.items()}
    took, known = _write(session.connection(), rows, source)
    for by, deliveries in matched.items():
        for found, indexes in deliveries.items():
            for index in indexes:
                if found in took[by] and index == chosen[by][found]:
                    verdicts[index] = Verdict.APPLIED
                elif found in known[by]:
                    verdicts[index] = Verdict.REPEATED
    for report, verdict in zip(reports, verdicts, strict=True):
        if verdict == Verdict.UNMATCHED:
            _keep_unmatched(session, dialect, report, now)
    return verdicts


def _match(report: Report, installation: str) -> tuple[str, tuple[object, ...]] | None:
    """How the report finds its delivery (a key of `_MATCHED_BY`) and the values it matches on; None when it
    names nothing of ours."""
    if report.key:
        parsed = parse_delivery_key(report.key)
        if parsed is not None and parsed[0] == installation:
            return "key", (parsed[1], parsed[2])
    if report.provider_id and report.address:
        return "provider_address", (report.provider_id, report.address)
    if report.provider_id:
        return "provider", (report.provider_id,)
    return None


# The delivery columns each way of matching compares, in the order `_match` gives their values.
_MATCHED_BY: dict[str, tuple[InstrumentedAttribute[Any], ...]] = {
    "key": (Delivery.occurrence_id, Delivery.address),
    "provider_address": (Delivery.provider_id, Delivery.address),
    "provider": (Delivery.provider_id,),
}

# A batch of reports on its way in: written to this connection's own temporary table with one executemany,
# joined to the deliveries by statements that are the same whatever the batch (so each is compiled once),
# then emptied. Rows give their matched values in the columns named for the way they match.
_BATCH = Table(
    "reports_in_batch",
    MetaData(),
    Column("way", String(20)),
    Column("occurrence_id", Delivery.occurrence_id.type),
    Column("address", String(320)),
    Column("provider_id", String(200)),
    Column("new_report", String(20)),
    Column("new_reason", Text),
    Column("at", Delivery.reported_at.type),
    prefixes=["TEMPORARY"],
)
_BATCH_COLUMNS = {
    by: tuple(_BATCH.c[attribute.key] for attribute in attributes) for by, attributes in _MATCHED_BY.items()
}


@dataclass(frozen=True)
class _Row:
    """One report on its way into a statement: the values its delivery is matched on, and when it came."""

    found: tuple[object, ...]
    report: Report
    at: datetime

    def values(self, by: str) -> dict[str, object]:
        reason = self.report.reason or None if self.report.status == ReportStatus.UNDELIVERED else None
        matched = {column.key: value for column, value in zip(_BATCH_COLUMNS[by], self.found, strict=True)}
        return {
            "occurrence_id": None,
            "address": None,
            "provider_id": None,
            **matched,
            "way": by,
            "new_report": self.report.status.value,
            "new_reason": reason,
            "at": self.at,
        }


def _joined(by: str) -> list[ColumnElement[bool]]:
    matches = [attribute == column for attribute, column in zip(_MATCHED_BY[by], _BATCH_COLUMNS[by], strict=True)]
    return [_BATCH.c.way == by, *matches, Delivery.channel == CHANNEL]


def _write(connection: Connection, rows: Mapping[str, Sequence[_Row]], source: str) -> tuple[_Found, _Found]:
    """Write the reports (by way of matching) on the deliveries that take them, in a few statements whatever
    their number; for each way, which deliveries took one, and which are known (took one or had one)."""
    took: _Found = {by: set() for by in rows}
    known: _Found = {by: set() for by in rows}
    everything = [row.values(by) for by, batch in rows.items() for row in batch]
    if not everything:
        return took, known
    connection.execute(_CREATE_BATCH)
    connection.execute(delete(_BATCH))
    connection.execute(insert(_BATCH), everything)
    for by, batch in rows.items():
        took[by] = {tuple(row) for row in connection.execute((_OVERRIDE if source == PULL else _TAKE)[by])}
        known[by] = set(took[by])
        if len(took[by]) < len(batch):  # some are repeats or name nothing: which is which
            known[by].update(tuple(row) for row in connection.execute(_FIND[by]))
    return took, known


_Found = dict[str, set[tuple[object, ...]]]  # way of matching → the matched values of deliveries
_CREATE_BATCH = CreateTable(_BATCH, if_not_exists=True)


# The report is written only on a delivery that has none, so a repeat changes nothing; the state moves only
# where the outcome is written and open (accepted, unknown, failed, pending a retry); otherwise the outcome
# takes the report up.
_SETTLES = Delivery.state.in_(REPORTABLE)


_TAKE = {
    by: update(Delivery)
    .where(*_joined(by), Delivery.report.is_(None))
    .values(
        report=_BATCH.c.new_report,
        report_reason=_BATCH.c.new_reason,
        reported_at=_BATCH.c.at,
        report_source=CALLBACK,
        state=case((_SETTLES, _BATCH.c.new_report), else_=Delivery.state),
        reason=case((_SETTLES, _BATCH.c.new_reason), else_=Delivery.reason),
        done_at=case((and_(_SETTLES, Delivery.done_at.is_(None)), _BATCH.c.at), else_=Delivery.done_at),
    )
    .returning(*_MATCHED_BY[by])
    for by in _MATCHED_BY
}
# The pull's answer: taken as a callback's is, and also over a report a callback brought (the state that report
# set, delivered or undelivered, follows the pull's).
_REPORTED = Delivery.state.in_([DeliveryState.DELIVERED, DeliveryState.UNDELIVERED])
_OVERRIDES = or_(_SETTLES, and_(_REPORTED, Delivery.report_source.in_([CALLBACK, CHECKED])))
_CONFIRMS = and_(Delivery.report == _BATCH.c.new_report, Delivery.report_reason.is_not(None))
_OVERRIDE = {
    by: update(Delivery)
    .where(*_joined(by), or_(Delivery.report.is_(None), Delivery.report_source.in_([CALLBACK, CHECKED])))
    .values(
        report=_BATCH.c.new_report,
        # Where the pull confirms a callback's report, the callback's reason (it names the telco) is kept.
        report_reason=case((_CONFIRMS, Delivery.report_reason), else_=_BATCH.c.new_reason),
        reported_at=_BATCH.c.at,
        report_source=PULL,
        state=case((_OVERRIDES, _BATCH.c.new_report), else_=Delivery.state),
        reason=case((and_(_OVERRIDES, ~_CONFIRMS), _BATCH.c.new_reason), else_=Delivery.reason),
        done_at=case((and_(_OVERRIDES, Delivery.done_at.is_(None)), _BATCH.c.at), else_=Delivery.done_at),
    )
    .returning(*_MATCHED_BY[by])
    for by in _MATCHED_BY
}


def _find(by: str) -> Select[Any]:
    """The deliveries a batch's reports name, whatever they hold. A lone provider id is looked for with IN (…):
    joined, SQLite's planner (without statistics) would read the whole provider-id index for each batch."""
    if by != "provider":
        return select(*_MATCHED_BY[by]).where(*_joined(by)).distinct()
    named = select(_BATCH.c.provider_id).where(_BATCH.c.way == by)
    return select(Delivery.provider_id).where(Delivery.provider_id.in_(named), Delivery.channel == CHANNEL).distinct()


_FIND = {by: _find(by) for by in _MATCHED_BY}


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
    """Kept reports whose delivery is known now are taken up (each as of when it came) and no longer kept."""
    session.execute(delete(UnmatchedReport).where(UnmatchedReport.received_at < now - KEPT_FOR))
    kept = list(session.scalars(select(UnmatchedReport).order_by(UnmatchedReport.id).limit(5000)))
    matched: dict[str, list[tuple[UnmatchedReport, tuple[object, ...]]]] = {}
    rows: dict[str, dict[tuple[object, ...], _Row]] = {}  # the first kept report of each delivery
    for item in kept:
        report = Report(ReportStatus(item.report), item.key, item.provider_id, item.address, item.reason or "")
        match = _match(report, installation)
        if match is None:
            continue  # still nothing of ours: kept until it is 7 days old
        by, found = match
        matched.setdefault(by, []).append((item, found))
        rows.setdefault(by, {}).setdefault(found, _Row(found, report, item.received_at))
    took, known = _write(session.connection(), {by: list(first.values()) for by, first in rows.items()}, CALLBACK)
    for by, items in matched.items():
        for item, found in items:
            if found in known[by]:
                session.delete(item)
    return Applied(applied=sum(len(deliveries) for deliveries in took.values()))


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
