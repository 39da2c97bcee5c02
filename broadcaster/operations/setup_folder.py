"""A department's installation folder, prepared in one go (`broadcaster setup FOLDER`).

    FOLDER/.env                 the settings, with a generated secret (mode 0600: it holds the secret)
    FOLDER/var/broadcaster.db   the database, created and migrated (unless another database is named)
    FOLDER/var/out              where the embedded channels write until real gateways are configured
    FOLDER/content/templates    the shipped templates, the starting points the department edits

then the first administrator: with a password typed at the terminal, or without one and a one-time link
(`welcome_link`) that lets the person set it in the browser. Everything is run from the folder: the settings
use paths relative to it, so the folder can be moved or backed up whole.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import accounts, audit
from broadcaster.db import make_engine, make_sessions, normalise_url, shown_url, transaction, upgrade
from broadcaster.errors import UserError
from broadcaster.models import Account
from broadcaster.operations import accounts as account_operations
from broadcaster.settings import shipped_dir

WELCOME_VALID_FOR = timedelta(days=3)
SQLITE_IN_FOLDER = "sqlite:///var/broadcaster.db"


@dataclass(frozen=True)
class Prepared:
    folder: Path
    database: str  # shown with any password masked
    admin: str
    welcome_link: str | None  # when no password was given


def settings_text(database_url: str, public_url: str, secret: str) -> str:
    """The settings file: what a department sets first, each with what it is for."""
    return f"""# broadcaster settings for this installation (made by 'broadcaster setup'). Run every broadcaster
# command from this folder: the paths below are relative to it. config/.env.example lists every setting.

# The database: this folder's SQLite file, or PostgreSQL for many workers
# (postgresql://broadcaster:PASSWORD@db.example:5432/broadcaster).
BROADCASTER_DATABASE_URL={database_url}
BROADCASTER_TIMEZONE=Asia/Ho_Chi_Minh
BROADCASTER_DATA_DIR=var
BROADCASTER_OUTPUT_DIR=var/out
# The templates the campaigns are written from (copied here from the shipped ones: edit them freely).
BROADCASTER_CONTENT_DIR=content

# The address people and gateways reach the console at: it goes into links (the citizens' page, station
# portal links, delivery-report callbacks). Behind a reverse proxy, its https address.
BROADCASTER_PUBLIC_URL={public_url}
# BROADCASTER_WEB_HOST=127.0.0.1
# BROADCASTER_WEB_PORT=8000
# Signs console sessions, station links and callback tokens. Keep it secret; changing it signs everyone out.
BROADCASTER_SECRET_KEY={secret}

