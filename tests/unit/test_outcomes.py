"""How one provider answer becomes a delivery's state: ambiguity is remembered (an unanswered attempt may
have gone out), a duplicate key is ours only after such an attempt, and the provider's answer is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from broadcaster.models import DeliveryState, delivery_key, parse_delivery_key
from broadcaster.workers import RetryPolicy, outcome_values
from channels.base import Outcome, Result

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, base_seconds=1, max_seconds=2)


def test_an_unanswered_attempt_is_remembered_on_the_retry() -> None:
    timeout = Result.failed("k", "the SMS gateway did not answer within 20 s", retryable=True, ambiguous=True)
    values = outcome_values(timeout, 1, POLICY, NOW)
    assert values["state"] == DeliveryState.PENDING and values["ambiguous"] is True


def test_out_of_attempts_after_an_unanswered_one_ends_unknown_not_failed() -> None:
    server_error = Result.failed("k", "the SMS gateway answered HTTP 500", retryable=True, response="internal")
    values = outcome_values(server_error, 3, POLICY, NOW, ambiguous=True)
    assert values["state"] == DeliveryState.UNKNOWN
    assert "may have been delivered" in values["reason"]
    assert values["response"] == "internal"


def test_out_of_attempts_with_every_attempt_answered_is_failed() -> None:
    server_error = Result.failed("k", "the SMS gateway answered HTTP 500", retryable=True)
    assert outcome_values(server_error, 3, POLICY, NOW)["state"] == DeliveryState.FAILED


def test_a_duplicate_key_after_an_unanswered_attempt_is_our_own_message() -> None:
    duplicate = Result("k", Outcome.REJECTED, reason="eSMS code 124", duplicate=True)
    assert outcome_values(duplicate, 2, POLICY, NOW, ambiguous=True)["state"] == DeliveryState.ACCEPTED


def test_a_duplicate_key_this_installation_never_sent_is_a_refusal() -> None:
    duplicate = Result("k", Outcome.REJECTED, reason="eSMS code 124", duplicate=True, response='{"CodeResult": "124"}')
    values = outcome_values(duplicate, 1, POLICY, NOW)
    assert values["state"] == DeliveryState.REJECTED
    assert "another installation" in values["reason"]
    assert values["response"] == '{"CodeResult": "124"}'


def test_keys_sent_to_providers_carry_the_installation_and_read_back() -> None:
    key = delivery_key(17, "+84912345678", "a1b2c3d4e5f6")
    assert key == "a1b2c3d4e5f6.o17:+84912345678"
    assert parse_delivery_key(key) == ("a1b2c3d4e5f6", 17, "+84912345678")
    assert delivery_key(17, "+84912345678", "0f0f0f0f0f0f") != key  # another installation, another key
    assert parse_delivery_key("not a key") is None
