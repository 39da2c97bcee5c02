"""Accounts, roles and API tokens: who is acting, and what they may do.

A role is a set of permission strings (listmonk's manner). The built-in roles below are data; an
operation asks for one permission (`Actor.require`) and the message of a refusal names it.
Passwords are hashed with Argon2id; API tokens are long random strings of which only a SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import case, delete, event, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broadcaster.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    UserError,
)
from broadcaster.models import Account, AccountStation, ApiToken, AuditEntry, LoginFailures, Station

PERMISSIONS: dict[str, str] = {
    "campaigns:read": "see campaigns, their previews, deliveries, status and audit log",
    "campaigns:draft": "write campaigns and submit them for approval",
    "campaigns:approve": "approve or return submitted campaigns, cancel campaigns",
    "campaigns:send": "send now, retry failures, pause and resume sending",
    "directory:read": "see the directory",
    "directory:manage": "import the directory",
    "channels:manage": "check and configure channels",
    "users:manage": "create and disable accounts and their tokens",
    "station:confirm": "see a station's scripts and confirm they aired",
}

ROLES: dict[str, frozenset[str]] = {
    "drafter": frozenset({"campaigns:read", "campaigns:draft", "directory:read"}),
    "approver": frozenset({"campaigns:read", "campaigns:approve", "directory:read"}),
    "operator": frozenset(
        {"campaigns:read", "campaigns:send", "directory:read", "directory:manage", "channels:manage"}
    ),
    "admin": frozenset(PERMISSIONS),
    "station": frozenset({"station:confirm"}),
}

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "bct_"
LAST_USE_PRECISION = timedelta(minutes=1)

# Unicode categories a name may not contain: controls, invisible format characters (zero-width spaces,
# joiners, direction marks and overrides, BOM), surrogates, private-use and unassigned code points.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters that show as nothing though they are letters or symbols: the Unicode default-ignorables (Hangul
# fillers U+3164, U+115F, U+FFA0, the combining grapheme joiner U+034F…) are asked of ICU; this one is not one.
_BLANK_LOOKING = {"\u2800"}  # BRAILLE PATTERN BLANK


def _invisible(character: str) -> bool:
    import icu  # PyICU: the Unicode character database of ICU, and its UTS #39 confusables

    return (
        unicodedata.category(character) in _REFUSED_CATEGORIES
        or character in _BLANK_LOOKING
        or bool(icu.Char.hasBinaryProperty(character, icu.UProperty.DEFAULT_IGNORABLE_CODE_POINT))
    )


def _refuse_invisible(text: str, what: str) -> None:
    for character in text:
        if _invisible(character):
            raise UserError(
                f"the {what} contains an invisible, direction or control character (U+{ord(character):04X}); "
                "type it again without it"
            )


def normalise_login(text: str) -> str:
    """One spelling per person: NFKC (so fullwidth `ｂｏｂ` is `bob`), case-folded, trimmed, inner spaces
    collapsed; refuses invisible, direction and control characters."""
    _refuse_invisible(text, "account name")
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    login = " ".join(folded.split())
    if not login:
        raise UserError("the account name is empty")
    if len(login) > 100:
        raise UserError("the account name is longer than 100 characters")
    return login


def normalise_display_name(text: str, fallback: str) -> str:
    """The name shown to people: trimmed, spaces collapsed, without invisible or direction characters."""
    _refuse_invisible(text, "display name")
    name = " ".join(unicodedata.normalize("NFC", text).split()) or fallback
    if len(name) > 200:
        raise UserError("the display name is longer than 200 characters")
    return name


def skeleton(login: str) -> str:
    """The UTS #39 skeleton of a name: two names with one skeleton look alike (Latin `alice`, Cyrillic `аlice`)."""
    import icu

    return str(icu.SpoofChecker().getSkeleton(0, login))


def _refuse_look_alike(session: Session, login: str) -> None:
    mine = skeleton(login)
    for other in session.scalars(select(Account.login)):
        if other != login and skeleton(other) == mine:
            raise UserError(
                f"the account name '{login}' looks like the existing account '{other}': choose a name "
                "nobody can mistake for another"
            )


