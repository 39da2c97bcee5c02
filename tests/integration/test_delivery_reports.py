"""SMS delivery reports end to end (DOMAIN §11): a loopback eSMS stand-in calls the web app back with
GET reports — repeated, early, interim, for ids nobody here sent, or never — and the report pull asks it
about the rest. Every recipient ends delivered, or undelivered with the telco's reason."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import system_now
from broadcaster.counts import area_counts, counts, fold, list_counts
from broadcaster.db import transaction
from broadcaster.installation import callback_token, installation_id
from broadcaster.interventions import send_now
from broadcaster.models import (
    Area,
    Campaign,
    Delivery,
    DeliveryAreaCountChange,
    DeliveryCountChange,
    DeliveryListCountChange,
    DeliveryState,
    Occurrence,
    Subscriber,
    UnmatchedReport,
)
from broadcaster.operations.reports import receive_callbacks
from broadcaster.reports import pull_reports
from broadcaster.retention import erase_old_addresses
from broadcaster.settings import Settings
from broadcaster.web.app import create_app
from broadcaster.workers import Worker
from channels.base import Report, ReportStatus
from channels.sms_dialects.base import key_of_request
from tests.conftest import CONTENT, Cli, serving
from tests.esms_gateway import EsmsGateway, Script
from tests.helpers import free_port, wait_for
from tests.scenario import phones, urgent_sms

API_KEY, SECRET_KEY = "esms-api-key-not-for-logs", "esms-secret-not-for-logs"
NUMBERS = phones(40)


@pytest.fixture
def report_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        output_dir=tmp_path / "out",
        content_dir=CONTENT,
        data_dir=tmp_path / "data",
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        retry_max_attempts=4,
        rates={"sms": 100_000},
        report_pull_after_minutes=0,
    )


@pytest.fixture
def served(report_settings: Settings, shipped: sessionmaker[Session]) -> Iterator[str]:
    """The one web app, served by uvicorn on a loopback port: where the gateway calls back."""
    app: FastAPI = create_app(report_settings, shipped)
    with serving(app) as address:
        yield address


def use_esms(monkeypatch: pytest.MonkeyPatch, gateway: EsmsGateway) -> None:
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "esms")
    monkeypatch.setenv("BROADCASTER_SMS_URL", gateway.url)
    monkeypatch.setenv("BROADCASTER_SMS_API_KEY", API_KEY)
    monkeypatch.setenv("BROADCASTER_SMS_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("BROADCASTER_SMS_BRANDNAME", "STTTT_TN")
    monkeypatch.setenv("BROADCASTER_SMS_TIMEOUT", "2")


def send_all(sessions: sessionmaker[Session], settings: Settings) -> None:
    worker = Worker(sessions, settings, ["sms"], "test-worker")

    def nothing_waits() -> bool:
        worker.drain(timeout=5)
        with sessions() as session:
            return not session.scalar(select(func.count()).where(Delivery.state.in_(["pending", "sending"])))

    wait_for(nothing_waits, 60, "every delivery to be sent")


def states(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str | None]]:
    """national phone → (state, reason)."""
    with sessions() as session:
        rows = session.execute(select(Delivery.address, Delivery.state, Delivery.reason)).all()
    return {"0" + address[3:]: (state, reason) for address, state, reason in rows}


SCRIPTS = {
    NUMBERS[0]: Script(interim=(1, 2, 7)),
    NUMBERS[1]: Script(interim=(7,), delivered=False),
    NUMBERS[2]: Script(repeats=3),
    NUMBERS[3]: Script(repeats=2, delivered=False),
    NUMBERS[4]: Script(early=True),
    NUMBERS[5]: Script(early=True, delivered=False),
    NUMBERS[6]: Script(report=False),
    NUMBERS[7]: Script(report=False, delivered=False),
    NUMBERS[8]: Script(drop_first=True),  # recorded, unanswered; the retry hears 124: our own, so accepted
    NUMBERS[9]: Script(drop_first=True, fail_after_drop=1, delivered=False),  # its report names the RequestId
    **{number: Script(delivered=index % 5 != 0) for index, number in enumerate(NUMBERS[10:])},
}


def test_every_recipient_ends_delivered_or_undelivered_with_its_reason(
    shipped: sessionmaker[Session],
    report_settings: Settings,
    served: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Only the reports that never came are looked up here; confirming callbacks has a test of its own.
    settings = report_settings.model_copy(update={"public_url": served, "report_pull_confirms": False})
    with EsmsGateway(API_KEY, SECRET_KEY, SCRIPTS) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, settings, tmp_path, NUMBERS)
        with shipped() as session:
            installation = installation_id(session)
        callback = f"{served}/hooks/sms/{callback_token(settings, installation)}/esms"
        gateway.report_stray(callback, "ffffffff-not-ours", "", "0987654321")
        gateway.report_stray(callback, "eeeeeeee-not-ours", "0badc0ffee00-17-84912000003", "0912000003")
        send_all(shipped, settings)
        gateway.wait_for_callbacks()
        before_pull = states(shipped)
        pull_reports(shipped, settings, installation, system_now() + timedelta(seconds=1))

    after = states(shipped)
    for number, script in SCRIPTS.items():
        state, reason = after[number]
        if script.delivered:
            assert state == DeliveryState.DELIVERED, (number, script, state, reason)
        else:
            assert state == DeliveryState.UNDELIVERED, (number, script, state, reason)
            assert reason and "did not deliver it" in reason
            assert ("Viettel" in reason) == script.report  # a callback names the telco; the look-up does not
    # Reports that never came were recovered by the pull, and only those were looked up.
    assert before_pull[NUMBERS[6]][0] == before_pull[NUMBERS[7]][0] == DeliveryState.ACCEPTED
    assert gateway.ledger.look_ups == 2
    # The gateway was never given an error: every callback, stray ones included, was answered 200.
    assert set(gateway.ledger.callbacks) == {200} and gateway.ledger.callbacks_failed == 0
    with shipped() as session:
        kept = [str(found) for found in session.scalars(select(UnmatchedReport.provider_id))]
    assert sorted(kept) == ["eeeeeeee-not-ours", "ffffffff-not-ours"]
    assert "matches no delivery" in caplog.text
    assert callback_token(settings, installation) not in caplog.text


def test_an_unanswered_message_that_then_meets_only_errors_ends_unknown_not_failed(
    shipped: sessionmaker[Session],
    report_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
) -> None:
    """The eSMS stand-in records the first request and drops the connection, then answers HTTP 500 until the
    attempts run out: the message was sent, so the delivery must not say `failed` (DOMAIN §11)."""
    from broadcaster.accounts import TERMINAL
    from broadcaster.operations import monitoring, sending

    number, other = phones(2, first=100)
    scripts = {number: Script(drop_first=True, fail_after_drop=99, report=False), other: Script(taken_elsewhere=True)}
    with EsmsGateway(API_KEY, SECRET_KEY, scripts) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, report_settings, tmp_path, [number, other])
        send_all(shipped, report_settings)

    ended = states(shipped)
    assert ended[number][0] == DeliveryState.UNKNOWN
    assert "may have been delivered" in (ended[number][1] or "")
    # A 124 for a RequestId this installation never sent is someone else's message: not ours, not accepted.
    assert ended[other][0] == DeliveryState.REJECTED and "another installation" in (ended[other][1] or "")
    with shipped() as session:
        (status,) = monitoring.statuses(session, TERMINAL, report_settings)
        rows = sending.deliveries(session, TERMINAL, status.slug).rows
    sms = next(item for item in status.channels if item.channel == "sms")
    assert (sms.deliveries["unknown"], sms.deliveries["failed"]) == (1, 1)
    answers = {row.address: row.response for row in rows}
    assert answers["+84" + number[1:]] == '{"error": "internal"}'  # the provider's raw answer is kept
    assert "124" in (answers["+84" + other[1:]] or "")
    shown = cli("status").stdout.splitlines()
    header = next(line for line in shown if "occurrences" in line)
    sms_line = next(line for line in shown if "│ sms" in line)
    columns = dict(zip(_cells(header), _cells(sms_line), strict=True))
    assert (columns["unknown"], columns["failed"], columns["sent"]) == ("1", "1", "0")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.replace("┃", "│").split("│")[1:-1]]


def test_two_installations_sharing_one_account_never_send_the_same_request_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two databases (another installation, or this one built again) have the same occurrence ids and the
    same subscribers; the installation id in every key keeps eSMS from answering 124 to the second."""
    from broadcaster.db import make_engine, make_sessions, transaction, upgrade
    from broadcaster.examples import import_examples

    with EsmsGateway(API_KEY, SECRET_KEY) as gateway:
        use_esms(monkeypatch, gateway)
        for name in ("first", "rebuilt"):
            folder = tmp_path / name
            folder.mkdir()
            settings = Settings(
                database_url=f"sqlite:///{folder / 'broadcaster.db'}",
                output_dir=folder / "out",
                content_dir=CONTENT,
                data_dir=folder / "data",
                rates={"sms": 100_000},
            )
            engine = make_engine(settings.database_url)
            upgrade(engine)
            sessions = make_sessions(engine)
            with transaction(sessions) as session:
                import_examples(session)
            urgent_sms(sessions, settings, folder, NUMBERS[:5])
            send_all(sessions, settings)
            assert {state for state, _ in states(sessions).values()} == {DeliveryState.ACCEPTED}
            engine.dispose()
    assert len(gateway.ledger.by_request) == 10


