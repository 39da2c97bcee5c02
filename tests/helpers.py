"""Small builders shared by tests: bulletins and recipients as the core hands them to adapters."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from channels.base import Bulletin, Recipient, RecipientKind

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def bulletin(
    key: str,
    kind: RecipientKind,
    address: str,
    *,
    name: str = "",
    text: str = "Cảnh báo lừa đảo",
    parts: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
    recipient_details: dict[str, Any] | None = None,
    campaign: str = "canh-bao",
    priority: str = "priority",
) -> Bulletin:
    recipient = Recipient(kind, address, name, recipient_details or {})
    base = {"fire_at": datetime(2024, 5, 15, 5, 30, tzinfo=ZONE), "slot": "morning", "reading_rate": 3.5}
    return Bulletin(key, recipient, parts or {"txt": text}, campaign, priority, {**base, **(details or {})})


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