@dataclass(frozen=True)
class Actor:
    """Who is acting in one operation: an account with its permissions, and where the request came from."""

    login: str
    permissions: frozenset[str]
    account_id: int | None = None
    display_name: str = ""
    station_ids: frozenset[int] = field(default_factory=frozenset)
    client: str | None = None  # the client's address, for web and API actions

    @classmethod
    def for_account(cls, account: Account, client: str | None = None) -> Actor:
        return cls(
            login=account.login,
            permissions=ROLES.get(account.role, frozenset()),
            account_id=account.id,
            display_name=account.display_name,
            station_ids=frozenset(link.station_id for link in account.station_links),
            client=client,
        )

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Refuse, naming the permission, when the account's role does not grant it."""
        if permission not in self.permissions:
            raise PermissionDenied(
                f"'{self.login}' may not do this: it needs the permission {permission} "
                f"({PERMISSIONS.get(permission, permission)})",
                permission,
            )


# Commands run on the server's own terminal without --as: whoever runs them holds the database anyway.
# They may read and import the directory; changing a campaign still needs a named account.
TERMINAL_LOGIN = "terminal"
TERMINAL = Actor(login=TERMINAL_LOGIN, permissions=frozenset(PERMISSIONS))


# ---- the audit log names the account and the client address ------------------------------------


def bind_actor(session: Session, actor: Actor) -> None:
    """Audit entries written in this session are linked to the actor's account and client address."""
    session.info["actor"] = actor


@event.listens_for(Session, "before_flush")
def _link_audit_entries(session: Session, _context: Any, _instances: Any) -> None:
    entries = [item for item in session.new if isinstance(item, AuditEntry) and item.account_id is None]
    if not entries:
        return
    bound = session.info.get("actor")
    for entry in entries:
        if isinstance(bound, Actor) and bound.login == entry.actor:
            entry.account_id, entry.client = bound.account_id, entry.client or bound.client
        else:  # core code writing under an account's login (the scheduler writes under its own name)
            with session.no_autoflush:
                entry.account_id = session.scalar(select(Account.id).where(Account.login == entry.actor))


# ---- accounts -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher  # imported here: a command that does not log anyone in starts faster

    return PasswordHasher().hash(password)  # Argon2id with the library's recommended parameters


def _password_matches(stored: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise UserError("the password is longer than 1024 characters")
    return password


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"'{role}' is not a role; choose one of {', '.join(ROLES)}")
    return role


def find_account(session: Session, name: str) -> Account:
    login = normalise_login(name)
    account = session.scalar(select(Account).where(Account.login == login))
    if account is None:
        raise NotFound(f"there is no account '{login}'")
    return account


def acting_account(session: Session, name: str, client: str | None = None) -> Actor:
    """The actor behind `--as NAME`: an existing account that is not disabled."""
    account = find_account(session, name)
    if account.disabled:
        raise AuthenticationFailed(f"the account '{account.login}' is disabled")
    return Actor.for_account(account, client)


def create_account(
    session: Session,
    name: str,
    role: str,
    *,
    password: str | None,
    display_name: str | None = None,
    stations: list[str] | None = None,
) -> Account:
    login = normalise_login(name)
    check_role(role)
    if login == TERMINAL_LOGIN:
        raise UserError(f"'{TERMINAL_LOGIN}' names commands run without --as; choose another account name")
    if session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise UserError(f"an account '{login}' already exists")
    _refuse_look_alike(session, login)
    if role == "station" and not stations:
        raise UserError("a station account speaks for stations: name them with --station SLUG")
    if role != "station" and stations:
        raise UserError("only a station account is tied to stations (use --role station)")
    account = Account(
        login=login,
        display_name=normalise_display_name(display_name or name, login),
        role=role,
        password_hash=hash_password(check_new_password(password)) if password is not None else None,
        disabled=False,
    )
    for slug in stations or []:
        station_id = session.scalar(select(Station.id).where(Station.slug == slug))
        if station_id is None:
            raise NotFound(f"there is no station '{slug}'")
        account.station_links.append(AccountStation(station_id=station_id))
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, name: str, password: str) -> Account:
    account = find_account(session, name)
    account.password_hash = hash_password(check_new_password(password))
    return account


