"""The same contract checked over every registered channel adapter, in its embedded default mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from channels.base import (
    FACTS,
    ChannelAdapter,
    Limits,
    Outcome,
    PageFacts,
    RecipientFacts,
    RecipientKind,
    StationFacts,
    describe_options,
    registered_channels,
)
from tests.helpers import bulletin

ADAPTERS = sorted(registered_channels().items())
ADDRESSES = {
    RecipientKind.AGENCY: ["soyte@tayninh.example", "sotuphap@tayninh.example", "sonoivu@tayninh.example"],
    RecipientKind.SUBSCRIBER: ["+84912345678", "+84987654321", "+84981111111"],
    RecipientKind.STATION: ["dtt-go-dau", "dtt-tan-bien", "dtt-trang-bang"],
    RecipientKind.PAGE: ["100064000000001", "100064000000002", "100064000000003"],
}


@pytest.fixture(params=ADAPTERS, ids=[name for name, _ in ADAPTERS])
def adapter(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChannelAdapter:
    for name in ("MODE", "DIALECT", "ROOT"):
        monkeypatch.delenv(f"BROADCASTER_{request.param[0].upper()}_{name}", raising=False)
    cls = request.param[1]
    return cls(cls.Options(), output_dir=tmp_path)  # type: ignore[no-any-return]


def test_the_entry_point_name_is_the_adapter_name() -> None:
    assert {name: cls.name for name, cls in ADAPTERS} == {name: name for name, _ in ADAPTERS}
    assert {name for name, _ in ADAPTERS} >= {"email", "sms", "facebook", "radio"}


def test_limits_are_declared_as_data(adapter: ChannelAdapter) -> None:
    assert isinstance(adapter.limits, Limits)
    assert adapter.limits.max_batch >= 1 and adapter.limits.rate_per_second > 0


def facts_of(kind: RecipientKind, index: int) -> RecipientFacts:
    """What the directory would say of the recipient: a station's folder, a page's token variable."""
    if kind is RecipientKind.STATION:
        return StationFacts(folder=f"tram-{index}")
    if kind is RecipientKind.PAGE:
        return PageFacts(token_secret="BROADCASTER_FACEBOOK_TOKEN_X")
    return FACTS[kind]()


def test_one_result_per_bulletin_with_the_same_keys_in_order(adapter: ChannelAdapter) -> None:
    batch = [
        bulletin(
            f"occ-1:{adapter.name}:{index}",
            adapter.recipient_kind,
            address,
            name=f"Người nhận {index}",
            parts={
                "txt": "Cảnh báo lừa đảo. Báo tin: 02763631168\n",
                "subject": "V/v cảnh báo\n",
                "html": "<p>Cảnh báo</p>",
            },
            facts=facts_of(adapter.recipient_kind, index),
        )
        for index, address in enumerate(ADDRESSES[adapter.recipient_kind])
    ][: adapter.limits.max_batch]
    with adapter:
        results = adapter.send(batch)
    assert [result.key for result in results] == [item.key for item in batch]
    assert {result.outcome for result in results} <= set(Outcome)
    assert all(result.outcome in (Outcome.SENT, Outcome.ACCEPTED) for result in results)


def test_unknown_campaign_options_are_refused(adapter: ChannelAdapter) -> None:
    with pytest.raises(ValidationError):
        adapter.CampaignOptions.model_validate({"no_such_option": 1})


def test_secrets_are_masked_in_any_repr(adapter: ChannelAdapter) -> None:
    secrets = [name for name, value in adapter.options if isinstance(value, SecretStr)]
    for name in type(adapter.options).model_fields:
        annotation = str(type(adapter.options).model_fields[name].annotation)
        if "SecretStr" in annotation:
            secrets.append(name)
    values = {name: SecretStr("very-secret-value") for name in secrets}
    options = adapter.options.model_copy(update=values)
    assert "very-secret-value" not in repr(options)
    assert "very-secret-value" not in str(describe_options(options))


def test_close_can_be_called_twice(adapter: ChannelAdapter) -> None:
    adapter.open()
    adapter.close()
    adapter.close()