# Until these are set the channels write files under var/out instead of sending ('broadcaster channels
# check' shows what each channel would use). E-mail through the department's SMTP server:
# BROADCASTER_EMAIL_MODE=smtp
# BROADCASTER_EMAIL_HOST=mail.example.gov.vn
# BROADCASTER_EMAIL_PORT=587
# BROADCASTER_EMAIL_USERNAME=
# BROADCASTER_EMAIL_PASSWORD=
# BROADCASTER_EMAIL_SENDER=
# SMS through a gateway (esms, speedsms or generic-json) and its brandname:
# BROADCASTER_SMS_DIALECT=esms
# BROADCASTER_SMS_API_KEY=
# BROADCASTER_SMS_SECRET_KEY=
# BROADCASTER_SMS_BRANDNAME=
# Facebook pages: one token per page, named in the pages' directory file (token_secret column):
# BROADCASTER_FACEBOOK_MODE=graph
# BROADCASTER_FACEBOOK_TOKEN_TAY_NINH=
"""


def _refuse_used_folder(folder: Path) -> None:
    if (folder / ".env").exists():
        raise UserError(
            f"{folder} already holds an installation (its .env): choose a new folder, or run "
            "'broadcaster db upgrade' in it to bring its database up to date"
        )
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder: name a new folder for the installation")


def _write_private(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _database_for(folder: Path, database_url: str | None) -> str:
    """The URL the tools use from inside this process (the file's absolute path for the folder's SQLite)."""
    if database_url is None:
        return f"sqlite:///{folder / 'var' / 'broadcaster.db'}"
    normalise_url(database_url)  # a wrong URL is a sentence before anything is written
    return database_url


def prepare(
    folder: Path,
    *,
    admin: str,
    password: str | None,
    public_url: str,
    database_url: str | None = None,
    now: datetime,
) -> Prepared:
    """Make the installation folder and its first administrator; nothing is left behind when it fails."""
    folder = folder.resolve()
    _refuse_used_folder(folder)
    login = accounts.normalise_login(admin)
    if password is not None:
        accounts.check_new_password(password)
    here = _database_for(folder, database_url)
    made_folder = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _fill(folder, login, password, public_url.rstrip("/"), here, database_url, now)
    except BaseException:
        _undo(folder, made_folder)
        raise


def _fill(
    folder: Path, login: str, password: str | None, public_url: str, here: str, given: str | None, now: datetime
) -> Prepared:
    (folder / "var" / "out").mkdir(parents=True)
    shutil.copytree(shipped_dir("content") / "templates", folder / "content" / "templates")
    secret = secrets.token_urlsafe(48)
    engine = make_engine(here)
    try:
        upgrade(engine)
        with transaction(make_sessions(engine)) as session:
            if session.scalar(select(Account.id).limit(1)) is not None:
                raise UserError(
                    f"the database at {shown_url(engine.url)} already has accounts: set up a new folder on an "
                    "empty database, or use that installation's folder"
                )
            account = account_operations.add_account(
                session, accounts.TERMINAL, login, "admin", password, display_name=login
            )
            link = None if password is not None else welcome_link(public_url, secret.encode(), account, now)
    finally:
        engine.dispose()
    _write_private(folder / ".env", settings_text(given or SQLITE_IN_FOLDER, public_url, secret))
    return Prepared(folder, shown_url(here), login, link)


def _undo(folder: Path, made_folder: bool) -> None:
    """What this run made goes again (a database named elsewhere keeps its schema: migrations are harmless)."""
    if made_folder:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for name in ("var", "content"):
        shutil.rmtree(folder / name, ignore_errors=True)
    (folder / ".env").unlink(missing_ok=True)


# ---- the one-time link that lets the first administrator choose a password in the browser ---------------------


def _signature(secret: bytes, account: Account, until: int) -> str:
    # Bound to the password as it is now: once a password is set, the link no longer opens anything.
    material = f"welcome|{account.id}|{until}|{account.password_hash or '-'}"
    return hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def welcome_token(secret: bytes, account: Account, now: datetime) -> str:
    until = int((now + WELCOME_VALID_FOR).timestamp())
    return f"{account.id}.{until}.{_signature(secret, account, until)}"


def welcome_link(public_url: str, secret: bytes, account: Account, now: datetime) -> str:
    return f"{public_url.rstrip('/')}/chao-mung/{welcome_token(secret, account, now)}"


def welcomed_account(session: Session, secret: bytes, token: str, now: datetime) -> Account:
    """The account a welcome link opens, while it is valid and no password has been set; else a sentence."""
    refused = UserError("this link is not valid (any more): ask an administrator for a new one")
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise refused
    account = session.get(Account, int(parts[0]))
    until = int(parts[1])
    if account is None or account.disabled or until < now.timestamp():
        raise refused
    if not hmac.compare_digest(parts[2], _signature(secret, account, until)):
        raise refused
    return account


def finish_welcome(session: Session, secret: bytes, token: str, password: str, now: datetime) -> Account:
    """Set the password a welcome link was made for (audited); the link then opens nothing."""
    account = welcomed_account(session, secret, token, now)
    actor = accounts.Actor.for_account(account, None)
    accounts.bind_actor(session, actor)
    account.password_hash = accounts.hash_password(accounts.check_new_password(password))
    audit.record(session, None, account.login, "set-first-password", account=account.login)
    return account
