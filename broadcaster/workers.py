"""Workers: claim due deliveries, render them, send them through the channel, record each outcome.

A claim is a lease. A worker that dies leaves leases that expire; the rows are then claimed again,
so a delivery is sent twice only when a send was in flight at the moment of death (and not even
then where the provider honours the idempotency key). Retry is data: `RetryPolicy` decides when,
the row carries the time; nothing sleeps in a loop but the shared pace (`broadcaster.pacing`).
"""

from __future__ import annotations

import errno
import json
import logging
import threading
import time as clock
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    Table,
    Text,
    Update,
    and_,
    bindparam,
    case,
    cast,
    column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.types import TypeEngine

from broadcaster import audit
from broadcaster.attempts import record_attempts
from broadcaster.campaigns.versions import ContentRefused, NoApprovedVersion, SendingComposer, approved_version
from broadcaster.counts import SQLITE_AREA, SQLITE_LISTS, Moved, count_moves
from broadcaster.credentials import DatabaseCredentials
from broadcaster.db import transaction
from broadcaster.errors import ConfigurationError, UserError
from broadcaster.fallback import hand_on
from broadcaster.installation import installation_id, report_url
from broadcaster.masking import mask_secrets
from broadcaster.models import (
    DONE,
    REPORTABLE,
    Campaign,
    CampaignChannel,
    Delivery,
    DeliveryState,
    Occurrence,
    delivery_key,
)
from broadcaster.outbox import TEST_RANK, WORKER, claim_occurrence, expand, skip_expired
from broadcaster.pacing import SharedPace
from broadcaster.policy import (
    CAP_SPAN,
    RetryPolicy,
    cap_frees_at,
    cap_reason,
    held_until,
    may_send_condition,
    pace_for,
    within_window,
)
from broadcaster.rendering import TemplateProblem
from broadcaster.settings import Settings
from broadcaster.signing import signing_secret
from broadcaster.storable import Unstorable, problem
from channels.base import (
    Bulletin,
    ChannelAdapter,
    ChannelError,
    ConfirmsPosts,
    KeepsCredentials,
    Outcome,
    PermanentError,
    Recipient,
    RecipientFacts,
    RecipientKind,
    ReportsDelivery,
    Result,
    configured_adapter,
    facts_from_json,
)

log = logging.getLogger(__name__)


# ---- claiming -----------------------------------------------------------------------------------------


class Claimed(NamedTuple):
    """A leased row, as the lease's UPDATE returned it (a tuple: one is made per message)."""

    id: int
    occurrence_id: int
    address: str
    name: str | None
    locale: str | None
    details: str | None  # the recipient's facts as the row keeps them (JSON)
    attempts: int
    rank: int
    ambiguous: bool = False  # an earlier attempt's fate is unknown: it may have gone out


def _candidates(dialect: str, channel: str, emergencies_only: bool) -> Select[int]:
    """Deliveries of a channel whose campaign may send and whose channel is not paused."""
    query = (
        select(Delivery.id)
        .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
        .join(Campaign, Campaign.id == Occurrence.campaign_id)
        .join(CampaignChannel, and_(CampaignChannel.campaign_id == Campaign.id, CampaignChannel.channel == channel))
        .where(
            Delivery.channel == channel,
            Delivery.done_at.is_(None),  # the claim index's own condition, so both databases use it
            or_(may_send_condition(), Delivery.rank == TEST_RANK),  # a draft's test send goes to staff phones
        )
    )
    if emergencies_only:
        query = query.where(Delivery.rank == 0)
    if dialect == "postgresql":
        query = query.with_for_update(of=Delivery, skip_locked=True)
    return query


def claim(
    session: Session,
    channel: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    emergencies_only: bool = False,
) -> list[Claimed]:
    """Lease up to `limit` due rows of a channel whose campaign may send; expired leases are due too.

    Expired leases and due pending rows are looked up apart: each lookup then walks the claim index in
    order and stops at the limit, where one lookup with OR would sort the whole outbox every time.
    Each is one UPDATE of the rows its subquery picks, returning them. On SQLite the due rows' move from
    pending to sending is counted here, once for the batch (`count_moves`); an expired lease stays sending.
    """
    dialect = session.get_bind().dialect.name
    values = {"now": now, "owner": owner, "until": now + lease, "limit": limit}
    connection = session.connection()  # Core: these rows are never loaded as ORM objects
    claimed = _leased(connection.execute(_lease_statement(dialect, channel, emergencies_only, expired=True), values))
    if len(claimed) < limit:
        values["limit"] = limit - len(claimed)
        due = connection.execute(_lease_statement(dialect, channel, emergencies_only, expired=False), values).all()
        if dialect == "sqlite":
            count_moves(connection, DeliveryState.PENDING, [_moved(row) for row in due])
            claimed += [Claimed._make(row[:_CLAIMED]) for row in due]
        else:
            claimed += [Claimed._make(row) for row in due]
    return sorted(claimed, key=_CLAIM_ORDER)