def test_an_operator_gets_the_address_to_set_in_a_gateway_account(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    run = cli("channels", "report-url", "speedsms")
    assert run.exit_code == 0, run.output
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/hooks/sms/[0-9a-f]{32}/speedsms", run.stdout.strip())
    assert cli("channels", "report-url", "speedsms").stdout == run.stdout  # derived, the same every time
    wrong = cli("channels", "report-url", "file")
    assert wrong.exit_code == 1
    assert "'file' is not a gateway dialect that reports delivery (esms, speedsms, generic-json)" in wrong.stderr


def kept_and_counted(sessions: sessionmaker[Session]) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
    """The counts kept as the outbox changed, and the outbox counted row by row."""
    with sessions() as session:
        grouped = select(Delivery.occurrence_id, Delivery.state, func.count()).group_by(
            Delivery.occurrence_id, Delivery.state
        )
        counted = {(occurrence, state): number for occurrence, state, number in session.execute(grouped)}
        kept = counts(session, session.scalars(select(Occurrence.id)))
    return kept, counted


def area_kept_and_counted(
    sessions: sessionmaker[Session],
) -> tuple[dict[tuple[int, str, str], int], dict[tuple[int, str, str], int]]:
    """The counts per area kept as the outbox changed, and the outbox grouped by the area on each row."""
    with sessions() as session:
        area = func.coalesce(Delivery.details["area"].as_string(), "")
        grouped = select(Delivery.occurrence_id, area, Delivery.state, func.count()).group_by(
            Delivery.occurrence_id, area, Delivery.state
        )
        counted = {(occurrence, name, state): number for occurrence, name, state, number in session.execute(grouped)}
        kept = area_counts(session, session.scalars(select(Occurrence.id)))
    return kept, counted


def list_kept_and_counted(
    sessions: sessionmaker[Session],
) -> tuple[dict[tuple[int, int, str], int], dict[tuple[int, int, str], int]]:
    """The counts per list kept as the outbox changed, and the outbox's rows counted under each list they name."""
    with sessions() as session:
        counted: Counter[tuple[int, int, str]] = Counter()
        for occurrence, details, state in session.execute(
            select(Delivery.occurrence_id, Delivery.details, Delivery.state)
        ):
            for list_id in (details or {}).get("lists", []):
                counted[(occurrence, list_id, state)] += 1
        kept = list_counts(session, session.scalars(select(Occurrence.id)))
    return kept, dict(counted)


def assert_kept_counts_hold(sessions: sessionmaker[Session], *, fold_too: bool = True) -> None:
    kept, counted = kept_and_counted(sessions)
    assert kept == counted
    area_kept, area_counted = area_kept_and_counted(sessions)
    assert area_kept == area_counted
    list_kept, list_counted = list_kept_and_counted(sessions)
    assert list_kept == list_counted
    if fold_too:
        with transaction(sessions) as session:
            fold(session)
        assert kept_and_counted(sessions) == (counted, counted)
        assert area_kept_and_counted(sessions) == (area_counted, area_counted)
        assert list_kept_and_counted(sessions) == (list_counted, list_counted)
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(DeliveryCountChange)) == 0
            assert session.scalar(select(func.count()).select_from(DeliveryAreaCountChange)) == 0
            assert session.scalar(select(func.count()).select_from(DeliveryListCountChange)) == 0