def set_disabled(session: Session, name: str, disabled: bool) -> Account:
    account = find_account(session, name)
    account.disabled = disabled
    return account


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.login)))


# ---- password logins, slowed after repeated failures -------------------------------------------
#
# Three counters, each a row of `login_failures` updated in one atomic statement, so that N guesses sent at
# once count N on both databases:
#   pair:<login>|<address>   guesses at one account from one address: after PAIR_FREE, each waits longer
#   address:<address>        guesses from one address at any account (spraying): after ADDRESS_FREE
#   account:<login>          guesses at one account from anywhere: after ACCOUNT_FREE the account is "under
#                            attack", which slows every address that has failed on it, but never one that has
#                            not: its owner, signing in from their usual place with the right password, gets in.
# A try is counted before its password is checked (and given back when it was right), so a burst cannot have
# more passwords checked than the counters allow. A refused try is not counted and does not re-arm the wait.

PAIR_FREE = 5
FREE_FAILURES = PAIR_FREE  # tries one address has at one account before it must wait
ADDRESS_FREE = 20
ACCOUNT_FREE = 10
LONGEST_WAIT = timedelta(minutes=15)
FORGOTTEN_AFTER = timedelta(hours=1)  # a counter with no failure for this long starts again from nothing


@dataclass(frozen=True)
class _Counter:
    key: str
    free: int
    whom: str  # for the refusal's sentence


def _wait_after(failures: int, free: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - free + 1)), LONGEST_WAIT)


def _counters(login: str, address: str | None) -> tuple[_Counter, _Counter | None, _Counter]:
    where = address or "unknown"
    pair = _Counter(f"pair:{login}|{where}"[:300], PAIR_FREE, "this account from this address")
    by_address = _Counter(f"address:{address}"[:300], ADDRESS_FREE, "this address") if address else None
    return pair, by_address, _Counter(f"account:{login}"[:300], ACCOUNT_FREE, "this account")


def _refusal(counter: _Counter, until: datetime, now: datetime) -> TooManyAttempts:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return TooManyAttempts(f"too many failed logins for {counter.whom}: try again in {seconds} seconds", seconds)


def _count(
    book: Session, counter: _Counter, now: datetime, *, obey_wait: bool = True
) -> tuple[int, datetime | None] | None:
    """Add one try to the counter in one statement, unless it says to wait and `obey_wait` (then None): (the new
    count, the wait it held). The statement locks the row on PostgreSQL and takes the write lock on SQLite, so
    tries sent at once are counted one after the other, each seeing the wait the one before it set."""
    stale = LoginFailures.last_failure_at < now - FORGOTTEN_AFTER
    free = or_(stale, LoginFailures.blocked_until.is_(None), LoginFailures.blocked_until <= now)
    insert = postgresql_insert if book.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LoginFailures)
        .values(key=counter.key, failures=1, last_failure_at=now, blocked_until=None)
        .on_conflict_do_update(
            index_elements=[LoginFailures.key],
            set_={"failures": case((stale, 1), else_=LoginFailures.failures + 1), "last_failure_at": now},
            where=free if obey_wait else None,
        )
        .returning(LoginFailures.failures, LoginFailures.blocked_until)
    )
    row = book.execute(statement).first()
    return None if row is None else (int(row[0]), row[1])


def _block(book: Session, counter: _Counter, until: datetime) -> None:
    book.execute(update(LoginFailures).where(LoginFailures.key == counter.key).values(blocked_until=until))


def _blocked_until(book: Session, counter: _Counter) -> datetime:
    until = book.scalar(select(LoginFailures.blocked_until).where(LoginFailures.key == counter.key))
    assert until is not None  # a counter refuses only while it has a wait
    return until


