"""`broadcaster demo`: the shipped campaigns on a timetable compressed into about a minute, through
the real pipeline (timetable → occurrences → outbox → workers → the channels' embedded defaults)."""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from rich.live import Live
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import directory, processes
from broadcaster.accounts import TERMINAL, acting_account
from broadcaster.campaigns.file import CampaignSpec, ChannelSpec, OnceRule, SlotsRule, load_campaign_file
from broadcaster.cli import common
from broadcaster.cli.common import friendly, out
from broadcaster.cli.delivery import _status_table
from broadcaster.cli.serve import serve_in_background
from broadcaster.csvfiles import open_upload
from broadcaster.db import upgrade
from broadcaster.examples import example_campaigns
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState, Station
from broadcaster.operations import campaigns as campaign_operations
from broadcaster.operations import directory as directory_operations
from broadcaster.operations.accounts import add_account
from broadcaster.operations.monitoring import statuses
from broadcaster.policy import within_window
from broadcaster.settings import Settings, get_settings, shipped_dir

DEMO_DIR = Path("var/demo")
DRAFTER, APPROVER = "demo-drafter", "demo-approver"


def _use_demo_folder() -> None:
    """The demo works in its own folder, so it never touches a real database or output folder."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    os.environ["BROADCASTER_DATABASE_URL"] = f"sqlite:///{DEMO_DIR / 'broadcaster.db'}"
    os.environ["BROADCASTER_OUTPUT_DIR"] = str(DEMO_DIR / "out")
    # Its own copy of the content: texts written in the console's composer go there, not into the program.
    shutil.copytree(shipped_dir("content"), DEMO_DIR / "content")
    os.environ["BROADCASTER_CONTENT_DIR"] = str(DEMO_DIR / "content")
    get_settings.cache_clear()
    common.engine.cache_clear()


def compressed(spec: CampaignSpec, start: datetime, offset: int, slot_day: datetime) -> CampaignSpec:
    """The campaign valid from today, its channels firing a few seconds apart from `start`."""
    spec.valid.starts, spec.valid.ends = start.date(), start.date() + timedelta(days=30)
    for index, (name, channel) in enumerate(spec.channels.items()):
        if name == "radio":
            channel.schedule = [SlotsRule(slots=["morning"], starts=slot_day.date(), ends=slot_day.date())]
        else:
            at = (start + timedelta(seconds=offset + 4 * index)).replace(tzinfo=None, microsecond=0)
            channel.schedule = [OnceRule(at=at)]
    return spec


# The demo sends the second warning through Zalo too, with the example OA's template (config/directory/
# zalo-templates.csv): to the same subscribers as its SMS, written to files like the other embedded defaults.
DEMO_ZALO = {"template_id": "2056446", "params": {"ten": "Sở TT&TT Tây Ninh"}, "text_param": "noi_dung"}


def with_zalo(spec: CampaignSpec) -> CampaignSpec:
    """The campaign with a Zalo channel beside its SMS, where its template has a Zalo text."""
    sms = spec.channels.get("sms")
    if sms is None or not (shipped_dir("content") / "templates" / spec.template / "vi" / "zalo.txt.j2").is_file():
        return spec
    spec.channels["zalo"] = ChannelSpec(to=sms.to, schedule=sms.schedule, areas=sms.areas, **DEMO_ZALO)
    return spec


# The demo's accounts: each signs in to the console with a password made for this run (the demo's own
# database, thrown away by the next run), printed at the end with the console's address.
DEMO_ACCOUNTS = (
    (DRAFTER, "drafter", None),
    (APPROVER, "approver", None),
    ("demo-operator", "operator", None),
    ("demo-admin", "admin", None),
    ("demo-station", "station", "dtt-go-dau"),
)
TEST_PHONES = ("0912000001", "0912000002")


def _demo_accounts(session: Session) -> dict[str, str]:
    passwords = {}
    for login, role, station in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        add_account(session, TERMINAL, login, role, password, stations=[station] if station else None)
        passwords[login] = password
    return passwords


def _test_list(session: Session) -> None:
    """A list of two staff phones marked as test, for 'send to the test list'."""
    source = DEMO_DIR / "thu-nghiem.csv"
    source.write_text("Số điện thoại\n" + "".join(f"{phone}\n" for phone in TEST_PHONES), encoding="utf-8")
    with open_upload(source) as upload:
        directory_operations.import_csv(
            session,
            TERMINAL,
            "subscribers",
            upload,
            list_slug="thu-nghiem",
            list_name="Điện thoại cán bộ (danh sách thử nghiệm)",
        )
    directory_operations.mark_test_list(session, TERMINAL, "thu-nghiem", True)
    out.print(f"subscriber list 'thu-nghiem' ({', '.join(TEST_PHONES)}) is marked as the test list")


def _morning_slots_at(session: Session, slot_at: datetime) -> None:
    """Every station's morning slot moved to `slot_at`, as a station's form in the console would do it."""
    for slug in session.scalars(select(Station.slug).order_by(Station.slug)):
        values = directory_operations.entry_values(session, TERMINAL, "stations", slug)
        slots = {**directory.parse_slots(values["slots"]), "morning": f"{slot_at:%H:%M}"}
        values["slots"] = "; ".join(f"{name} {at}" for name, at in slots.items())
        directory_operations.save_entry(session, TERMINAL, "stations", values)
    out.print(f"every station's morning slot is moved to {slot_at:%H:%M} for the demo")


def set_up(start: datetime) -> tuple[datetime, dict[str, str]]:
    """Directory, stations' morning slot at the next whole minute, both campaigns approved: each step
    through the operations the console and the command line use, audited as theirs are."""
    settings = common.settings()
    upgrade(common.engine(create=True))
    slot_at = (start + timedelta(seconds=75)).replace(second=0, microsecond=0)
    with common.unit_of_work() as session:
        for report in directory_operations.import_examples(session, TERMINAL):
            out.print(f"imported {report.imported} {report.kind} from {Path(report.source).name}")
        with open_upload(shipped_dir("config") / "directory" / "zalo-templates.csv") as upload:
            report = directory_operations.import_csv(session, TERMINAL, "zalo-templates", upload)
        out.print(f"imported {report.imported} {report.kind} (an example OA's ZNS template)")
        passwords = _demo_accounts(session)
        _test_list(session)
        _morning_slots_at(session, slot_at)
        drafter, approver = acting_account(session, DRAFTER), acting_account(session, APPROVER)
        # Fire times far enough ahead that checking, saving and approving both campaigns is done before the
        # first is due, even on a busy machine (fire times before approval are never due). They are counted
        # from now, not from `start`: the directory's import takes seconds there, and a fire time that passes
        # before the approval was never due (the letter would silently not go out in the demo).
        for offset, path in zip((20, 23), example_campaigns(), strict=False):
            spec = with_zalo(load_campaign_file(path))
            spec = compressed(spec, settings.local_now(), offset, slot_at)
            slug = campaign_operations.save(session, drafter, spec, str(path), settings).campaign.slug
            campaign_operations.change_status(session, drafter, slug, "submit", settings=settings)
            campaign = campaign_operations.change_status(session, approver, slug, "approve", settings=settings)
            out.print(f"campaign '{slug}' ({campaign.number.strip()}) submitted by {DRAFTER}, approved by {APPROVER}")
    return slot_at, passwords


def _finished(settings: Settings, last_fire: datetime) -> bool:
    now = settings.clock.now()
    with common.unit_of_work() as session:
        waiting = session.scalar(select(func.count()).where(Occurrence.state == OccurrenceState.PENDING)) or 0
        due = session.scalar(
            select(func.count()).where(
                Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]), Delivery.due_at <= now
            )
        )
    return now > last_fire + timedelta(seconds=3) and waiting == 0 and not due


@friendly
def demo() -> None:
    """Run the shipped campaigns through the real pipeline on a timetable compressed into about a minute,
    with the console serving the demo data; run from a terminal, it keeps running until Ctrl-C."""
    _use_demo_folder()
    settings = common.settings()
    start = settings.local_now()
    slot_at, passwords = set_up(start)
    if not within_window(settings, "sms", start):
        out.print(
            f"[yellow]it is outside the SMS send window ({settings.send_windows.get('sms')}): the SMS will "
            "wait for it to open, as they would on a real day[/]"
        )
    channels = processes.chosen_channels(None)
    processes.check_channels(settings, channels)
    stop = threading.Event()
    with processes.stop_on_signals(stop):
        runner = threading.Thread(
            target=processes.run_all, args=(common.sessions(), settings, channels, stop), daemon=True
        )
        runner.start()
        web = serve_in_background(None, None, stop)
        _watch(settings, slot_at, stop)
        _print_outputs(settings)
        if web.is_alive():
            _print_console(settings, passwords)
        else:
            out.print(
                f"[red]the console could not listen on {settings.web_host}:{settings.web_port} (see the message "
                "above): choose another port with BROADCASTER_WEB_PORT and run the demo again[/]"
            )
        if _interactive():
            out.print("the console and the workers keep running: press Ctrl-C to stop")
            while not stop.wait(0.5):
                pass
        stop.set()
        runner.join(timeout=30)
        web.join(timeout=30)


def _interactive() -> bool:
    """A person at a terminal: the demo waits for them. Scripts and CI (stdin not a terminal, CI=true) not."""
    return sys.stdin.isatty() and os.environ.get("CI", "").lower() not in ("true", "1")


def _watch(settings: Settings, slot_at: datetime, stop: threading.Event) -> None:
    deadline = time.monotonic() + 240
    with Live(console=out, refresh_per_second=2, transient=True) as live:
        while not _finished(settings, slot_at) and time.monotonic() < deadline:
            with common.unit_of_work() as session:
                live.update(_status_table(statuses(session, TERMINAL, settings)))
            if stop.wait(1):  # a refresh a second; Ctrl-C ends the wait at once
                break
    with common.unit_of_work() as session:
        out.print(_status_table(statuses(session, TERMINAL, settings)))


def _print_outputs(settings: Settings) -> None:
    output = settings.output_dir
    out.print(
        f"letters: {output / 'email'}   SMS: {output / 'sms'}   Zalo: {output / 'zalo'}   "
        f"Facebook requests: {output / 'facebook'}   radio scripts: {output / 'radio'}"
    )


def _print_console(settings: Settings, passwords: dict[str, str]) -> None:
    out.print(
        f"\n[bold]the console: http://{settings.web_host}:{settings.web_port}/[/]  (demo accounts, this run only)"
    )
    for login, role, station in DEMO_ACCOUNTS:
        where = f" (station {station}: its portal)" if station else ""
        out.print(f"  {login:<16} {role:<9} password {passwords[login]}{where}")
