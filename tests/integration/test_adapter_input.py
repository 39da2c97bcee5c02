"""What an adapter is given and what it is asked: typed facts and bulletins built by the core, and the
optional capabilities asked for only of the adapters that have them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import SystemClock, system_now
from broadcaster.db import transaction
from broadcaster.models import Campaign, Delivery, DeliveryState
from broadcaster.rendering import Composer
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up
from broadcaster.workers import Worker
from channels.base import (
    AgencyFacts,
    ChannelAdapter,
    ChecksReadAloud,
    ChecksRecipients,
    ConfirmsPosts,
    KeepsFilesForRecipients,
    LooksUpReports,
    PageFacts,
    ReceivesCallbacks,
    Recipient,
    RecipientKind,
    ReportsDelivery,
    SchedulesAhead,
    StationFacts,
    SubscriberFacts,
    configured_adapter,
    facts_from_json,
    facts_to_json,
)
from channels.email import EmailChannel
from tests.scenario import campaign, local

CAPABILITIES = (
    ReportsDelivery,
    ReceivesCallbacks,
    LooksUpReports,
    ConfirmsPosts,
    SchedulesAhead,
    ChecksRecipients,
    ChecksReadAloud,
    KeepsFilesForRecipients,
)


def capabilities(adapter: ChannelAdapter) -> set[str]:
    return {capability.__name__ for capability in CAPABILITIES if isinstance(adapter, capability)}


@pytest.mark.parametrize(
    ("channel", "has"),
    [
        ("email", set()),
        ("sms", {"ReportsDelivery", "ReceivesCallbacks", "LooksUpReports"}),
        ("facebook", {"ConfirmsPosts", "SchedulesAhead", "ChecksRecipients"}),
        ("radio", {"ChecksRecipients", "ChecksReadAloud", "KeepsFilesForRecipients"}),
    ],
)
def test_each_adapter_has_the_capabilities_it_implements_and_no_others(
    channel: str, has: set[str], tmp_path: Path
) -> None:
    adapter = configured_adapter(channel, tmp_path, SystemClock())
    try:
        assert capabilities(adapter) == has
    finally:
        adapter.close()


def test_the_base_adapter_holds_only_what_every_channel_does() -> None:
    hooks = ("confirm", "schedules_ahead", "look_up_report", "check_recipient", "check_read_aloud", "parse_callback")
    for hook in hooks:
        assert not hasattr(ChannelAdapter, hook), f"{hook} is an optional capability, not on the base"


def test_scheduled_rows_of_a_channel_that_confirms_nothing_are_never_asked_about(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    """The worker asks `confirm` only of an adapter that `ConfirmsPosts`; e-mail's rows are left as they are."""
    now = system_now()
    campaign(
        shipped,
        settings,
        {"email": {"to": ["group:so-ban-nganh"], "schedule": [{"at": local(now, settings)}]}},
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(shipped) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
    worker = Worker(shipped, settings, ["email"], "w")
    assert worker.expand_one()
    with transaction(shipped) as session:
        session.execute(update(Delivery).values(state=DeliveryState.SCHEDULED, due_at=now - timedelta(minutes=5)))

    assert not isinstance(worker.adapters["email"], ConfirmsPosts)
    assert worker.confirm_scheduled("email") == 0
    with shipped() as session:
        rows = session.scalars(select(Delivery)).all()
    assert rows and {(row.state, row.look_ups or 0, row.done_at) for row in rows} == {
        (DeliveryState.SCHEDULED, 0, None)
    }


@pytest.mark.parametrize(
    "facts",
    [
        AgencyFacts(key="so-y-te", groups=("so-ban-nganh",), area="Tây Ninh", name_en="Department of Health"),
        SubscriberFacts(area="Huyện Gò Dầu", opted_out=True, opted_out_on=date(2024, 5, 1)),
        StationFacts(folder="tay-ninh/go-dau", slots={"morning": "05:30"}, locales=("vi", "km"), area="Gò Dầu"),
        PageFacts(slug="sotttt-tay-ninh", token_secret="BROADCASTER_FACEBOOK_TOKEN_TAY_NINH"),
    ],
)
def test_a_recipients_facts_come_back_from_the_delivery_row_as_they_went_in(
    facts: AgencyFacts | SubscriberFacts | StationFacts | PageFacts,
) -> None:
    assert facts_from_json(facts.kind, facts_to_json(facts)) == facts


def test_facts_a_row_holds_from_another_version_are_left_and_missing_ones_take_their_defaults() -> None:
    stored = {"folder": "go-dau", "locales": ["vi"], "retired_fact": 1}
    assert facts_from_json(RecipientKind.STATION, stored) == StationFacts(folder="go-dau", locales=("vi",))
    assert facts_from_json(RecipientKind.PAGE, None) == PageFacts()


def test_asking_a_recipient_for_facts_of_another_kind_is_an_error_not_an_empty_answer() -> None:
    agency = Recipient("vanthu@soyte.example", AgencyFacts(key="so-y-te"), "Sở Y tế")
    with pytest.raises(TypeError, match="a agency recipient has no page facts"):
        agency.page  # noqa: B018
    assert agency.slots == {}, "only stations have slot times"


def test_the_composer_gives_the_adapter_a_typed_letter_and_script(
    shipped: sessionmaker[Session], settings: Settings
) -> None:
    now = system_now()
    campaign_id = campaign(
        shipped,
        settings,
        {"email": {"to": ["group:so-ban-nganh"], "schedule": [{"at": local(now + timedelta(days=1), settings)}]}},
    )
    with shipped() as session:
        chosen = session.get_one(Campaign, campaign_id)
        composer = Composer.for_campaign(chosen, chosen.channels[0], settings)
        number, subject = chosen.number, chosen.subject
    recipient = Recipient("vanthu@soyte.example", AgencyFacts(key="so-y-te"), "Sở Y tế", "vi")
    bulletin = composer.compose("k", recipient, now, attempt=2)

    assert composer.adapter is EmailChannel
    assert (bulletin.locale, bulletin.fire_at, bulletin.attempt) == ("vi", now, 2)
    assert (bulletin.letter.number, bulletin.letter.subject) == (number, subject)
    assert bulletin.letter.sender_name.startswith("Sở Thông tin và Truyền thông")
    assert bulletin.script.reading_rate == settings.reading_rate
    again = composer.compose("k2", recipient, now)
    assert again.letter is bulletin.letter, "built once per locale and shared by every bulletin"