_CLAIMED = len(Claimed._fields)
_CLAIM_ORDER = attrgetter("rank", "id")  # in C: a lambda per row cost more than the sort


def _moved(row: Any) -> Moved:
    """A leased row as `count_moves` counts it: what the self-counting lease returns after its Claimed fields."""
    return (row.occurrence_id, row[_CLAIMED], row[_CLAIMED + 1], DeliveryState.SENDING)


@lru_cache(maxsize=64)
def _lease_statement(dialect: str, channel: str, emergencies_only: bool, *, expired: bool) -> Update:
    """The UPDATE that leases rows, built once per channel (building it per claim cost more than running it)."""
    candidates = _candidates(dialect, channel, emergencies_only)
    if expired:
        candidates = candidates.where(Delivery.state == DeliveryState.SENDING, Delivery.lease_until < bindparam("now"))
    else:
        candidates = candidates.where(
            Delivery.state == DeliveryState.PENDING, Delivery.due_at <= bindparam("now")
        ).order_by(Delivery.rank, Delivery.due_at)
    # The picked ids are a materialised CTE: as a plain subquery, PostgreSQL may run a LIMIT … SKIP LOCKED
    # pick more than once within one UPDATE and lease more rows than asked for.
    picked = candidates.limit(bindparam("limit")).cte("picked").prefix_with("MATERIALIZED", dialect="postgresql")
    # A lease that ran out without a result: the worker may have died mid-send, so that attempt's fate is unknown.
    values: dict[str, Any] = {"ambiguous": True} if expired else {}
    # On SQLite, the due rows' move to sending is counted by `claim`, not by the triggers (migration 0030).
    self_counted = dialect == "sqlite" and not expired
    if self_counted:
        values["count_mark"] = Delivery.count_mark + 1
    return (
        update(Delivery)
        .where(Delivery.id.in_(select(picked.c.id)))
        .values(
            state=DeliveryState.SENDING,
            lease_owner=bindparam("owner"),
            lease_until=bindparam("until"),
            attempts=Delivery.attempts + 1,
            **values,
        )
        .returning(
            Delivery.id,
            Delivery.occurrence_id,
            Delivery.address,
            Delivery.name,
            Delivery.locale,
            cast(Delivery.details, Text),
            Delivery.attempts,
            Delivery.rank,
            Delivery.ambiguous,
            *((SQLITE_AREA, SQLITE_LISTS) if self_counted else ()),
        )
    )


def _leased(rows: CursorResult[Any]) -> list[Claimed]:
    return [Claimed._make(row) for row in rows.all()]


@lru_cache(maxsize=4096)
def _facts(kind: RecipientKind, raw: str | None) -> RecipientFacts:
    """Recipients' facts read once per distinct row value: a fan-out repeats a handful (the districts)."""
    return facts_from_json(kind, json.loads(raw) if raw else None)  # a JSON column may hold the JSON null


# A scheduled message not yet out at its time is asked about again this much later, doubling each time it
# is still not confirmed (the answer unreadable, or not published yet), at most CONFIRM_LONGEST; after
# CONFIRM_TRIES such answers (about 8 hours) it ends `unknown` with the provider's last answer kept.
CONFIRM_AGAIN = timedelta(minutes=5)
CONFIRM_LONGEST = timedelta(hours=3)
CONFIRM_TRIES = 8


def _not_confirmed(look_ups: int, now: datetime, said: str, answer: str | None) -> dict[str, Any]:
    """A scheduled message the provider did not confirm this time: asked again later, backing off, or after
    CONFIRM_TRIES answers like this one, `unknown` with the provider's last answer (masked by the adapter)."""
    if look_ups + 1 >= CONFIRM_TRIES:
        reason = (
            f"the provider never confirmed that the scheduled message went out ({look_ups + 1} times asked): {said}"
        )
        return {"state": DeliveryState.UNKNOWN, "reason": reason, "response": answer, "done_at": now}
    wait = min(CONFIRM_AGAIN * 2**look_ups, CONFIRM_LONGEST)
    return {"due_at": now + wait, "look_ups": look_ups + 1, "reason": said, "response": answer}


# ---- outcomes -----------------------------------------------------------------------------------------

_FINAL_STATES = {
    Outcome.SENT: DeliveryState.SENT,
    Outcome.ACCEPTED: DeliveryState.ACCEPTED,
    Outcome.SCHEDULED: DeliveryState.SCHEDULED,
    Outcome.INVALID_RECIPIENT: DeliveryState.INVALID,
    Outcome.REJECTED: DeliveryState.REJECTED,
}


