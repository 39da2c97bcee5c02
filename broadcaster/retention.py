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
from datetime import datetime, timedelta

from sqlalchemy import String, cast, literal, select, update
from sqlalchemy.orm import Session

from broadcaster.campaigns import lifecycle
from broadcaster.models import Delivery, DeliveryAttempt, UnmatchedReport

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
        lifecycle.record(
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
