"""A campaign on all four channels with known outcomes, for the results tests: its fires and deliveries are
written as the outbox would have left them (yesterday's and today's), with the stations' airing reports.

The numbers, which the tests check in every form of the report:

- e-mail, yesterday: 5 letters, 4 sent, 1 bounced (the SMTP server refused it)
- SMS, yesterday: 10 messages, 6 delivered, 2 undelivered, 1 unknown, 1 awaiting its report;
  today: 4 messages, 3 delivered, 1 failed; one more fire was missed; a test send is never counted
- Facebook: yesterday 1 post published, today 1 refused
- radio: Gò Dầu and Tân Biên, morning slot yesterday and today: Gò Dầu aired yesterday (after first
  saying it had not) and did not air today (power cut); Tân Biên never confirmed (yesterday's overdue)
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import (
    AiringReport,
    Delivery,
    DeliveryState,
    Occurrence,
    OccurrenceState,
    Station,
    Subscriber,
    SubscriberList,
)
from broadcaster.outbox import TEST_SEND
from broadcaster.settings import Settings
from tests.scenario import SMS, campaign, phones, subscriber_list

SLUG = "bao-cao-ket-qua"
LIST = "bao-cao"
GO_DAU = "Huyện Gò Dầu"  # ended on 30/06/2025; five communes and wards took over from it
THANH_DUC = "Xã Thạnh Đức"
OLD_PROVINCE = "Tỉnh Tây Ninh"  # ended without successors named for it
NEW_PROVINCE = "Tỉnh Tây Ninh (từ 01/7/2025)"
# A Wednesday after the 2025 reform, at 10:00 local time.
MOMENT = (2026, 3, 4, 10, 0)


def moment(settings: Settings) -> datetime:
    return datetime(*MOMENT, tzinfo=settings.zone)


def results_campaign(sessions: sessionmaker[Session], settings: Settings, folder: Path) -> int:
    """The campaign and its outcomes; returns its id."""
    subscriber_list(sessions, folder, LIST, phones(10))
    with sessions() as session:  # as the directory keeps them, which is how the outbox addresses them
        query = select(Subscriber.phone).join(SubscriberList).where(SubscriberList.slug == LIST)
        numbers = list(session.scalars(query.order_by(Subscriber.id)))
    now = settings.clock.now()
    later = [{"at": (now + timedelta(days=5)).astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")}]
    channels: dict[str, dict[str, Any]] = {
        "email": {"to": ["group:so-ban-nganh"], "schedule": later},
        "sms": {"to": [f"list:{LIST}"], **SMS, "schedule": later},
        "facebook": {"to": ["page:sotttt-tay-ninh"], "schedule": later},
        "radio": {"to": ["station:dtt-go-dau", "station:dtt-tan-bien"], "schedule": later},
    }
    campaign_id = campaign(sessions, settings, channels, slug=SLUG, sendable_since=now - timedelta(days=2))
    yesterday = datetime.combine(settings.today() - timedelta(days=1), time(9), settings.zone)
    today = datetime.combine(settings.today(), time(8), settings.zone)
    with transaction(sessions) as session:
        fires = _Fires(session, campaign_id)
        email = fires.fire("email", yesterday)
        fires.deliver(email, [(f"so{index}@tayninh.gov.vn", DeliveryState.SENT, OLD_PROVINCE) for index in range(4)])
        fires.deliver(email, [("sai@tayninh.gov.vn", DeliveryState.FAILED, OLD_PROVINCE)])
        sms = fires.fire("sms", yesterday)
        outcomes = [DeliveryState.DELIVERED] * 6 + [DeliveryState.UNDELIVERED] * 2
        outcomes += [DeliveryState.UNKNOWN, DeliveryState.ACCEPTED]
        areas = [GO_DAU] * 7 + [THANH_DUC] * 3
        fires.deliver(sms, list(zip(numbers, outcomes, areas, strict=True)))
        sms_today = fires.fire("sms", today)
        fires.deliver(sms_today, [(number, DeliveryState.DELIVERED, GO_DAU) for number in numbers[:3]])
        fires.deliver(sms_today, [(numbers[3], DeliveryState.FAILED, GO_DAU)])
        fires.fire("sms", today + timedelta(hours=1), OccurrenceState.MISSED)
        test_send = fires.fire("sms", today, rule_key=f"{TEST_SEND}1")
        fires.deliver(test_send, [("0912999999", DeliveryState.DELIVERED, GO_DAU)])
        fires.deliver(fires.fire("facebook", yesterday), [("1234567890", DeliveryState.SENT, None)])
        fires.deliver(fires.fire("facebook", today), [("1234567890", DeliveryState.REJECTED, None)])
        stations = [("dtt-go-dau", DeliveryState.SENT, GO_DAU), ("dtt-tan-bien", DeliveryState.SENT, "Huyện Tân Biên")]
        radio = fires.deliver(fires.fire("radio", yesterday.replace(hour=5, minute=30), slot="morning"), stations)
        radio_today = fires.deliver(fires.fire("radio", today.replace(hour=5, minute=30), slot="morning"), stations)
        go_dau = session.scalar(select(Station.id).where(Station.slug == "dtt-go-dau"))
        assert go_dau is not None
        reports = [(radio[0], False, "equipment"), (radio[0], True, None), (radio_today[0], False, "power")]
        for delivery_id, aired, reason in reports:
            session.add(AiringReport(delivery_id=delivery_id, station_id=go_dau, aired=aired, reason=reason, by="test"))
            session.flush()  # in this order: the latest report is what counts
    return campaign_id


class _Fires:
    def __init__(self, session: Session, campaign_id: int) -> None:
        self.session = session
        self.campaign_id = campaign_id

    def fire(
        self,
        channel: str,
        at: datetime,
        state: str = OccurrenceState.EXPANDED,
        *,
        rule_key: str = "0",
        slot: str | None = None,
    ) -> Occurrence:
        occurrence = Occurrence(
            campaign_id=self.campaign_id, channel=channel, rule_key=rule_key, slot=slot, fire_at=at, state=state
        )
        self.session.add(occurrence)
        self.session.flush()
        return occurrence

    def deliver(self, occurrence: Occurrence, rows: list[tuple[str, str, str | None]]) -> list[int]:
        # An SMS names the lists its number is on, as the fan-out writes them.
        on_lists: dict[str, list[int]] = {}
        if occurrence.channel.startswith("sms"):
            entries = select(Subscriber.phone, Subscriber.list_id).where(
                Subscriber.phone.in_([address for address, _, _ in rows])
            )
            for phone, list_id in self.session.execute(entries):
                on_lists.setdefault(phone, []).append(list_id)
        deliveries = [
            Delivery(
                occurrence_id=occurrence.id,
                channel=occurrence.channel,
                rank=1,
                address=address,
                state=state,
                due_at=occurrence.fire_at,
                details=({"area": area} if area else {}) | ({"lists": on_lists[address]} if address in on_lists else {})
                or None,
                done_at=occurrence.fire_at,
            )
            for address, state, area in rows
        ]
        self.session.add_all(deliveries)
        self.session.flush()
        return [delivery.id for delivery in deliveries]
