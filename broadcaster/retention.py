"""Personal data kept no longer than needed (Decree 13/2023/NĐ-CP): after `retention_days`, the phone numbers
and e-mail addresses in finished deliveries, their attempts and unmatched delivery reports are erased.

What the department must still show stays: each delivery's channel, state, times, reason and report, the counts
and the audit log. An erased delivery's address becomes `erased:<its id>` (the outbox keeps one row per
occurrence and address, so each erased row keeps an address of its own), its name and per-recipient details
go, and so do the providers' raw answers, which may quote the number. Run daily by the timetable; each run
that erases something is audited with its counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, delete, literal, select, update
from sqlalchemy.orm import Session

from broadcaster import audit
from broadcaster.models import (
    Area,
    Campaign,
    Delivery,
    DeliveryAttempt,
    Occurrence,
    Subscriber,
    SubscriberList,
    UnmatchedReport,
)

ERASED = "erased:"
BATCH = 5000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    deliveries: int
    attempts: int
    reports: int

    @property
    def anything(self) -> bool:
        return bool(self.deliveries or self.attempts or self.reports)


def erase_old_addresses(session: Session, now: datetime, days: int, actor: str = "retention") -> Erased:
    """Erase the addresses of deliveries finished more than `days` ago (and what quotes them). Audited."""
    before = now - timedelta(days=days)
    old = select(Delivery.id).where(
        Delivery.done_at.is_not(None), Delivery.done_at < before, Delivery.address.not_like(f"{ERASED}%")
    )
    ids = list(session.scalars(old))
    deliveries = attempts = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        erased_address = literal(ERASED) + cast(Delivery.id, String)
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chunk))
            .values(address=erased_address, name=None, details=None, response=None)
            .execution_options(synchronize_session=False)
        )
        deliveries += int(getattr(result, "rowcount", 0) or 0)
        result = session.execute(
            update(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(chunk), DeliveryAttempt.response.is_not(None))
            .values(response=None)
            .execution_options(synchronize_session=False)
        )
        attempts += int(getattr(result, "rowcount", 0) or 0)
    result = session.execute(
        update(UnmatchedReport)
        .where(UnmatchedReport.received_at < before, UnmatchedReport.address.is_not(None))
        .values(address=None, raw="")
        .execution_options(synchronize_session=False)
    )
    erased = Erased(deliveries, attempts, int(getattr(result, "rowcount", 0) or 0))
    if erased.anything:
        audit.record(
            session,
            None,
            actor,
            "retention-erase",
            older_than_days=days,
            deliveries=erased.deliveries,
            attempts=erased.attempts,
            reports=erased.reports,
        )
        log.info("retention: erased the addresses of %d deliveries", erased.deliveries, extra={"action": "retention"})
    return erased


# ---- one subscriber's data, on their request: exported, then erased ---------------------------------------------


def shown_phone(phone: str) -> str:
    """A number as the audit log keeps it: enough to tell requests apart, not enough to call (+8491*****78)."""
    return phone[:5] + "*" * max(0, len(phone) - 7) + phone[-2:]


def subscriber_data(session: Session, phone: str) -> dict[str, Any]:
    """Everything kept about one number: its entries in the subscriber lists and the deliveries to it."""
    entries = session.execute(
        select(SubscriberList.slug, Subscriber.name, Area.code, Subscriber.locale, Subscriber.opted_out_on)
        .join(SubscriberList, SubscriberList.id == Subscriber.list_id)
        .outerjoin(Area, Area.id == Subscriber.area_id)
        .where(Subscriber.phone == phone)
        .order_by(SubscriberList.slug)
    ).all()
    sent = session.execute(
        select(Campaign.slug, Delivery.channel, Delivery.state, Delivery.due_at, Delivery.done_at, Delivery.report)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .join(Campaign, Campaign.id == Occurrence.campaign_id)
        .where(Delivery.address == phone)
        .order_by(Delivery.id)
    ).all()
    return {
        "phone": phone,
        "lists": [
            {"list": slug, "name": name, "area": area, "locale": locale, "opted_out_on": _day(opted_out_on)}
            for slug, name, area, locale, opted_out_on in entries
        ],
        "deliveries": [
            {
                "campaign": slug,
                "channel": channel,
                "state": state,
                "due_at": _day(due_at),
                "done_at": _day(done_at),
                "report": report,
            }
            for slug, channel, state, due_at, done_at, report in sent
        ],
    }


def _day(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def erase_subscriber(session: Session, phone: str, actor: str) -> Erased:
    """Remove the number from every list and erase it from every delivery to it (outcomes kept). Audited
    with the number shown in part only. An opt-out is lost with it: the person asked for everything to go."""
    removed = session.execute(delete(Subscriber).where(Subscriber.phone == phone))
    ids = list(session.scalars(select(Delivery.id).where(Delivery.address == phone)))
    erased_address = literal(ERASED) + cast(Delivery.id, String)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(chunk))
            .values(address=erased_address, name=None, details=None, response=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(chunk))
            .values(response=None)
            .execution_options(synchronize_session=False)
        )
    reports = session.execute(
        update(UnmatchedReport).where(UnmatchedReport.address == phone).values(address=None, raw="")
    )
    audit.record(
        session,
        None,
        actor,
        "subscriber-erase",
        phone=shown_phone(phone),
        list_entries=int(getattr(removed, "rowcount", 0) or 0),
        deliveries=len(ids),
    )
    return Erased(len(ids), 0, int(getattr(reports, "rowcount", 0) or 0))
