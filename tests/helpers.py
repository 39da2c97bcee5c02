"""Small builders shared by tests: bulletins and recipients as the core hands them to adapters."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from channels.base import (
    FACTS,
    Bulletin,
    Letter,
    NoCampaignOptions,
    Recipient,
    RecipientFacts,
    RecipientKind,
    Script,
)
from channels.facebook import FacebookCampaignOptions

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
FIRE_AT = datetime(2024, 5, 15, 5, 30, tzinfo=ZONE)
NO_LETTER = Letter(issuer="", sender_name="", sender_email=None, number="", subject="", dated=None)
MORNING = Script(slot="morning", reading_rate=3.5, region="south")


def bulletin(
    key: str,
    kind: RecipientKind,
    address: str,
    *,
    name: str = "",
    text: str = "Cảnh báo lừa đảo",
    parts: dict[str, str] | None = None,
    facts: RecipientFacts | None = None,
    campaign: str = "canh-bao",
    priority: str = "priority",
    fire_at: datetime = FIRE_AT,
    options: BaseModel | None = None,
    letter: Letter = NO_LETTER,
    script: Script = MORNING,
    content_dir: Path = Path("content"),
    attempt: int = 1,
    unanswered_before: bool | None = None,
) -> Bulletin:
    """A bulletin as the core's composer makes it; the recipient's facts and the campaign options default to
    those of nothing in particular for its kind (a Facebook page's, its channel's defaults)."""
    recipient = Recipient(address, facts or FACTS[kind](), name)
    if options is None:
        options = FacebookCampaignOptions() if kind is RecipientKind.PAGE else NoCampaignOptions()
    return Bulletin(
        key,
        recipient,
        parts or {"txt": text},
        campaign,
        priority,
        "vi",
        fire_at,
        options,
        letter,
        script,
        content_dir,
        attempt,
        unanswered_before,
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 30, what: str = "the condition") -> T:
    """Ask `condition` until it answers something true, and return that; fail after `timeout` seconds.

    The one way tests wait for another thread or process: never a fixed sleep. It asks often at first
    and then every fifth of a second, so a quick answer costs milliseconds and a slow machine only time.
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while not (answer := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
    return answer
