"""SMS to citizens through an HTTP gateway; the gateway's dialect is a setting.

Dialects: `file` (embedded default, JSON lines under the output folder), `esms`, `speedsms`,
`generic-json`. Unaccented text is sent as GSM-7 where the dialect has a flag for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from broadcaster.clock import Clock
from broadcaster.text import plain_sms_text, sms_info
from channels.base import Bulletin, ChannelAdapter, Limits, RecipientKind, Report, Result
from channels.http import JsonClient
from channels.sms_dialects.base import Dialect, SmsMessage
from channels.sms_dialects.esms import EsmsDialect
from channels.sms_dialects.file import FileDialect
from channels.sms_dialects.generic_json import GenericJsonDialect
from channels.sms_dialects.speedsms import SpeedSmsDialect
from channels.sms_options import SmsOptions

# The settings name the dialect (`sms_options.DIALECT_NEEDS`); these are the classes that speak each.
DIALECTS: dict[str, type[Dialect]] = {
    dialect.name: dialect for dialect in (FileDialect, EsmsDialect, SpeedSmsDialect, GenericJsonDialect)
}


class SmsCampaignOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_parts: int = Field(1, ge=1, le=10)
    unaccented: bool = False


class SmsChannel(ChannelAdapter):
    name = "sms"
    recipient_kind = RecipientKind.SUBSCRIBER
    default_limits = Limits(max_batch=1, idempotency_key=True, links_allowed=False)
    Options = SmsOptions
    CampaignOptions = SmsCampaignOptions

    options: SmsOptions
    report_url: str | None = None  # where the gateway calls back with delivery reports (set by the worker)

    def __init__(self, options: SmsOptions, *, output_dir: Path, clock: Clock | None = None) -> None:
        super().__init__(options, output_dir=output_dir, clock=clock)
        self.http = JsonClient(
            pool_size=options.pool_size, connect_timeout=options.connect_timeout, timeout=options.timeout
        )
        self.dialect = DIALECTS[options.dialect](options, self.http, output_dir, self.clock)

    @classmethod
    def callback_forms(cls) -> Sequence[str]:
        """Every gateway dialect that calls back with delivery reports (the file dialect has no gateway)."""
        return tuple(name for name in DIALECTS if name != FileDialect.name)

    @classmethod
    def parse_callback(cls, form: str, query: Mapping[str, str], body: bytes) -> list[Report]:
        return DIALECTS[form].parse_reports(query, body)

    @property
    def limits(self) -> Limits:
        limits = self.dialect.limits
        if self.options.batch_size and limits.max_batch > 1:
            return Limits(
                self.options.batch_size,
                limits.max_length,
                limits.idempotency_key,
                limits.rate_per_second,
                limits.links_allowed,
            )
        return limits

    @classmethod
    def adapt(cls, parts: Mapping[str, str], campaign_options: BaseModel) -> dict[str, str]:
        text = " ".join(line.strip() for line in parts.get("txt", "").strip().splitlines() if line.strip())
        if isinstance(campaign_options, SmsCampaignOptions) and campaign_options.unaccented:
            text = plain_sms_text(text)
        return {**parts, "txt": text}

    @classmethod
    def check_content(cls, parts: Mapping[str, str], campaign_options: BaseModel) -> list[str]:
        assert isinstance(campaign_options, SmsCampaignOptions)
        text = parts.get("txt", "")
        info, plain = sms_info(text), sms_info(plain_sms_text(text))
        if info.parts <= campaign_options.max_parts:
            return []
        return [
            f"the SMS is {info.parts} parts ({info.length} characters, {info.encoding}) but max_parts is "
            f"{campaign_options.max_parts}; unaccented it would be {plain.parts} parts ({plain.length} characters, "
            f"{plain.encoding})"
        ]

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        # Reports come back to the project's callback address, one path per dialect (each has its own shape).
        self.dialect.report_url = f"{self.report_url}/{self.dialect.name}" if self.report_url else None
        messages = [
            SmsMessage(b.key, b.recipient.address, b.parts["txt"], sms_info(b.parts["txt"]).encoding != "GSM-7")
            for b in batch
        ]
        return self.dialect.send(messages)

    @property
    def reports_delivery(self) -> bool:
        """Whether each message names `report_url` to the gateway (eSMS does; others are told once, on their side)."""
        return self.dialect.names_report_url

    @property
    def looks_up_reports(self) -> bool:
        """Whether the dialect can ask the gateway about a message (eSMS can)."""
        return self.dialect.looks_up

    def look_up_report(self, provider_id: str, address: str) -> Report | None:
        """What the gateway says now about an accepted message; None when the dialect has no look-up."""
        return self.dialect.look_up(provider_id, address)

    def close(self) -> None:
        self.http.close()
