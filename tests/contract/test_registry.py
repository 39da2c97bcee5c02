"""Adapters are found through entry points; an unknown or duplicate name is an error that says which."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint, EntryPoints

import pytest

from broadcaster.errors import ConfigurationError
from channels import base


def test_an_unknown_channel_names_the_known_ones() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown channel 'pager' \(known channels: email, facebook, radio, sms, zalo\)"
    ):
        base.channel_class("pager")


def test_a_name_declared_twice_says_by_whom(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = EntryPoints(
        [
            EntryPoint("sms", "channels.sms:SmsChannel", base.ENTRY_POINT_GROUP),
            EntryPoint("sms", "other_package.sms:Gateway", base.ENTRY_POINT_GROUP),
        ]
    )
    monkeypatch.setattr(base, "entry_points", lambda group: twice)
    base.registered_channels.cache_clear()
    try:
        with pytest.raises(
            ConfigurationError,
            match=re.escape(
                "channel name 'sms' is declared twice: by channels.sms:SmsChannel and by other_package.sms:Gateway"
            ),
        ):
            base.registered_channels()
    finally:
        base.registered_channels.cache_clear()


def test_an_entry_point_that_is_not_an_adapter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = EntryPoints([EntryPoint("files", "channels.files:write_atomically", base.ENTRY_POINT_GROUP)])
    monkeypatch.setattr(base, "entry_points", lambda group: wrong)
    base.registered_channels.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="is not a ChannelAdapter"):
            base.registered_channels()
    finally:
        base.registered_channels.cache_clear()