def outcome_values(
    result: Result, attempts: int, policy: RetryPolicy, now: datetime, *, ambiguous: bool = False
) -> dict[str, Any]:
    """The row's new state from one result: final, or pending again with its retry time.

    `ambiguous` says an earlier attempt of this delivery went unanswered (it may have gone out). Then a
    provider's "duplicate key" is our own message (accepted), and running out of attempts ends `unknown`,
    not `failed`. Without one, a duplicate key is someone else's (another installation, an older
    database): a refusal, never an acceptance.
    """
    values: dict[str, Any] = {
        "provider_id": result.provider_id,
        "reason": result.reason or None,
        "lease_owner": None,
        "lease_until": None,
        "ambiguous": ambiguous or result.ambiguous,
        "response": result.response,
    }
    if result.duplicate:
        if ambiguous:
            reason = f"{result.reason}: by our own earlier attempt, which went unanswered"
            return {**values, "state": DeliveryState.ACCEPTED, "reason": reason, "done_at": now}
        reason = f"{result.reason}, though not by this installation: another installation or database uses the key"
        return {**values, "state": DeliveryState.REJECTED, "reason": reason, "done_at": now}
    if result.outcome in _FINAL_STATES:
        return {**values, "state": _FINAL_STATES[result.outcome], "done_at": now}
    retry_at = policy.retry_at(attempts, now, result.retry_after) if result.retryable else None
    if retry_at is None:
        reason = result.reason if not result.retryable else f"{result.reason} (gave up after {attempts} attempts)"
        if values["ambiguous"]:
            reason += "; an attempt went unanswered, so it may have been delivered"
            return {**values, "state": DeliveryState.UNKNOWN, "reason": reason, "done_at": now}
        return {**values, "state": DeliveryState.FAILED, "reason": reason, "done_at": now}
    return {**values, "state": DeliveryState.PENDING, "due_at": retry_at}


# A delivery report that came before the outcome was written (it is kept on the row) wins over an
# outcome that leaves the message's fate open: accepted, unknown, failed, or pending a retry.
_REPORTED_FIRST = and_(bindparam("reportable"), Delivery.report.is_not(None))
_OUTCOME: dict[str, Any] = {
    "state": case((_REPORTED_FIRST, Delivery.report), else_=bindparam("state")),
    "reason": case(
        (and_(_REPORTED_FIRST, Delivery.report == DeliveryState.UNDELIVERED), Delivery.report_reason),
        else_=bindparam("reason"),
    ),
    "lease_owner": None,
    "lease_until": None,
    "ambiguous": bindparam("ambiguous"),
    "response": bindparam("response"),
}
# One UPDATE writes a group of rows that share an outcome (state, reason, answer); what differs per row comes
# from a list joined to the rows by id: the provider's message id, and the times and attempt count, which
# differ between messages sent one request each (each has its own `now`). On PostgreSQL a VALUES list, built
# once per length (constructing a statement per write cost more than running it; both databases name a VALUES
# list's columns column1, column2, …), each value bound with its column's type, so that a column NULL in
# every row (done_at of rows to be tried again) is typed as its target, not as text. On SQLite one JSON
# array of such rows, read by json_each: one parameter instead of five a row, which the driver and
# SQLAlchemy would otherwise handle one by one; its times written as SQLite keeps them.
_PER_ROW: tuple[tuple[str, TypeEngine[Any]], ...] = (
    ("row", Delivery.id.type),
    ("provider", Delivery.provider_id.type),
    ("due", Delivery.due_at.type),
    ("done", Delivery.done_at.type),
    ("attempts", Delivery.attempts.type),
)
_PER_STATEMENT = 500
_DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
_PROVIDER_ID_LENGTH = Delivery.provider_id.type.length or 0


def _given(listed: TextClause) -> CTE:
    """The rows' own values, as columns column1 (the row's id) to column5 (its attempt count)."""
    columns = [column(f"column{number}", kind) for number, (_, kind) in enumerate(_PER_ROW, start=1)]
    return listed.columns(*columns).cte("given")


def _per_row_outcome(given: CTE) -> dict[str, Any]:
    _, provider_id, due_at, done_at, attempts = given.c
    now = bindparam("now", type_=Delivery.done_at.type)
    return {
        **_OUTCOME,
        "provider_id": provider_id,
        "due_at": due_at,
        "done_at": case((_REPORTED_FIRST, now), else_=done_at),
        "attempts": attempts,
    }


@lru_cache(maxsize=_PER_STATEMENT)
def _record_statement(rows: int) -> Update:
    """The outcome UPDATE for `rows` rows listed in a VALUES list (PostgreSQL, whose triggers count it)."""
    listed = ", ".join("(" + ", ".join(f":{name}_{index}" for name, _ in _PER_ROW) + ")" for index in range(rows))
    typed = [bindparam(f"{name}_{index}", type_=kind) for index in range(rows) for name, kind in _PER_ROW]
    given = _given(text(f"VALUES {listed}").bindparams(*typed))
    return _outcome_update(given).values(**_per_row_outcome(given))


