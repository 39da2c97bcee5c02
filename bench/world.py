"""A database with the shipped directory, N subscribers and one approved campaign, made fast (this
setup is not what is measured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns import lifecycle
from broadcaster.campaigns.file import parse_campaign
from broadcaster.campaigns.revisions import save_campaign
from broadcaster.clock import system_now
from broadcaster.db import make_engine, make_sessions, transaction, upgrade
from broadcaster.examples import import_examples
from broadcaster.models import Area, Subscriber, SubscriberList
from broadcaster.settings import Settings
from broadcaster.timetable import catch_up

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def schema_url(schema: str) -> str:
    """The database URL whose search path is `schema`."""
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


@contextmanager
def scratch_schema(prefix: str) -> Iterator[str]:
    """The name of a PostgreSQL schema of its own for one run, dropped afterwards however the run ends (each
    run's tables would otherwise stay: tens of MB a run)."""
    schema = f"bench_{prefix.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


VARIABLES = {
    "previous_letter": {"number": "720/STTTT-TTr", "date": "2024-04-17"},
    "addressees": ["Các Sở, ban, ngành tỉnh"],
    "copy_to": ["Ban Giám đốc Sở"],
    "archive": "VT, Thanh tra",
}


def fresh(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with transaction(sessions) as session:
        import_examples(session)
    return sessions


def subscribers(sessions: sessionmaker[Session], slug: str, count: int) -> None:
    with transaction(sessions) as session:
        area = session.scalar(select(Area.id).where(Area.code == "go-dau"))
        listed = SubscriberList(slug=slug, name=slug)
        session.add(listed)
        session.flush()
        list_id = listed.id
    for start in range(0, count, 50_000):
        rows = [
            {"list_id": list_id, "phone": f"+849{index:08d}", "area_id": area, "locale": "vi", "opted_out": False}
            for index in range(start, min(count, start + 50_000))
        ]
        with transaction(sessions) as session:
            session.execute(insert(Subscriber), rows)


def campaign(
    sessions: sessionmaker[Session],
    settings: Settings,
    slug: str,
    channels: dict[str, Any],
    fire_at: datetime | None = None,
) -> None:
    """An approved emergency campaign (so send windows and daily caps do not shape the measurement)."""
    today = datetime.now(settings.zone).date()
    fire_at = fire_at or datetime.now(settings.zone)
    for channel in channels.values():
        channel.setdefault("schedule", [{"at": fire_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M:%S")}])
    spec = parse_campaign(
        {
            "campaign": slug,
            "issuer": "tay-ninh-stttt",
            "number": "881/STTTT-TTr",
            "subject": "tiếp tục cảnh báo các cuộc gọi giả danh với mục đích lừa đảo (lần 2)",
            "priority": "emergency",
            "valid": {"from": today - timedelta(days=1), "until": today + timedelta(days=5)},
            "template": "goi-gia-danh",
            "variables": VARIABLES if "email" in channels else {},
            "channels": channels,
        },
        slug,
    )
    with transaction(sessions) as session:
        saved, _ = save_campaign(session, spec, "bench", settings)
        lifecycle.apply(session, saved, "submit", "bench", settings=settings)
        lifecycle.apply(session, saved, "approve", "bench-approver", settings=settings)
        saved.sendable_since = system_now() - timedelta(hours=1)


def fire(sessions: sessionmaker[Session], settings: Settings) -> None:
    with transaction(sessions) as session:
        catch_up(session, settings, system_now() + timedelta(seconds=1))
