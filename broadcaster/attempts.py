"""The history of a delivery's attempts: written by the worker with each outcome, read by the console,
the API and `broadcaster deliveries --history`.

Design: the outbox row keeps a delivery's state, its attempt count and the last reason and provider
answer. Every attempt that did not end the delivery successfully (failed and to be retried, failed for
good, unanswered, refused, invalid) also gets a row of `attempts`, written by the same statement batch,
in the same transaction, as the outcome. The attempt that succeeds is the delivery row itself (its
state, time and provider id), so the bulk path, one accepted attempt per delivery, writes nothing
extra and the outbox's write speed is unchanged. A delivery's history is its `attempts` rows, then the
delivery row when it ended successfully.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from broadcaster.masking import mask_secrets
from broadcaster.models import Delivery, DeliveryAttempt, DeliveryState

# An attempt ending in one of these is the delivery row itself; any other gets a row of `attempts`.
SUCCEEDED = frozenset({DeliveryState.SENT, DeliveryState.ACCEPTED, DeliveryState.SCHEDULED})
# Once a delivery was sent, a delivery report may settle it further; its last attempt still succeeded.
_ENDED_WELL = SUCCEEDED | {DeliveryState.DELIVERED, DeliveryState.UNDELIVERED}
_INSERT = insert(DeliveryAttempt)


def record_attempts(
    connection: Connection, updates: Sequence[tuple[int, int, Mapping[str, Any]]], now: datetime
) -> None:
    """Write the attempts among `updates` (delivery id, attempt number, outcome values) that did not succeed.

    A row given back unsent (released, held by a daily cap) made no attempt: its count goes back down,
    so it is left out. A hand retry starts a delivery's attempt count again (the retry policy gives it
    its attempts anew) while its history stays: the numbers then go on after the last one kept."""
    failed = [
        (delivery_id, number, values)
        for delivery_id, number, values in updates
        if values["state"] not in SUCCEEDED and values.get("attempts", number) == number
    ]
    if not failed:
        return
    kept = _last_numbers(connection, [delivery_id for delivery_id, _, _ in failed])
    rows = [
        {
            "delivery_id": delivery_id,
            "number": max(number, kept.get(delivery_id, 0) + 1),
            "at": now,
            "outcome": values["state"],
            "reason": mask_secrets(values["reason"]) if values.get("reason") else None,
            "response": mask_secrets(values["response"][:2000]) if values.get("response") else None,
        }
        for delivery_id, number, values in failed
    ]
    connection.execute(_INSERT, rows)


def _last_numbers(connection: Connection, delivery_ids: list[int]) -> dict[int, int]:
    """The highest attempt number kept per delivery (only failures get here, so the query stays small)."""
    query = (
        select(DeliveryAttempt.delivery_id, func.max(DeliveryAttempt.number))
        .where(DeliveryAttempt.delivery_id.in_(sorted(set(delivery_ids))))
        .group_by(DeliveryAttempt.delivery_id)
    )
    return {delivery_id: number for delivery_id, number in connection.execute(query).all()}


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime | None
    outcome: str  # the delivery's state after this attempt: pending means it was to be tried again
    reason: str | None
    response: str | None  # the provider's raw answer, secrets masked


def histories(session: Session, deliveries: Iterable[Delivery]) -> dict[int, list[Attempt]]:
    """Each delivery's attempts in order, by delivery id: one indexed query for all of them."""
    wanted = {delivery.id: delivery for delivery in deliveries}
    found: dict[int, list[Attempt]] = defaultdict(list)
    if not wanted:
        return {}
    query = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(sorted(wanted)))
        .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
    )
    for row in session.scalars(query):
        found[row.delivery_id].append(Attempt(row.number, row.at, row.outcome, row.reason, row.response))
    return {
        delivery_id: found[delivery_id] + _final(delivery, found[delivery_id])
        for delivery_id, delivery in wanted.items()
    }


def _final(delivery: Delivery, before: list[Attempt]) -> list[Attempt]:
    """The successful last attempt, which is the delivery row itself — unless the last attempt kept is the
    one that ended well: unanswered at the time, then settled by a delivery report or a look-up."""
    if delivery.state not in _ENDED_WELL:
        return []
    if before:
        last = before[-1]
        settled_later = last.outcome == DeliveryState.UNKNOWN or (
            last.outcome == DeliveryState.PENDING and delivery.attempts == last.number
        )
        if settled_later or delivery.attempts == 0:
            return []
    number = max(delivery.attempts, before[-1].number + 1 if before else 1)
    return [Attempt(number, delivery.done_at, delivery.state, delivery.reason, None)]
