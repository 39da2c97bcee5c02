"""The station API: a station account lists its own slots and says each aired (at what time) or not aired
with a reason, corrects it with the history kept, and is refused with a sentence where it must be — the
same operation, refusals and audit entries as the station portal."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import transaction
from broadcaster.models import AuditEntry, Campaign, Delivery, Occurrence
from broadcaster.settings import Settings
from tests.radio_slots import aired_slots
from tests.web.conftest import Person, person

PROBLEM = "application/problem+json"


@pytest.fixture
def slots(sessions: sessionmaker[Session], web_settings: Settings) -> dict[str, list[int]]:
    from broadcaster.examples import import_examples

    with transaction(sessions) as session:
        import_examples(session)
    return aired_slots(sessions, web_settings)


@pytest.fixture
def go_dau(sessions: sessionmaker[Session], slots: dict[str, list[int]]) -> Person:
    """The account of the Gò Dầu station: role station, tied to that station alone."""
    return person(sessions, "dai-go-dau", "station", stations=["dtt-go-dau"])


def report(client: TestClient, who: Person, slot: int, **body: object) -> dict[str, object]:
    answer = client.post(f"/api/v1/station/slots/{slot}/report", headers=who.headers, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def refusal(client: TestClient, who: Person, slot: int, status: int, **body: object) -> str:
    answer = client.post(f"/api/v1/station/slots/{slot}/report", headers=who.headers, json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    detail: str = answer.json()["detail"]
    return detail


def test_a_station_account_lists_only_its_own_slots(
    client: TestClient, go_dau: Person, slots: dict[str, list[int]]
) -> None:
    answer = client.get("/api/v1/station/slots", headers=go_dau.headers)
    assert answer.status_code == 200, answer.text
    listed = answer.json()
    assert [slot["id"] for slot in listed] == slots["dtt-go-dau"]
    assert {slot["station"] for slot in listed} == {"dtt-go-dau"}
    assert all(slot["state"] == "unconfirmed" and slot["sent"] and slot["history"] == [] for slot in listed)
    other = client.get("/api/v1/station/slots", headers=go_dau.headers, params={"station": "dtt-tan-bien"})
    assert other.status_code == 404
    assert other.json()["detail"] == "'dai-go-dau' does not speak for a station 'dtt-tan-bien'"


def test_aired_at_a_time_and_not_aired_with_a_reason_are_recorded_and_counted_for_staff(
    client: TestClient,
    sessions: sessionmaker[Session],
    web_settings: Settings,
    go_dau: Person,
    slots: dict[str, list[int]],
) -> None:
    first, second = slots["dtt-go-dau"]
    with sessions() as session:
        query = select(Occurrence.fire_at).join(Delivery, Delivery.occurrence_id == Occurrence.id)
        fire_at = session.scalar(query.where(Delivery.id == first))
    assert fire_at is not None
    at = (fire_at + timedelta(minutes=2)).astimezone(web_settings.zone)
    aired = report(client, go_dau, first, aired=True, aired_at=f"{at:%H:%M}")
    assert aired["state"] == "aired"
    said = datetime.fromisoformat(aired["report"]["aired_at"])  # type: ignore[index]
    assert said == at.replace(second=0, microsecond=0)
    not_aired = report(client, go_dau, second, aired=False, reason="power", note="mất điện cả xã")
    assert not_aired["state"] == "not_aired" and not_aired["report"]["reason"] == "power"  # type: ignore[index]

    staff = person(sessions, "minh", "operator")
    counts = client.get("/api/v1/radio/airings", headers=staff.headers).json()
    go = next(count for count in counts if count["station"] == "dtt-go-dau")
    assert (go["aired"], go["not_aired"], go["unconfirmed"]) == (1, 1, 0)
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.actor == "dai-go-dau")).all()
    assert [entry.action for entry in entries] == ["aired", "not-aired"]  # the portal's actions, by the account
    assert all(entry.account_id is not None and entry.client for entry in entries)
    assert entries[1].details["reason"] == "power" and entries[1].details["station"] == "dtt-go-dau"


def test_a_correction_is_a_new_report_and_the_history_is_kept(
    client: TestClient, go_dau: Person, slots: dict[str, list[int]]
) -> None:
    first = slots["dtt-go-dau"][0]
    report(client, go_dau, first, aired=False, reason="equipment")
    corrected = report(client, go_dau, first, aired=True)
    assert corrected["state"] == "aired"
    history = corrected["history"]
    assert isinstance(history, list) and [item["aired"] for item in history] == [False, True]
    assert history[0]["reason"] == "equipment" and history[1]["by"] == "dai-go-dau"


def test_another_stations_slot_is_refused_as_if_it_did_not_exist(
    client: TestClient, go_dau: Person, slots: dict[str, list[int]]
) -> None:
    other = slots["dtt-tan-bien"][0]
    detail = refusal(client, go_dau, other, 404, aired=True)
    assert detail == f"slot {other} is not one of the slots of station 'dtt-go-dau'"


def test_a_slot_whose_time_has_not_come_is_refused(
    client: TestClient,
    sessions: sessionmaker[Session],
    web_settings: Settings,
    go_dau: Person,
    slots: dict[str, list[int]],
) -> None:
    first = slots["dtt-go-dau"][0]
    with transaction(sessions) as session:  # the slot moved to tomorrow: its script is out, its time is not
        delivery = session.get(Delivery, first)
        assert delivery is not None
        occurrence = session.get(Occurrence, delivery.occurrence_id)
        assert occurrence is not None
        occurrence.fire_at = web_settings.clock.now() + timedelta(days=1)
    detail = refusal(client, go_dau, first, 409, aired=True)
    assert "has not come yet: confirm it once it has been broadcast" in detail


def test_a_slot_outside_the_campaigns_validity_is_refused(
    client: TestClient,
    sessions: sessionmaker[Session],
    web_settings: Settings,
    go_dau: Person,
    slots: dict[str, list[int]],
) -> None:
    with transaction(sessions) as session:
        edited = session.scalars(select(Campaign)).one()
        edited.valid_from = edited.valid_until = web_settings.today() + timedelta(days=3)
    detail = refusal(client, go_dau, slots["dtt-go-dau"][0], 409, aired=True)
    assert "is outside the validity of campaign 'phat-thanh'" in detail


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ({"aired": False}, "say why the script did not air"),
        ({"aired": False, "reason": "other"}, "with the reason 'other', write what happened"),
    ],
)
def test_not_aired_needs_its_reason(
    client: TestClient, go_dau: Person, slots: dict[str, list[int]], body: dict[str, object], sentence: str
) -> None:
    assert sentence in refusal(client, go_dau, slots["dtt-go-dau"][0], 409, **body)


def test_staff_without_the_station_permission_are_refused_naming_it(
    client: TestClient, sessions: sessionmaker[Session], slots: dict[str, list[int]]
) -> None:
    drafter = person(sessions, "lan", "drafter")
    answer = client.get("/api/v1/station/slots", headers=drafter.headers)
    assert answer.status_code == 403 and "station:confirm" in answer.json()["detail"]