def _reserve(book: Session, login: str, address: str | None, now: datetime) -> None:
    """Count this try, or refuse it while one of its counters says to wait. A refused try is rolled back
    whole: it counts nowhere and re-arms no wait."""
    pair, by_address, account = _counters(login, address)
    counted: dict[str, int] = {}
    for counter in (pair, by_address):
        if counter is None:
            continue
        result = _count(book, counter, now)
        if result is None:
            raise _refusal(counter, _blocked_until(book, counter), now)
        counted[counter.key] = result[0]
    result = _count(book, account, now, obey_wait=False)  # its wait holds back only addresses that failed here
    assert result is not None
    counted[account.key], attack = result[0], result[1] if result[1] is not None and result[1] > now else None
    if attack is not None and counted[pair.key] > 1:  # under attack, and this address has failed here already
        raise _refusal(account, attack, now)
    for counter in (pair, by_address, account):
        if counter is None:
            continue
        wait = _wait_after(counted[counter.key], counter.free)
        if counter is pair and attack is not None:
            wait = max(wait, attack - now)  # while the account is under attack: one try per address per wait
        if wait:
            _block(book, counter, now + wait)


def _give_back(book: Session, login: str, address: str | None) -> None:
    """The try was the right password: this address's failures at the account are forgotten, and the try
    counted on the address and the account is given back."""
    pair, by_address, account = _counters(login, address)
    book.execute(delete(LoginFailures).where(LoginFailures.key == pair.key))
    for counter in (by_address, account):
        if counter is not None:
            book.execute(
                update(LoginFailures)
                .where(LoginFailures.key == counter.key, LoginFailures.failures > 0)
                .values(failures=LoginFailures.failures - 1)
            )


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def authenticate_password(session: Session, name: str, password: str, address: str | None, now: datetime) -> Account:
    """The account whose password this is, or one sentence.

    Unknown names are checked against a dummy hash, so the time an answer takes does not tell which accounts
    exist. The counters are kept in a transaction of their own, committed whatever this login's caller does.
    """
    try:
        login = normalise_login(name)
    except UserError:
        _password_matches(_dummy_hash(), password)
        raise AuthenticationFailed("wrong account name or password") from None
    with Session(bind=session.get_bind()) as book, book.begin():
        _reserve(book, login, address, now)
    account = session.scalar(select(Account).where(Account.login == login))
    stored = account.password_hash if account is not None else None
    if not _password_matches(stored or _dummy_hash(), password) or account is None or stored is None:
        raise AuthenticationFailed("wrong account name or password")
    with Session(bind=session.get_bind()) as book, book.begin():
        _give_back(book, login, address)
    if account.disabled:
        raise AuthenticationFailed(f"the account '{account.login}' is disabled")
    account.last_login_at = now
    return account


# ---- API tokens ---------------------------------------------------------------------------------


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    id: int
    name: str
    token: str  # shown once; only its digest is stored
    expires_at: datetime | None


def create_token(
    session: Session, account: Account, name: str, now: datetime, expires_at: datetime | None = None
) -> NewToken:
    label = " ".join(name.split())
    if not label or len(label) > 100:
        raise UserError("give the token a name of 1 to 100 characters (what or who will use it)")
    if expires_at is not None and expires_at <= now:
        raise UserError("the token's expiry is in the past")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(account_id=account.id, name=label, digest=token_digest(plain), created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    return NewToken(row.id, row.name, plain, expires_at)


def revoke_token(session: Session, token_id: int, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"there is no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def account_tokens(session: Session, account: Account) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)))


def authenticate_token(session: Session, token: str, now: datetime) -> Account:
    """The account a bearer token stands for, or one sentence saying why it does not count."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == token_digest(token)))
    if row is None:
        raise AuthenticationFailed("the API token is not known")
    if row.revoked_at is not None:
        raise AuthenticationFailed("the API token was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise AuthenticationFailed("the API token has expired")
    if row.account.disabled:
        raise AuthenticationFailed(f"the account '{row.account.login}' is disabled")
    if row.last_used_at is None or now - row.last_used_at > LAST_USE_PRECISION:
        row.last_used_at = now  # at most once a minute, so reading the API does not write on every request
    return row.account