def spread_over_areas(sessions: sessionmaker[Session], numbers: list[str]) -> None:
    """A third of the numbers moved to Tân Biên and a third to no area, so the rows name three areas."""
    with transaction(sessions) as session:
        tan_bien = session.scalar(select(Area.id).where(Area.code == "tan-bien"))
        assert tan_bien is not None
        for index, number in enumerate(numbers):
            if index % 3:
                phone = "+84" + number[1:]
                moved = update(Subscriber).where(Subscriber.phone == phone)
                session.execute(moved.values(area_id=tan_bien if index % 3 == 1 else None))


def test_the_kept_counts_equal_the_outbox_after_fan_out_failures_retries_reports_folds_and_erasure(
    shipped: sessionmaker[Session],
    report_settings: Settings,
    served: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The console's monitor and dashboard, and the results by area, read counts kept by the outbox's
    triggers, never the rows: they must equal a count of the rows after every kind of change, folded or not."""
    from broadcaster.accounts import TERMINAL
    from broadcaster.campaigns import lifecycle
    from broadcaster.interventions import retry_failed

    settings = report_settings.model_copy(update={"public_url": served})
    monkeypatch.setenv("BROADCASTER_SMS_DIALECT", "esms")
    monkeypatch.setenv("BROADCASTER_SMS_URL", f"http://127.0.0.1:{free_port()}/")  # nothing listens: refused
    for name, value in (("API_KEY", API_KEY), ("SECRET_KEY", SECRET_KEY), ("BRANDNAME", "STTTT_TN")):
        monkeypatch.setenv(f"BROADCASTER_SMS_{name}", value)
    urgent_sms(shipped, settings, tmp_path, NUMBERS)
    spread_over_areas(shipped, NUMBERS)
    Worker(shipped, settings, ["sms"], "expander").expand_one()  # the fan-out alone: every row pending
    assert_kept_counts_hold(shipped, fold_too=False)
    assert len({area for _, area, _ in area_kept_and_counted(shipped)[0]}) == 3
    send_all(shipped, settings)  # refused until the attempts run out: failed
    with shipped() as session:
        assert session.scalar(select(func.count()).where(Delivery.state == DeliveryState.FAILED)) == len(NUMBERS)
    assert_kept_counts_hold(shipped)

    with EsmsGateway(API_KEY, SECRET_KEY, SCRIPTS) as gateway:
        use_esms(monkeypatch, gateway)
        with transaction(shipped) as session:
            (campaign,) = session.scalars(select(Campaign))
            assert retry_failed(session, settings, campaign, "sms", TERMINAL.login, system_now()) == len(NUMBERS)
        assert_kept_counts_hold(shipped, fold_too=False)  # changes folded and not yet, read together
        send_all(shipped, settings)
        gateway.wait_for_callbacks()
        assert_kept_counts_hold(shipped, fold_too=False)
        with shipped() as session:
            installation = installation_id(session)
        pull_reports(shipped, settings, installation, system_now() + timedelta(seconds=1))
    assert_kept_counts_hold(shipped)
    kept, _ = kept_and_counted(shipped)
    assert {state for _, state in kept} == {DeliveryState.DELIVERED, DeliveryState.UNDELIVERED}

    # A second fan-out, cancelled before it sends: its rows are skipped.
    with transaction(shipped) as session:
        (campaign,) = session.scalars(select(Campaign))
        send_now(session, settings, campaign, "sms", TERMINAL.login, system_now())
    Worker(shipped, settings, ["sms"], "expander").expand_one()
    with transaction(shipped) as session:
        (campaign,) = session.scalars(select(Campaign))
        lifecycle.apply(session, campaign, "cancel", TERMINAL.login, "a test of the counts", settings=settings)
    assert_kept_counts_hold(shipped)
    kept, _ = kept_and_counted(shipped)
    assert sorted(number for (_, state), number in kept.items() if state == DeliveryState.SKIPPED) == [len(NUMBERS)]

    # Retention erases the details, area included: the rows then name no area, and are counted so.
    with transaction(shipped) as session:
        assert erase_old_addresses(session, system_now() + timedelta(days=2), 1).deliveries == 2 * len(NUMBERS)
    assert_kept_counts_hold(shipped)
    assert {area for _, area, _ in area_kept_and_counted(shipped)[0]} == {""}


def test_a_forged_callback_does_not_outlast_the_gateways_own_answer(
    shipped: sessionmaker[Session],
    report_settings: Settings,
    served: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone with the hook's token reports 'delivered' for a message the telco could not deliver: the report
    pull, asked by us, confirms what callbacks said and its answer wins."""
    numbers = phones(3, first=500)
    scripts = {
        numbers[0]: Script(report=False, delivered=False),  # the telco failed it; its report never came
        numbers[1]: Script(delivered=True),  # a real callback, which the gateway confirms
        numbers[2]: Script(report=False, delivered=True),
    }
    settings = report_settings.model_copy(update={"public_url": served})
    with EsmsGateway(API_KEY, SECRET_KEY, scripts) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, settings, tmp_path, numbers)
        with shipped() as session:
            installation = installation_id(session)
        callback = f"{served}/hooks/sms/{callback_token(settings, installation)}/esms"
        send_all(shipped, settings)
        gateway.wait_for_callbacks()
        failed = next(sent for sent in gateway.ledger.sent.values() if sent.phone.endswith(numbers[0][1:]))
        gateway.report_stray(callback, failed.sms_id, failed.request_id, failed.phone)  # forged: "delivered"
        gateway.wait_for_callbacks()
        forged = states(shipped)[numbers[0]]
        pull_reports(shipped, settings, installation, system_now() + timedelta(seconds=1))
        looked_up = gateway.ledger.look_ups
    assert forged[0] == DeliveryState.DELIVERED  # what the forged callback made it
    after = states(shipped)
    assert after[numbers[0]][0] == DeliveryState.UNDELIVERED and "did not deliver it" in str(after[numbers[0]][1])
    assert after[numbers[1]][0] == DeliveryState.DELIVERED and after[numbers[2]][0] == DeliveryState.DELIVERED
    assert looked_up == 3  # the two callbacks confirmed, the silent one recovered
    with shipped() as session:
        sources = set(session.scalars(select(Delivery.report_source)))
    assert sources == {"pull"}


