"""Fan-out: an occurrence becomes one outbox row per person its audience names, on both databases.

Subscribers are copied by the database itself (INSERT … SELECT), so these tests pin down what the
rows say: who is skipped and why, the locale, the area a template may mention, one row per phone
where lists overlap, and that an expansion cut off half-way is simply run again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.clock import system_now
from broadcaster.db import transaction
from broadcaster.directory.audience import audience_size, parse_selector
from broadcaster.models import Delivery, Occurrence, OccurrenceState, SubscriberList
from broadcaster.outbox import expand
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from channels.base import RecipientKind
from tests.scenario import SMS, campaign, local

# Numbers in the 2018 mobile ranges (DOMAIN §2), written as staff's spreadsheets write them.
LIST_A = """phone,area,locale,opted_out,opted_out_on
0912000001,go-dau,vi,,
0912000002,go-dau,en,,
0912000003,go-dau,vi,x,2026-01-15
0912000004,hoa-thanh,vi,,
0912000005,,vi,,
"""
LIST_B = """phone,area,locale,opted_out,opted_out_on
0912000001,hoa-thanh,en,,
0912000006,go-dau,vi,,
"""


def import_list(sessions: sessionmaker[Session], folder: Path, slug: str, text: str) -> None:
    path = folder / f"{slug}.csv"
    path.write_text(text, encoding="utf-8")
    with transaction(sessions) as session:
        directory.import_subscribers(session, path, slug, None)


@pytest.fixture
def fanned_out(shipped: sessionmaker[Session], settings: Settings, tmp_path: Path) -> sessionmaker[Session]:
    """Two overlapping lists, an SMS to both limited to Gò Dầu, its occurrence fired."""
    import_list(shipped, tmp_path, "list-a", LIST_A)
    import_list(shipped, tmp_path, "list-b", LIST_B)
    now = system_now()
    channel = {
        "to": ["list:list-a", "list:list-b"],
        "areas": ["go-dau"],
        **SMS,
        "schedule": [{"at": local(now, settings)}],
    }
    campaign(shipped, settings, {"sms": channel}, priority="emergency", sendable_since=now - timedelta(hours=1))
    with transaction(shipped) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    return shipped


def outbox(sessions: sessionmaker[Session]) -> dict[str, Delivery]:
    with sessions() as session:
        return {row.address: row for row in session.scalars(select(Delivery))}


def list_ids(sessions: sessionmaker[Session], *slugs: str) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(SubscriberList.id).where(SubscriberList.slug.in_(slugs))))


def test_every_number_the_lists_name_gets_one_row_saying_whether_it_is_sent_and_why_not(
    fanned_out: sessionmaker[Session], settings: Settings
) -> None:
    assert expand(fanned_out, settings.model_copy(update={"expand_batch": 2}), 1) == 6

    rows = outbox(fanned_out)
    assert sorted(rows) == [f"+8491200000{digit}" for digit in range(1, 7)]
    states = {address[-1]: (row.state, row.reason) for address, row in rows.items()}
    assert states == {
        "1": ("pending", None),
        "2": ("pending", None),
        "3": ("skipped", "opted out on 2026-01-15"),
        "4": ("skipped", "outside the campaign's areas"),
        "5": ("skipped", "outside the campaign's areas"),
        "6": ("pending", None),
    }
    assert all(row.done_at is not None for row in rows.values() if row.state == "skipped")
    assert all(row.done_at is None and row.attempts == 0 for row in rows.values() if row.state == "pending")


def test_a_number_on_two_lists_is_written_once_as_the_first_list_has_it(
    fanned_out: sessionmaker[Session], settings: Settings
) -> None:
    expand(fanned_out, settings, 1)

    first = outbox(fanned_out)["+84912000001"]
    assert (first.locale, first.details["area"]) == ("vi", "Huyện Gò Dầu")
    # One delivery, naming both lists, for the results' breakdown by list.
    assert sorted(first.details["lists"]) == sorted(list_ids(fanned_out, "list-a", "list-b"))


def test_rows_carry_the_subscribers_locale_and_area_for_the_templates(
    fanned_out: sessionmaker[Session], settings: Settings
) -> None:
    expand(fanned_out, settings, 1)

    rows = outbox(fanned_out)
    assert rows["+84912000002"].locale == "en"
    assert rows["+84912000006"].details == {"area": "Huyện Gò Dầu", "lists": list_ids(fanned_out, "list-b")}
    assert rows["+84912000005"].details == {"lists": list_ids(fanned_out, "list-a")}  # no area on file to name
    assert {row.channel for row in rows.values()} == {"sms"}
    assert {row.rank for row in rows.values()} == {0}  # emergency


def test_an_expansion_cut_off_half_way_is_run_again_without_doubling_anyone(
    fanned_out: sessionmaker[Session], settings: Settings
) -> None:
    expand(fanned_out, settings.model_copy(update={"expand_batch": 2}), 1)
    with transaction(fanned_out) as session:  # as if the worker died before marking it expanded
        session.execute(update(Occurrence).values(state=OccurrenceState.PENDING))
        session.execute(delete(Delivery).where(Delivery.address > "+84912000003"))

    assert expand(fanned_out, settings.model_copy(update={"expand_batch": 2}), 1) == 6
    assert len(outbox(fanned_out)) == 6


def test_the_fan_out_progress_total_is_the_number_of_rows_the_expansion_writes(
    fanned_out: sessionmaker[Session], settings: Settings
) -> None:
    selectors = [parse_selector("list:list-a"), parse_selector("list:list-b")]
    with fanned_out() as session:
        total = audience_size(session, RecipientKind.SUBSCRIBER, selectors, settings.today())

    assert total == expand(fanned_out, settings, 1) == 6
