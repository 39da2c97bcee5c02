"""Accounts as an administrator manages them from the console: add, disable or enable, reset a password.

Each change is audited, and disabling an account or resetting its password ends its console sign-ins at
once (a stolen session must not outlive the reset).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from broadcaster import accounts
from broadcaster.accounts import Actor, bind_actor
from broadcaster.campaigns import lifecycle
from broadcaster.clock import system_now
from broadcaster.errors import UserError
from broadcaster.models import Account, ConsoleSession


def revoke_sessions(session: Session, account_id: int) -> None:
    session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.account_id == account_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=system_now())
    )


def add_account(
    session: Session,
    actor: Actor,
    login: str,
    role: str,
    password: str,
    display_name: str | None = None,
    stations: list[str] | None = None,
) -> Account:
    actor.require("users:manage")
    bind_actor(session, actor)
    account = accounts.create_account(
        session, login, role, password=password, display_name=display_name, stations=stations
    )
    lifecycle.record(session, None, actor.login, "add-account", account=account.login, role=role)
    return account


def set_disabled(session: Session, actor: Actor, login: str, disabled: bool) -> Account:
    actor.require("users:manage")
    if disabled and accounts.normalise_login(login) == actor.login:
        raise UserError("you cannot disable your own account: ask another administrator")
    bind_actor(session, actor)
    account = accounts.set_disabled(session, login, disabled)
    if disabled:
        revoke_sessions(session, account.id)
    lifecycle.record(
        session, None, actor.login, "disable-account" if disabled else "enable-account", account=account.login
    )
    return account


def reset_password(session: Session, actor: Actor, login: str, password: str) -> Account:
    actor.require("users:manage")
    bind_actor(session, actor)
    account = accounts.set_password(session, login, password)
    revoke_sessions(session, account.id)
    lifecycle.record(session, None, actor.login, "reset-password", account=account.login)
    return account