def _accepted_earlier(sessions: sessionmaker[Session], numbers: list[str], at: datetime) -> None:
    """Say these numbers' messages were accepted at `at` (the test's history: older and newer sends)."""
    addresses = ["+84" + number[1:] for number in numbers]
    with transaction(sessions) as session:
        session.execute(update(Delivery).where(Delivery.address.in_(addresses)).values(done_at=at))


def test_rows_that_never_settle_do_not_starve_newer_ones_and_end_unknown_after_the_limit(
    shipped: sessionmaker[Session], report_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """285 messages eSMS keeps "waiting to send" (SendStatus 2) for good, and 300 newer ones it delivered with
    no callback: with 100 look-ups a pull, every message is asked within ceil(585 / 100) pulls, the newer
    ones settle, and the stuck ones are asked again only as they back off, then end `unknown` at the limit."""
    stuck, newer = phones(285, first=1000), phones(300, first=2000)
    scripts = {number: Script(settles=False, report=False) for number in stuck}
    scripts |= {number: Script(report=False) for number in newer}
    settings = report_settings.model_copy(
        update={
            "report_pull_batch": 100,
            "report_pull_confirms": False,
            "report_pull_after_minutes": 30,
            "report_pull_seconds": 300,
            "report_pull_valid_hours": 48,
        }
    )
    with EsmsGateway(API_KEY, SECRET_KEY, scripts) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, settings, tmp_path, stuck + newer)
        send_all(shipped, settings)
        with shipped() as session:
            installation = installation_id(session)
        start = system_now()
        _accepted_earlier(shipped, stuck, start - timedelta(hours=2))
        _accepted_earlier(shipped, newer, start - timedelta(minutes=40))

        per_pull = []
        for cycle in range(6):  # ceil(585 / 100)
            before = gateway.ledger.look_ups
            pull_reports(shipped, settings, installation, start + timedelta(seconds=300 * cycle))
            per_pull.append(gateway.ledger.look_ups - before)
        asked = dict(gateway.ledger.asked)
        sent = {item.phone: sms_id for sms_id, item in gateway.ledger.sent.items()}
        after_six = states(shipped)

        late = start + timedelta(hours=49)
        pull_reports(shipped, settings, installation, late)
        before = gateway.ledger.look_ups
        pull_reports(shipped, settings, installation, late + timedelta(seconds=300))
        asked_after_the_limit = gateway.ledger.look_ups - before

    assert all(count <= 100 for count in per_pull), per_pull
    assert all(asked.get(sent[number], 0) >= 1 for number in stuck + newer), "a message was never asked"
    assert {after_six[number][0] for number in newer} == {DeliveryState.DELIVERED}
    # The stuck ones were asked again as they backed off (300 s, then 600 s…), never every pull.
    assert max(asked[sent[number]] for number in stuck) <= 3
    assert {after_six[number] for number in stuck} == {(DeliveryState.ACCEPTED, "waiting to send")}
    ended = states(shipped)
    assert {ended[number][0] for number in stuck} == {DeliveryState.UNKNOWN}
    reason = ended[stuck[0]][1] or ""
    assert "no final delivery report within 48 hours" in reason and "waiting to send" in reason, reason
    assert {ended[number][0] for number in newer} == {DeliveryState.DELIVERED}
    assert asked_after_the_limit == 0  # an ended message is not asked again


