"""Channel checks: build every registered channel from its settings, secrets masked."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.errors import ConfigurationError, UserError
from broadcaster.installation import installation_id
from broadcaster.settings import Settings
from channels.base import (
    ReceivesCallbacks,
    channel_class,
    configured_adapter,
    describe_options,
    registered_channels,
)


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    recipients: str
    settings: dict[str, str]  # as they may be shown: every secret masked
    max_batch: int
    rate_per_second: float
    problem: str | None  # the configuration error, as one sentence; None when the channel builds


def check_channels(actor: Actor, settings: Settings) -> list[ChannelCheck]:
    actor.require("channels:manage")
    checks = []
    for name in sorted(registered_channels()):
        try:
            adapter = configured_adapter(name, settings.output_dir, settings.clock)
        except ConfigurationError as exc:
            checks.append(ChannelCheck(name, "", {}, 0, 0.0, str(exc)))
            continue
        try:
            shown = {key: str(value) for key, value in describe_options(adapter.options).items()}
            limits = adapter.limits
            checks.append(
                ChannelCheck(name, adapter.recipient_kind.plural, shown, limits.max_batch, limits.rate_per_second, None)
            )
        finally:
            adapter.close()
    return checks


def report_address(session: Session, actor: Actor, settings: Settings, dialect: str, channel: str = "sms") -> str:
    """Where a provider sends delivery reports, to set in its account (SpeedSMS, generic-json); eSMS is told
    with each message. The address holds the callback token: it is shown to an operator only."""
    from broadcaster.installation import report_url

    actor.require("channels:manage")
    reader = channel_class(channel)
    forms = reader.callback_forms() if issubclass(reader, ReceivesCallbacks) else ()
    if dialect not in forms:
        known = ", ".join(forms) or "none"
        raise UserError(f"'{dialect}' is not a gateway dialect that reports delivery ({known})")
    base = report_url(settings, installation_id(session), channel)
    return f"{base}/{dialect}"
