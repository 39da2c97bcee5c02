"""What the portal's pages show of a slot: its card (time, campaign, state, the forms to report on it), a
planned slot still to come, and the script page (the lines not to read set apart from the text to read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request

from broadcaster import airing
from broadcaster.errors import ConfigurationError
from broadcaster.settings import Settings
from broadcaster.web.portal.words import WORDS, language, weekday
from channels.base import KeepsFilesForRecipients, RecipientKind, configured_adapter, registered_channels

AUDIO_KINDS = ("mp3", "ogg", "wav")


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def station_files(settings: Settings) -> KeepsFilesForRecipients:
    """The channel that hands stations their scripts, as configured: the portal serves what it wrote."""
    for name, adapter in registered_channels().items():
        if adapter.recipient_kind == RecipientKind.STATION and issubclass(adapter, KeepsFilesForRecipients):
            found = configured_adapter(name, settings.output_dir, settings.clock)
            if isinstance(found, KeepsFilesForRecipients):
                return found
    raise ConfigurationError("no channel hands radio stations their scripts: the station portal has none to show")


def when(request: Request, moment: datetime) -> dict[str, Any]:
    """A moment as the portal writes it: its local day, `05:30`, and `Thứ Tư 09/12/2026`."""
    local = moment.astimezone(settings_of(request).zone)
    day = f"{weekday(local, language(request))} {local:%d/%m/%Y}"
    return {"day": local.date(), "time": f"{local:%H:%M}", "date": day}


def duration(seconds: float | None, words: dict[str, str]) -> str | None:
    """`1 phút 23 giây`, or `45 giây`."""
    if seconds is None:
        return None
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} {words['minutes']} {rest} {words['seconds']}" if minutes else f"{rest} {words['seconds']}"


def card(request: Request, slot: airing.Slot) -> dict[str, Any]:
    """A slot whose script went out: when, what, the reading time, and what the station said about it."""
    entry = station_files(settings_of(request)).kept_facts(slot.file) if slot.file else None
    report = slot.report
    aired_at = report.aired_at if report is not None and report.aired_at is not None else None
    return {
        "kind": "sent",
        "slot": slot,
        **when(request, slot.fire_at),
        "aired_at": when(request, aired_at)["time"] if aired_at else None,
        "reading_time": duration((entry or {}).get("reading_seconds"), WORDS[language(request)]),
        "history": [{"report": item, **when(request, item.at)} for item in reversed(slot.history)],
    }


def planned(request: Request, item: airing.PlannedSlot) -> dict[str, Any]:
    """A slot still to come: its script is written when its time comes."""
    return {"kind": "planned", "item": item, **when(request, item.fire_at)}


def schedule_cards(request: Request, schedule: list[airing.Slot | airing.PlannedSlot]) -> list[dict[str, Any]]:
    return [card(request, item) if isinstance(item, airing.Slot) else planned(request, item) for item in schedule]


def by_day(cards: list[dict[str, Any]], today: date) -> dict[str, list[dict[str, Any]]]:
    """Today's slots (sent and still to come), earlier days' (newest first) and coming days'."""
    return {
        "today": [item for item in cards if item["day"] == today],
        "earlier": sorted((item for item in cards if item["day"] < today), key=lambda item: item["day"], reverse=True),
        "later": [item for item in cards if item["day"] > today],
    }


@dataclass(frozen=True)
class AudioFile:
    kind: str
    media_type: str
    size: str  # "0,6 MB"


@dataclass(frozen=True)
class Script:
    """A written script as a phone shows it: the lines that are not read, then the paragraphs that are."""

    not_read: list[str]
    paragraphs: list[list[str]]
    reading_time: str | None
    has_docx: bool
    audio: list[AudioFile]
    audio_time: str | None  # how long the draft reading lasts
    audio_problem: str | None


def _size(path: Path | None) -> str:
    if path is None:
        return ""
    megabytes = path.stat().st_size / 1_000_000
    return f"{megabytes:.1f} MB".replace(".", ",") if megabytes >= 0.1 else f"{round(path.stat().st_size / 1000)} KB"


def script(request: Request, slot: airing.Slot) -> Script | None:
    """The script of a slot whose text was written, read from the station's folder; None before that."""
    files = station_files(settings_of(request))
    path = files.kept_file(slot.file, "txt") if slot.file else None
    if path is None or slot.file is None:
        return None
    entry = files.kept_facts(slot.file) or {}
    heading, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    # The first heading line is the station's own name: the page already says it.
    not_read = [line for line in heading.splitlines()[1:] if line.strip()]
    paragraphs = [[line.strip() for line in part.splitlines()] for part in body.split("\n\n") if part.strip()]
    audio = [
        AudioFile(kind, files.media_type(kind), _size(files.kept_file(slot.file, kind)))
        for kind in AUDIO_KINDS
        if kind in (entry.get("audio") or {})
    ]
    return Script(
        not_read=not_read,
        paragraphs=paragraphs,
        reading_time=duration(entry.get("reading_seconds"), WORDS[language(request)]),
        has_docx=bool(entry.get("docx")),
        audio=audio,
        audio_time=duration((entry.get("audio") or {}).get("seconds"), WORDS[language(request)]),
        audio_problem=entry.get("audio_problem"),
    )