def test_accepted_through_124_without_an_smsid_ends_unknown_after_the_limit(
    shipped: sessionmaker[Session], report_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request is recorded and dropped; the retry hears 124 (our own RequestId) with no SMSID.
    eSMS documents a look-up by SMSID only (GetSendStatus?RefId=), none by RequestId, so such a message
    cannot be asked about: without a callback it ends `unknown` at the limit, never `accepted` for good."""
    (number,) = phones(1, first=3000)
    settings = report_settings.model_copy(update={"report_pull_confirms": False, "report_pull_valid_hours": 48})
    with EsmsGateway(API_KEY, SECRET_KEY, {number: Script(drop_first=True, report=False)}) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, settings, tmp_path, [number])
        send_all(shipped, settings)
        with shipped() as session:
            installation = installation_id(session)
        accepted = states(shipped)[number]
        start = system_now()
        pull_reports(shipped, settings, installation, start + timedelta(hours=1))
        within = states(shipped)[number]
        pull_reports(shipped, settings, installation, start + timedelta(hours=49))
        asked = gateway.ledger.look_ups

    assert accepted[0] == DeliveryState.ACCEPTED and "124" in (accepted[1] or "")
    assert within[0] == DeliveryState.ACCEPTED
    state, reason = states(shipped)[number]
    assert state == DeliveryState.UNKNOWN
    assert "124" in (reason or "") and "without the gateway's message id it cannot be asked" in (reason or "")
    assert asked == 0


def test_callbacks_written_together_each_learn_what_their_reports_became(
    shipped: sessionmaker[Session], report_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook writes every callback waiting at once in one transaction (a few statements for the lot): a
    report repeated in a later callback of the same batch is a repeat, and each callback's answer counts only
    its own reports."""
    numbers = phones(4, first=700)
    with EsmsGateway(API_KEY, SECRET_KEY, {number: Script(report=False) for number in numbers}) as gateway:
        use_esms(monkeypatch, gateway)
        urgent_sms(shipped, report_settings, tmp_path, numbers)
        send_all(shipped, report_settings)
        sent = {item.phone: item for item in gateway.ledger.sent.values()}
    with shipped() as session:
        installation = installation_id(session)
    first, second, third, fourth = (sent[number] for number in numbers)
    by_key = Report(ReportStatus.DELIVERED, key=key_of_request(first.request_id))
    by_id = Report(
        ReportStatus.UNDELIVERED, provider_id=second.sms_id, address="+84" + numbers[1][1:], reason="Viettel"
    )
    callbacks: list[tuple[str, list[Report]]] = [
        ("esms", [by_key, by_id]),
        ("esms", [by_key, Report(ReportStatus.DELIVERED, provider_id="not-ours-1")]),
        ("esms", [Report(ReportStatus.INTERIM, key=key_of_request(third.request_id))]),
        ("speedsms", [Report(ReportStatus.DELIVERED, provider_id=fourth.sms_id)]),
    ]
    with transaction(shipped) as session:
        results = receive_callbacks(session, installation, callbacks, system_now())

    assert [(found.applied, found.repeated, found.interim, found.unmatched) for found in results] == [
        (2, 0, 0, 0),
        (0, 1, 0, 1),
        (0, 0, 1, 0),
        (1, 0, 0, 0),
    ]
    after = states(shipped)
    assert after[numbers[0]] == (DeliveryState.DELIVERED, None)
    assert after[numbers[1]][0] == DeliveryState.UNDELIVERED and "Viettel" in str(after[numbers[1]][1])
    assert after[numbers[2]][0] == DeliveryState.ACCEPTED
    assert after[numbers[3]][0] == DeliveryState.DELIVERED
    with shipped() as session:
        kept = list(session.execute(select(UnmatchedReport.dialect, UnmatchedReport.provider_id)))
    assert kept == [("esms", "not-ours-1")]
