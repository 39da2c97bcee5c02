"""`broadcaster demo`: the shipped campaigns on a timetable compressed into about a minute, through
the real pipeline (timetable → occurrences → outbox → workers → the four channels' embedded defaults)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from rich.live import Live
from sqlalchemy import func, select

from broadcaster import lifecycle, monitor, service
from broadcaster.accounts import create_account
from broadcaster.campaign_file import CampaignSpec, OnceRule, SlotsRule, load_campaign_file
from broadcaster.campaigns import check_campaign, save_campaign
from broadcaster.cli import common
from broadcaster.cli.common import friendly, out
from broadcaster.cli.delivery import _status_table
from broadcaster.db import upgrade
from broadcaster.examples import example_campaigns, import_examples
from broadcaster.models import Delivery, DeliveryState, Occurrence, OccurrenceState, Station, utcnow
from broadcaster.policy import within_window
from broadcaster.problems import InvalidInput
from broadcaster.settings import get_settings

DEMO_DIR = Path("var/demo")
DRAFTER, APPROVER = "demo-drafter", "demo-approver"


def _use_demo_folder() -> None:
    """The demo works in its own folder, so it never touches a real database or output folder."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    os.environ["BROADCASTER_DATABASE_URL"] = f"sqlite:///{DEMO_DIR / 'broadcaster.db'}"
    os.environ["BROADCASTER_OUTPUT_DIR"] = str(DEMO_DIR / "out")
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


def set_up(start: datetime) -> datetime:
    """Directory, stations' morning slot at the next whole minute, both campaigns approved."""
    settings = common.settings()
    upgrade(common.engine(create=True))
    slot_at = (start + timedelta(seconds=75)).replace(second=0, microsecond=0)
    with common.unit_of_work() as session:
        for login, role in ((DRAFTER, "drafter"), (APPROVER, "approver")):
            create_account(session, login, role, password=None)
        out.print(f"accounts '{DRAFTER}' (drafter) and '{APPROVER}' (approver) sign in with API tokens only")
        for report in import_examples(session):
            out.print(f"imported {report.imported} {report.kind} from {Path(report.source).name}")
        for station in session.scalars(select(Station)):
            station.slots = {**station.slots, "morning": f"{slot_at:%H:%M}"}
        out.print(f"every station's morning slot is moved to {slot_at:%H:%M} for the demo")
        # Fire times far enough ahead that validating, fixing and approving both campaigns is done before
        # the first is due, even on a busy machine (fire times before approval are never due).
        for offset, path in zip((20, 23), example_campaigns(), strict=False):
            spec = compressed(load_campaign_file(path), start, offset, slot_at)
            problems = check_campaign(session, spec, settings)
            if problems:
                raise InvalidInput(str(path), problems)
            # Counted again from now: on a busy machine the checks take seconds, and a fire time that passes
            # before the approval was never due (the letter would silently not go out in the demo).
            spec = compressed(spec, datetime.now(settings.zone), offset, slot_at)
            campaign, _ = save_campaign(session, spec, DRAFTER, settings)
            lifecycle.apply(session, campaign, "submit", DRAFTER, settings=settings)
            lifecycle.apply(session, campaign, "approve", APPROVER)
            out.print(
                f"campaign '{campaign.slug}' ({campaign.number.strip()}) submitted by {DRAFTER}, approved by {APPROVER}"
            )
    return slot_at


def _finished(last_fire: datetime) -> bool:
    with common.unit_of_work() as session:
        waiting = session.scalar(select(func.count()).where(Occurrence.state == OccurrenceState.PENDING)) or 0
        due = session.scalar(
            select(func.count()).where(
                Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING]), Delivery.due_at <= utcnow()
            )
        )
    return utcnow() > last_fire + timedelta(seconds=3) and waiting == 0 and not due


@friendly
def demo() -> None:
    """Run the shipped campaigns through the real pipeline on a timetable compressed into about a minute."""
    _use_demo_folder()
    settings = common.settings()
    start = datetime.now(settings.zone)
    slot_at = set_up(start)
    if not within_window(settings, "sms", start):
        out.print(
            f"[yellow]it is outside the SMS send window ({settings.send_windows.get('sms')}): the SMS will "
            "wait for it to open, as they would on a real day[/]"
        )
    channels = service.chosen_channels(None)
    service.check_channels(settings, channels)
    stop = threading.Event()
    runner = threading.Thread(target=service.run_all, args=(common.sessions(), settings, channels, stop), daemon=True)
    runner.start()
    deadline = time.monotonic() + 240
    with Live(console=out, refresh_per_second=2, transient=True) as live:
        while not _finished(slot_at) and time.monotonic() < deadline:
            with common.unit_of_work() as session:
                live.update(_status_table(monitor.all_statuses(session, settings, utcnow())))
            time.sleep(1)
    stop.set()
    runner.join(timeout=30)
    with common.unit_of_work() as session:
        out.print(_status_table(monitor.all_statuses(session, settings, utcnow())))
    output = settings.output_dir
    out.print(
        f"letters: {output / 'email'}   SMS: {output / 'sms'}   Facebook requests: {output / 'facebook'}   "
        f"radio scripts: {output / 'radio'}"
    )