def _sqlite_record_statement() -> Update:
    """The outcome UPDATE for the rows of one JSON array (SQLite). It marks them and returns what
    `count_moves` needs: the triggers leave the move from sending to the caller, which counts the batch."""
    picked = ", ".join(f"json_extract(value, '$[{index}]') AS column{index + 1}" for index in range(len(_PER_ROW)))
    given = _given(text(f"SELECT {picked} FROM json_each(:given)"))
    return (
        _outcome_update(given)
        .values(**_per_row_outcome(given), count_mark=Delivery.count_mark + 1)
        .returning(Delivery.occurrence_id, SQLITE_AREA, SQLITE_LISTS, Delivery.state)
    )


def _outcome_update(given: Any) -> Update:
    return update(Delivery).where(
        Delivery.id == given.c.column1,
        Delivery.lease_owner == bindparam("owner"),
        Delivery.state == DeliveryState.SENDING,  # a row with a lease is sending: the move counted is from there
    )


_SQLITE_RECORD = _sqlite_record_statement()


def record(session: Session, owner: str, updates: Sequence[tuple[Claimed, dict[str, Any]]], now: datetime) -> None:
    """Write outcomes; a row whose lease went to another worker meanwhile is left to that worker.

    Set-based: the rows that share an outcome (a batch a gateway accepted, each with its own message id)
    are written by one statement, so a provider batch costs one UPDATE and, for the attempts that did not
    succeed, one INSERT.
    """
    if not updates:
        return
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row, values in updates:
        reason, response, provider_id = values.get("reason"), values.get("response"), values.get("provider_id")
        if provider_id is not None and (len(provider_id) > _PROVIDER_ID_LENGTH or "\0" in provider_id):
            raise Unstorable(problem(_DELIVERIES, "provider_id", provider_id) or "the provider's message id")
        outcome = (
            values["state"],
            mask_secrets(reason) if reason else None,  # a provider's answer may quote a URL with its key
            values.get("ambiguous", row.ambiguous),
            mask_secrets(response[:2000]) if response else None,
        )
        per_row = (
            row.id,
            provider_id,
            values.get("due_at", now),
            values.get("done_at"),
            values.get("attempts", row.attempts),
        )
        groups[outcome].append(per_row)
    connection = session.connection()
    self_counted = connection.dialect.name == "sqlite"
    moved: list[Moved] = []
    record_attempts(connection, [(row.id, row.attempts, values) for row, values in updates], now)
    for (state, reason, ambiguous, response), rows in groups.items():
        shared = {
            "owner": owner,
            "state": state,
            "reason": reason,
            "ambiguous": ambiguous,
            "response": response,
            "reportable": state in REPORTABLE,
            "now": now,
        }
        if self_counted:
            time = _stored_time(connection.dialect)
            given = json.dumps([(*ids, time(due), time(done), attempts) for *ids, due, done, attempts in rows])
            moved += connection.execute(_SQLITE_RECORD, {"given": given, **shared}).all()
            continue
        for start in range(0, len(rows), _PER_STATEMENT):
            part = rows[start : start + _PER_STATEMENT]
            listed = {
                f"{name}_{index}": value
                for index, values in enumerate(part)
                for (name, _), value in zip(_PER_ROW, values, strict=True)
            }
            connection.execute(_record_statement(len(part)), {**listed, **shared})
    if self_counted:
        count_moves(connection, DeliveryState.SENDING, moved)


def _stored_time(dialect: Dialect) -> Callable[[datetime | None], Any]:
    """A time as the dialect's driver is given it for a time column (SQLite: its text form)."""
    return Delivery.due_at.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)


def release(session: Session, owner: str, rows: Sequence[Claimed], reason: str, now: datetime) -> None:
    """Give rows back unsent, as if never claimed (the attempt does not count)."""
    record(
        session,
        owner,
        [(row, {"state": DeliveryState.PENDING, "reason": reason, "attempts": row.attempts - 1}) for row in rows],
        now,
    )


def pause_channel(session: Session, occurrence_ids: set[int], channel: str, reason: str) -> list[str]:
    """Stop a channel of the campaigns these occurrences belong to, saying why; returns the campaigns."""
    reason = mask_secrets(reason)
    campaigns = session.scalars(
        select(Campaign)
        .join(Occurrence, Occurrence.campaign_id == Campaign.id)
        .where(Occurrence.id.in_(occurrence_ids))
    ).unique()
    paused = []
    for campaign in campaigns:
        for item in campaign.channels:
            if item.channel == channel and not item.paused:
                item.paused, item.pause_reason = True, reason
                audit.record(session, campaign, WORKER, "pause-channel", channel=channel, reason=reason)
                paused.append(campaign.slug)
    return paused


