"""Building campaigns for delivery tests: the shipped directory, a generated subscriber list, and a
campaign in whatever status and timetable a test needs — through the same code staff use."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from broadcaster import directory
from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.campaigns.store import check_campaign
from broadcaster.db import transaction
from broadcaster.models import Campaign
from broadcaster.settings import Settings

TAY_NINH_VARIABLES = {
    "previous_letter": {"number": "720/STTTT-TTr", "date": "2024-04-17"},
    "addressees": ["Các Sở, ban, ngành tỉnh"],
    "copy_to": ["Ban Giám đốc Sở"],
    "archive": "VT, Thanh tra",
}
SMS = {"max_parts": 1, "unaccented": True}


def phones(count: int, first: int = 0) -> list[str]:
    """Well-formed fictional mobile numbers: 0912000000, 0912000001, …"""
    return [f"0912{index:06d}" for index in range(first, first + count)]


def subscriber_list(
    sessions: sessionmaker[Session],
    folder: Path,
    slug: str,
    numbers: list[str],
    opted_out: set[str] = frozenset(),
    area: str = "go-dau",
) -> None:  # type: ignore[assignment]
    path = folder / f"{slug}.csv"
    lines = ["phone,area,opted_out"] + [f"{n},{area},{'x' if n in opted_out else ''}" for n in numbers]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with transaction(sessions) as session:
        directory.import_subscribers(session, path, slug, None)


def local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")


def campaign(
    sessions: sessionmaker[Session],
    settings: Settings,
    channels: dict[str, dict[str, Any]],
    *,
    slug: str = "thu-nghiem",
    priority: str = "priority",
    status: str = "approved",
    valid: tuple[date, date] | None = None,
    sendable_since: datetime | None = None,
    locales: list[str] | None = None,
) -> int:
    """A campaign from the shipped template, taken through the lifecycle to `status`. Returns its id."""
    today = settings.today()
    starts, ends = valid or (today - timedelta(days=1), today + timedelta(days=10))
    data = {
        "campaign": slug,
        "issuer": "tay-ninh-stttt",
        "number": "881/STTTT-TTr",
        "subject": "tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
        "priority": priority,
        "valid": {"from": starts, "until": ends},
        "template": "goi-gia-danh",
        "variables": TAY_NINH_VARIABLES if "email" in channels else {},
        "channels": channels,
    }
    if locales:
        data["locales"] = locales
    spec = parse_campaign(data, slug)
    with transaction(sessions) as session:
        problems = check_campaign(session, spec, settings)
        if problems:
            raise AssertionError("; ".join(str(problem) for problem in problems))
        saved, _ = save_campaign(session, spec, "lan", settings)
        path = {
            "draft": [],
            "submitted": ["submit"],
            "approved": ["submit", "approve"],
            "paused": ["submit", "approve", "pause"],
            "cancelled": ["submit", "approve", "cancel"],
        }[status]
        for action in path:
            lifecycle.apply(session, saved, action, "lan" if action == "submit" else "minh", settings=settings)
        if sendable_since is not None:
            saved.sendable_since = sendable_since
        return saved.id


def get(sessions: sessionmaker[Session], campaign_id: int) -> Campaign:
    with sessions() as session:
        found = session.get(Campaign, campaign_id)
        assert found is not None
        return found


def urgent_sms(sessions: sessionmaker[Session], settings: Settings, folder: Path, numbers: list[str]) -> None:
    """An emergency SMS to `numbers`, due now, its occurrence already created by the timetable."""
    from broadcaster.timetable import catch_up

    subscriber_list(sessions, folder, "bulk", numbers)
    now = settings.clock.now()
    campaign(
        sessions,
        settings,
        {"sms": {"to": ["list:bulk"], **SMS, "schedule": [{"at": local(now, settings)}]}},
        priority="emergency",
        sendable_since=now - timedelta(hours=1),
    )
    with transaction(sessions) as session:
        catch_up(session, settings, now + timedelta(seconds=1))
