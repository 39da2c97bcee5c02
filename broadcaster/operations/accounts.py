"""Accounts and their API tokens, whichever face asks (the command line, the API, the console): add, disable
or enable, reset a password; create, list and revoke tokens.

Each change is audited. Disabling an account or resetting its password ends its console sign-ins and revokes
its API tokens at once (a stolen session or token must not outlive the reset). A person manages their own
tokens; an administrator (`users:manage`) anyone's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broadcaster import accounts, audit
from broadcaster.accounts import Actor, NewToken, bind_actor
from broadcaster.clock import system_now
from broadcaster.errors import NotFound, PermissionDenied, UserError
from broadcaster.models import Account, ApiToken, ConsoleSession


def revoke_sessions(session: Session, account_id: int) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=system_now())
    )


def revoke_tokens(session: Session, account_id: int) -> int:
    """Revoke every live token of the account; how many there were."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=system_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def add_account(
    session: Session,
    actor: Actor,
    login: str,
    role: str,
    password: str | None,
    display_name: str | None = None,
    stations: list[str] | None = None,
) -> Account:
    """A new account (password None: it signs in with API tokens only)."""
    actor.require("users:manage")
    bind_actor(session, actor)
    account = accounts.create_account(
        session, login, role, password=password, display_name=display_name, stations=stations
    )
    audit.record(session, None, actor.login, "add-account", account=account.login, role=role)
    return account


def set_disabled(session: Session, actor: Actor, login: str, disabled: bool) -> Account:
    actor.require("users:manage")
    if disabled and accounts.normalise_login(login) == actor.login:
        raise UserError("you cannot disable your own account: ask another administrator")
    bind_actor(session, actor)
    account = accounts.set_disabled(session, login, disabled)
    revoked = 0
    if disabled:
        revoke_sessions(session, account.id)
        revoked = revoke_tokens(session, account.id)
    action = "disable-account" if disabled else "enable-account"
    audit.record(session, None, actor.login, action, account=account.login, **_revoked(revoked))
    return account


def reset_password(session: Session, actor: Actor, login: str, password: str) -> Account:
    actor.require("users:manage")
    bind_actor(session, actor)
    account = accounts.set_password(session, login, password)
    revoke_sessions(session, account.id)
    revoked = revoke_tokens(session, account.id)
    audit.record(session, None, actor.login, "reset-password", account=account.login, **_revoked(revoked))
    return account


def _revoked(count: int) -> dict[str, int]:
    return {"tokens_revoked": count} if count else {}


# ---- API tokens -----------------------------------------------------------------------------------------


def _may_manage(actor: Actor, account: Account) -> None:
    """Refuse unless the account is the actor's own, or the actor administers accounts."""
    if account.id != actor.account_id and not actor.may("users:manage"):
        raise PermissionDenied(
            f"'{actor.login}' may manage only their own tokens: another account's need the permission users:manage",
            "users:manage",
        )


@dataclass(frozen=True)
class TokenRow:
    id: int
    account: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def _row(token: ApiToken) -> TokenRow:
    return TokenRow(
        token.id,
        token.account.login,
        token.name,
        token.created_at,
        token.expires_at,
        token.last_used_at,
        token.revoked_at,
    )


def create_token(
    session: Session, actor: Actor, login: str, name: str, now: datetime, expires_at: datetime | None = None
) -> NewToken:
    """A new token for the account, shown once (only its digest is kept); audited."""
    account = accounts.find_account(session, login)
    _may_manage(actor, account)
    if account.disabled:
        raise UserError(f"the account '{account.login}' is disabled: enable it before giving it a token")
    bind_actor(session, actor)
    token = accounts.create_token(session, account, name, now, expires_at)
    expires = expires_at.isoformat() if expires_at else None
    audit.record(
        session,
        None,
        actor.login,
        "create-token",
        account=account.login,
        token=token.id,
        name=token.name,
        expires=expires,
    )
    return token


def list_tokens(session: Session, actor: Actor, login: str | None = None) -> list[TokenRow]:
    """The tokens of one account (the actor's own by default), or of every account (`login` "*", administrators)."""
    query = select(ApiToken).order_by(ApiToken.account_id, ApiToken.id)
    if login == "*":
        actor.require("users:manage")
    else:
        account = accounts.find_account(session, login or actor.login)
        _may_manage(actor, account)
        query = query.where(ApiToken.account_id == account.id)
    return [_row(token) for token in session.scalars(query)]


def revoke_token(session: Session, actor: Actor, token_id: int, now: datetime) -> TokenRow:
    """Revoke a token at once (revoking it again changes nothing); audited."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.account_id != actor.account_id and not actor.may("users:manage")):
        raise NotFound(f"there is no token {token_id} of yours")  # another's token is not even said to exist
    bind_actor(session, actor)
    if token.revoked_at is None:
        accounts.revoke_token(session, token_id, now)
        audit.record(
            session, None, actor.login, "revoke-token", account=token.account.login, token=token.id, name=token.name
        )
    return _row(token)