# ---- when a worker cannot go on ---------------------------------------------------------------------

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


class WorkerStopped(UserError):
    """A worker cannot go on: the disk is full, the database is gone, or something unexpected broke.
    The process stops (non-zero) rather than run on without that worker."""


def why_stopped(exc: BaseException) -> str:
    """One sentence on why a worker had to stop."""
    if isinstance(exc, WorkerStopped):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        return f"the disk is full: {exc.strerror} writing {exc.filename or 'a file'}"
    if isinstance(exc, DBAPIError):
        return f"the database could not be written or read: {str(exc.orig).strip()}"
    return f"an unexpected error, {type(exc).__name__}: {exc}"


# ---- the worker ---------------------------------------------------------------------------------------


@dataclass
class WorkerStats:
    sent: int = 0
    batches: int = 0
    expanded: int = 0
    by_outcome: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Worker:
    """Expands pending occurrences and sends due deliveries for some channels, until told to stop."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        channels: Sequence[str],
        name: str,
        stop: threading.Event | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.name = name
        self.stop = stop or threading.Event()
        self.wake = wake or threading.Event()
        self.policy = RetryPolicy.of(settings)
        self.lease = timedelta(seconds=settings.lease_seconds)
        self.adapters: dict[str, ChannelAdapter] = {
            c: configured_adapter(c, settings.output_dir, settings.clock) for c in channels
        }
        self.paces = {}
        for channel, adapter in self.adapters.items():
            pace = pace_for(settings, channel, adapter.limits.rate_per_second)
            self.paces[channel] = SharedPace(sessions, pace.name, pace.rate, self.stop.wait)
        with sessions() as session:
            self.installation = installation_id(session)
        keeping = [a for a in self.adapters.values() if isinstance(a, KeepsCredentials) and a.keeps_credentials]
        if keeping:
            # A token that turns over (a Zalo OA's) is kept in the database, for every worker to share.
            store = DatabaseCredentials(sessions, signing_secret(settings), settings.clock)
            for adapter in keeping:
                adapter.credentials = store
        for channel, adapter in self.adapters.items():
            if isinstance(adapter, ReportsDelivery) and adapter.reports_delivery:
                adapter.report_url = report_url(settings, self.installation, channel)
        # occurrence → its composer, fire time, slot and the version number it renders
        self.composers: OrderedDict[int, tuple[SendingComposer, datetime, str | None, int]] = OrderedDict()
        self._versions: dict[int, int | None] = {}  # occurrence → its campaign's approved version, at claim
        self._unrecorded: list[tuple[Claimed, dict[str, Any]]] = []
        self.stats = WorkerStats()
        self._next_look = 0.0
        self._next_hand_on = 0.0

    # -- the loop --

    def run(self) -> WorkerStats:
        try:
            self._open_adapters()
            while not self.stop.is_set():
                if not self.step():
                    self.wake.wait(self.settings.poll_seconds)
                    self.wake.clear()
        finally:
            for adapter in self.adapters.values():
                adapter.close()
            for pace in self.paces.values():
                pace.close()
        return self.stats

    def _open_adapters(self) -> None:
        """Connect where an adapter connects ahead. A server that is down or refuses the login now is
        met again at the first send, where its failure is retried or pauses the channel with the reason."""
        for channel, adapter in self.adapters.items():
            try:
                adapter.open()
            except ChannelError as exc:
                log.warning("%s: %s; trying again when there is something to send", channel, exc.reason)

    def step(self) -> bool:
        """One unit of work: expand an occurrence, or send one claimed batch. False when idle.

        While there is sending to do, new occurrences are looked for once per poll interval (so an
        emergency waits no longer than that behind a fan-out); when there is none, at once.
        """
        if clock.monotonic() >= self._next_look and self._look_for_occurrences():
            return True
        worked = False
        for channel in self.adapters:
            if self.stop.is_set():
                break
            worked |= self.send_due(channel)
        return worked or self._look_for_occurrences()

    def _look_for_occurrences(self) -> bool:
        self._next_look = clock.monotonic() + self.settings.poll_seconds
        for channel in self.adapters:
            self.confirm_scheduled(channel)
        return self.expand_one() or self._hand_on() > 0

    def _hand_on(self) -> int:
        """Recipients a channel could not reach, to its fallback: every `fallback_seconds` (each look reads
        the rows still waiting for their report, a fan-out's worth)."""
        if clock.monotonic() < self._next_hand_on:
            return 0
        self._next_hand_on = clock.monotonic() + self.settings.fallback_seconds
        return hand_on(self.sessions, self.settings, self.settings.clock.now())

    # -- messages handed over to go out later --

    def confirm_scheduled(self, channel: str) -> int:
        """Ask the provider about scheduled messages whose time has come: published (sent), gone
        (rejected), or not yet (asked again later). Returns how many were settled."""
        adapter = self.adapters[channel]
        if not isinstance(adapter, ConfirmsPosts):
            return 0  # nothing of this channel is ever scheduled: no query over its (many) rows
        now = self.settings.clock.now()
        with self.sessions() as session:
            due = session.execute(
                select(
                    Delivery.id,
                    Delivery.address,
                    Delivery.name,
                    Delivery.details,
                    Delivery.provider_id,
                    Delivery.look_ups,
                )
                .where(Delivery.channel == channel, Delivery.state == DeliveryState.SCHEDULED, Delivery.due_at <= now)
                .order_by(Delivery.due_at)
                .limit(20)
            ).all()
        settled = 0
        for row_id, address, name, details, provider_id, look_ups in due:
            recipient = Recipient(address, facts_from_json(adapter.recipient_kind, details), name or "")
            try:
                result = adapter.confirm(provider_id or "", recipient)
            except ChannelError as exc:
                log.warning("%s: %s", channel, exc.reason, extra={"action": "confirm"})
                values = _not_confirmed(look_ups or 0, now, exc.reason, exc.response)
            else:
                if result is None:
                    values = _not_confirmed(look_ups or 0, now, "not published yet after its time", None)
                else:
                    values = {"state": _FINAL_STATES[result.outcome], "reason": result.reason or None, "done_at": now}
            settled += "done_at" in values
            with transaction(self.sessions) as session:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id == row_id, Delivery.state == DeliveryState.SCHEDULED)
                    .values(**values)
                )
        return settled

    def drain(self, timeout: float = 60.0) -> WorkerStats:
        """Work until nothing is due (for tests, the demo and benchmarks)."""
        deadline = clock.monotonic() + timeout
        self._open_adapters()
        try:
            busy = True
            while busy and clock.monotonic() < deadline and not self.stop.is_set():
                busy = self.step()
        finally:
            for adapter in self.adapters.values():
                adapter.close()
            for pace in self.paces.values():
                pace.close()
        return self.stats

    # -- expansion --

    def expand_one(self) -> bool:
        now = self.settings.clock.now()
        with transaction(self.sessions) as session:
            skip_expired(session, self.settings, now)
            occurrence_id = claim_occurrence(session, self.name, now, self.lease)
        if occurrence_id is None:
            return False
        self.stats.expanded += expand(self.sessions, self.settings, occurrence_id)
        return True

    # -- sending --

    def send_due(self, channel: str) -> bool:
        adapter = self.adapters[channel]
        now = self.settings.clock.now()
        outside = not within_window(self.settings, channel, now)
        with transaction(self.sessions) as session:
            rows = claim(session, channel, self.name, now, self.lease, self.settings.claim_batch, outside)
            rows = self._apply_daily_cap(session, channel, rows, now)
            self._versions = _approved_versions(session, {row.occurrence_id for row in rows}) if rows else {}
        if not rows:
            return False
        size = max(1, adapter.limits.max_batch)
        start = 0
        try:
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                if self.stop.is_set():
                    self._flush()
                    with transaction(self.sessions) as session:
                        release(
                            session,
                            self.name,
                            rows[start:],
                            "the worker stopped before sending it",
                            self.settings.clock.now(),
                        )
                    break
                if not self._send_chunk(channel, adapter, chunk):
                    with transaction(self.sessions) as session:
                        release(
                            session,
                            self.name,
                            rows[start + size :],
                            "the channel was paused",
                            self.settings.clock.now(),
                        )
                    break
        except BaseException as exc:
            self._give_back(rows[start:], exc)
            raise
        self._flush()
        self.paces[channel].give_back()
        return True

    def _give_back(self, rows: list[Claimed], exc: BaseException) -> None:
        """The worker is stopping on an error: record what was sent, release the claims not sent. If the
        database itself refuses (disk full), the leases expire and the rows are claimed again."""
        try:
            self._flush()
            with transaction(self.sessions) as session:
                release(
                    session,
                    self.name,
                    rows,
                    f"the worker stopped before sending it: {why_stopped(exc)}",
                    self.settings.clock.now(),
                )
        except Exception as second:
            log.error(
                "could not release %d claimed deliveries (%s); they are sent again when their lease ends in %g s",
                len(rows),
                why_stopped(second),
                self.lease.total_seconds(),
            )

    def _flush(self) -> None:
        """Write the outcomes not yet written, in one transaction."""
        if self._unrecorded:
            with transaction(self.sessions) as session:
                record(session, self.name, self._unrecorded, self.settings.clock.now())
            self._unrecorded = []

    def _send_chunk(self, channel: str, adapter: ChannelAdapter, chunk: list[Claimed]) -> bool:
        """Send one provider batch and record it; False when the channel had to be paused."""
        bulletins = []
        for row in chunk:
            try:
                bulletins.append(self._bulletin(row))
            except (TemplateProblem, ConfigurationError, ContentRefused, NoApprovedVersion) as exc:
                # Only the campaign whose text cannot go out stops; the others' rows are claimed again.
                return self._stop_channel(channel, chunk, str(exc), {row.occurrence_id})
        self.paces[channel].take(len(chunk))
        try:
            results = adapter.send(bulletins)
        except PermanentError as exc:
            return self._stop_channel(channel, chunk, exc.reason)
        except ChannelError as exc:
            results = [
                Result.failed(
                    b.key,
                    exc.reason,
                    retryable=True,
                    retry_after=exc.retry_after,
                    ambiguous=exc.ambiguous,
                    response=exc.response,
                )
                for b in bulletins
            ]
        except Exception as exc:  # an adapter bug must not kill the worker or lose the rows
            if isinstance(exc, OSError) and exc.errno in NO_SPACE:
                # Every message would fail the same way: stop, rather than burn the whole list's retries.
                raise WorkerStopped(why_stopped(exc)) from exc
            log.exception("the %s adapter failed", channel, extra={"action": "send"})
            results = [Result.failed(b.key, f"internal error: {type(exc).__name__}", retryable=True) for b in bulletins]
        by_key = {result.key: result for result in results}
        now = self.settings.clock.now()
        updates = []
        # A final outcome's values differ between the rows of a batch only by the provider's message id: they
        # are worked out once per kind of answer (a retry's are per row, each with its own jitter).
        finals: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row, item in zip(chunk, bulletins, strict=True):
            result = by_key.get(item.key) or Result.failed(item.key, "the channel gave no result", retryable=True)
            if result.outcome in _FINAL_STATES and result.outcome != Outcome.SCHEDULED:
                kind = (
                    result.outcome,
                    result.reason,
                    result.duplicate,
                    result.ambiguous,
                    result.response,
                    row.ambiguous,
                )
                shared = finals.get(kind)
                if shared is None:
                    shared = finals[kind] = outcome_values(
                        result, row.attempts, self.policy, now, ambiguous=row.ambiguous
                    )
                values = {**shared, "provider_id": result.provider_id}
            else:
                values = outcome_values(result, row.attempts, self.policy, now, ambiguous=row.ambiguous)
                if result.outcome == Outcome.SCHEDULED:
                    values["due_at"] = confirm_at(item.fire_at)
            updates.append((row, values))
            self.stats.by_outcome[result.outcome.value] += 1
        # Outcomes are written in groups: one transaction per message would cost more than the send.
        self._unrecorded += updates
        if len(self._unrecorded) >= self.settings.record_every:
            self._flush()
        self.stats.batches += 1
        self.stats.sent += sum(1 for _, values in updates if values["state"] in DONE)
        return True

    def _stop_channel(self, channel: str, chunk: list[Claimed], reason: str, culprits: set[int] | None = None) -> bool:
        self._flush()
        with transaction(self.sessions) as session:
            paused = pause_channel(session, culprits or {row.occurrence_id for row in chunk}, channel, reason)
            release(session, self.name, chunk, f"channel paused: {reason}", self.settings.clock.now())
        log.error("paused %s for %s: %s", channel, ", ".join(paused), reason, extra={"action": "pause"})
        return False

    def _bulletin(self, row: Claimed) -> Bulletin:
        composer, fire_at, slot, _ = self._composer(row.occurrence_id)
        facts = _facts(composer.adapter.recipient_kind, row.details)
        recipient = Recipient(row.address, facts, row.name or "", row.locale)
        key = delivery_key(row.occurrence_id, row.address, self.installation)
        # Whether an earlier attempt went unanswered: an adapter that looks before posting again needs it.
        return composer.compose(key, recipient, fire_at, slot, row.attempts, row.ambiguous)

    def _composer(self, occurrence_id: int) -> tuple[SendingComposer, datetime, str | None, int]:
        """Templates are compiled once per occurrence and approved version, and kept for the fan-out;
        a campaign approved again since (a new version) gets a new composer."""
        cached = self.composers.get(occurrence_id)
        if cached is not None and cached[3] == self._versions.get(occurrence_id, cached[3]):
            self.composers.move_to_end(occurrence_id)
            return cached
        with self.sessions() as session:
            occurrence = session.get(Occurrence, occurrence_id)
            assert occurrence is not None
            campaign = occurrence.campaign
            if occurrence.content is not None:  # a test send of a draft: the content it was sent with
                composer = SendingComposer(
                    occurrence.content, "the draft", occurrence.channel, self.settings, test=True
                )
                number = 0
            else:
                version = approved_version(session, campaign)
                if version is None:
                    raise NoApprovedVersion(
                        f"campaign '{campaign.slug}' has no approved version (it was approved before versions "
                        "were kept): return it to draft, submit and approve it again"
                    )
                described = f"version {version.number}"
                composer = SendingComposer(version.content, described, occurrence.channel, self.settings)
                number = version.number
            entry = (composer, occurrence.fire_at.astimezone(self.settings.zone), occurrence.slot, number)
        self.composers[occurrence_id] = entry
        while len(self.composers) > 64:
            self.composers.popitem(last=False)
        return entry

    def _apply_daily_cap(self, session: Session, channel: str, rows: list[Claimed], now: datetime) -> list[Claimed]:
        """At most the channel's daily cap of messages to one address in 24 hours (DOMAIN §5: 3 SMS),
        whatever the number of workers; emergencies are exempt (and count).

        Runs in the claim's transaction, after the claim. Other workers' claims in flight count as sent
        now. The claims are serialised per address: on SQLite by the database's one writer (the claim's
        UPDATE came first), on PostgreSQL by a transaction advisory lock per address, taken in order, so
        a worker counting an address sees every claim of it committed before.
        """
        cap = self.settings.daily_caps.get(channel, 0)
        addresses = sorted({row.address for row in rows if row.rank > 0})
        if cap <= 0 or not addresses:
            return rows
        _lock_addresses(session, channel, addresses)
        done, in_flight = _counted_sends(session, channel, addresses, self.name, now)
        allowed, held = [], []
        for row in rows:
            frees = cap_frees_at(cap, done[row.address], in_flight[row.address], now) if row.rank > 0 else None
            if frees is None:
                in_flight[row.address].append(now + self.lease)
                allowed.append(row)
            else:
                due = held_until(self.settings, channel, frees)
                values = {"state": DeliveryState.PENDING, "due_at": due, "attempts": row.attempts - 1}
                held.append((row, {**values, "reason": cap_reason(cap, channel)}))
        record(session, self.name, held, now)
        return allowed


def confirm_at(publish_at: datetime) -> datetime:
    """When to ask whether a scheduled message went out: a minute after its time."""
    return publish_at + timedelta(minutes=1)


def _approved_versions(session: Session, occurrence_ids: set[int]) -> dict[int, int | None]:
    """The approved version of each occurrence's campaign now: one small query per claimed batch."""
    query = (
        select(Occurrence.id, Campaign.approved_version)
        .join(Campaign, Campaign.id == Occurrence.campaign_id)
        .where(Occurrence.id.in_(occurrence_ids))
    )
    return {occurrence_id: version for occurrence_id, version in session.execute(query)}


# Advisory locks of the daily cap live in their own space of PostgreSQL's two-number locks.
_CAP_LOCKS = 0x63617073
_LOCK_ADDRESSES = text(
    "SELECT count(pg_advisory_xact_lock(:space, k)) FROM "
    "(SELECT hashtext(a) AS k FROM unnest(CAST(:keys AS text[])) AS a ORDER BY k) AS ordered"
)


def _lock_addresses(session: Session, channel: str, addresses: Sequence[str]) -> None:
    """Serialise the cap's count per address among PostgreSQL workers (SQLite has one writer already)."""
    if session.get_bind().dialect.name == "postgresql":
        keys = [f"{channel}:{address}" for address in addresses]
        session.connection().execute(_LOCK_ADDRESSES, {"space": _CAP_LOCKS, "keys": keys})


def _counted_sends(
    session: Session, channel: str, addresses: Sequence[str], owner: str, now: datetime
) -> tuple[defaultdict[str, list[datetime]], defaultdict[str, list[datetime]]]:
    """Per address: when its messages of the last day went, and until when other workers' live claims hold."""
    query = select(Delivery.address, Delivery.state, Delivery.done_at, Delivery.lease_until).where(
        Delivery.channel == channel,
        Delivery.address.in_(addresses),
        Delivery.rank != TEST_RANK,  # test sends to staff phones never count against the cap
        or_(
            and_(Delivery.state.in_(DONE), Delivery.done_at > now - CAP_SPAN),
            and_(Delivery.state == DeliveryState.SENDING, Delivery.lease_until > now, Delivery.lease_owner != owner),
        ),
    )
    done: defaultdict[str, list[datetime]] = defaultdict(list)
    in_flight: defaultdict[str, list[datetime]] = defaultdict(list)
    for address, state, done_at, lease_until in session.execute(query):
        if state == DeliveryState.SENDING:
            in_flight[address].append(lease_until or now)
        else:
            done[address].append(done_at or now)
    return done, in_flight
