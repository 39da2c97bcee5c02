"""`broadcaster user …`: accounts, their roles and API tokens. Passwords are typed or piped, never arguments."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from broadcaster.cli.common import AsOption, friendly, local_actor, out, settings, unit_of_work
from broadcaster.errors import UserError

app = typer.Typer(help="Accounts: who may draft, approve, send and administer.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of an account (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(token_app, name="token")

# Written out so that the help needs no database layer; `accounts.check_role` is what decides.
RoleOption = Annotated[str, typer.Option("--role", help="One of: drafter, approver, operator, admin, station.")]


def read_password(confirm: bool = True) -> str:
    """From the terminal (typed twice, not echoed), or the first line of standard input when piped."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise UserError("no password on standard input: pipe it in, or run the command in a terminal")
        return line.rstrip("\r\n")
    password: str = typer.prompt("password", hide_input=True, confirmation_prompt=confirm)
    return password


@app.command("add")
@friendly
def add(
    name: Annotated[str, typer.Argument(help="Login name (case, spaces and Unicode spelling do not matter).")],
    role: RoleOption,
    display_name: Annotated[str | None, typer.Option("--display-name", help="The name shown to people.")] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", help="A station this account speaks for (role station).")
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="An account that signs in with API tokens only.")
    ] = False,
    as_: str | None = AsOption,
) -> None:
    """Create an account (audited). The password is asked for, or read from standard input."""
    from broadcaster import accounts
    from broadcaster.operations import accounts as operations

    accounts.check_role(role)
    login = accounts.normalise_login(name)
    who = local_actor(as_)
    password = None if no_password else read_password()
    with unit_of_work() as session:
        account = operations.add_account(
            session, who, login, role, password, display_name=display_name or name, stations=station
        )
        out.print(f"account '{account.login}' ({account.display_name}) created with the role {account.role}")


@app.command("list")
@friendly
def list_() -> None:
    """Every account: role, stations, whether disabled, last login."""
    from sqlalchemy import select

    from broadcaster import accounts
    from broadcaster.models import Station

    zone = settings().zone
    with unit_of_work() as session:
        table = Table(title="accounts")
        for column in ("account", "name", "role", "stations", "disabled", "last login", "tokens"):
            table.add_column(column)
        slugs = {row.id: row.slug for row in session.execute(select(Station.id, Station.slug))}
        for account in accounts.list_accounts(session):
            live = [t for t in accounts.account_tokens(session, account) if t.revoked_at is None]
            table.add_row(
                account.login,
                account.display_name,
                account.role,
                ", ".join(slugs.get(link.station_id, "?") for link in account.station_links),
                "yes" if account.disabled else "",
                f"{account.last_login_at.astimezone(zone):%Y-%m-%d %H:%M}" if account.last_login_at else "",
                str(len(live)),
            )
        out.print(table)


@app.command("disable")
@friendly
def disable(name: str, as_: str | None = AsOption) -> None:
    """Stop an account from signing in or acting (its tokens and console sign-ins stop working too)."""
    from broadcaster.operations import accounts as operations

    with unit_of_work() as session:
        account = operations.set_disabled(session, local_actor(as_), name, True)
    out.print(f"account '{account.login}' is disabled")


@app.command("enable")
@friendly
def enable(name: str, as_: str | None = AsOption) -> None:
    """Let a disabled account sign in and act again."""
    from broadcaster.operations import accounts as operations

    with unit_of_work() as session:
        account = operations.set_disabled(session, local_actor(as_), name, False)
    out.print(f"account '{account.login}' is enabled")


@app.command("password")
@friendly
def password(name: str, as_: str | None = AsOption) -> None:
    """Set an account's password (asked for, or read from standard input); its console sign-ins end."""
    from broadcaster import accounts
    from broadcaster.operations import accounts as operations

    with unit_of_work() as session:
        accounts.find_account(session, name)  # an unknown name is said before the password is asked for
    new = read_password()
    with unit_of_work() as session:
        account = operations.reset_password(session, local_actor(as_), name, new)
    out.print(f"the password of '{account.login}' is changed")


@token_app.command("create")
@friendly
def token_create(
    name: Annotated[str, typer.Argument(help="The account the token acts as.")],
    label: Annotated[str, typer.Option("--name", help="What or who will use the token.")] = "api",
    days: Annotated[
        int | None, typer.Option("--expires-days", min=1, max=3650, help="Expire after this many days.")
    ] = None,
    as_: str | None = AsOption,
) -> None:
    """Create an API token (audited); it is shown this once and only its hash is kept."""
    from broadcaster import accounts
    from broadcaster.operations import accounts as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        login = accounts.find_account(session, name).login
        now = settings().clock.now()
        expires = now + timedelta(days=days) if days is not None else None
        token = operations.create_token(session, who, login, label, now, expires)
    until = f", expires {token.expires_at.astimezone(settings().zone):%Y-%m-%d %H:%M}" if token.expires_at else ""
    out.print(f"token {token.id} '{token.name}' for '{login}'{until} (shown once; keep it secret):")
    out.print(token.token, markup=False)


@token_app.command("list")
@friendly
def token_list(name: str, as_: str | None = AsOption) -> None:
    """An account's tokens (never their values)."""
    from broadcaster import accounts
    from broadcaster.operations import accounts as operations

    zone = settings().zone
    who = local_actor(as_)
    with unit_of_work() as session:
        login = accounts.find_account(session, name).login
        rows = operations.list_tokens(session, who, login)
    table = Table(title=f"tokens of {login}")
    for column in ("id", "name", "created", "expires", "last used", "revoked"):
        table.add_column(column)
    for row in rows:
        shown = [row.created_at, row.expires_at, row.last_used_at, row.revoked_at]
        table.add_row(str(row.id), row.name, *(f"{at.astimezone(zone):%Y-%m-%d %H:%M}" if at else "" for at in shown))
    out.print(table)


@token_app.command("revoke")
@friendly
def token_revoke(
    token_id: Annotated[int, typer.Argument(min=1, max=2**62, help="The token's number (see 'user token list').")],
    as_: str | None = AsOption,
) -> None:
    """Revoke a token at once (audited)."""
    from broadcaster.operations import accounts as operations

    who = local_actor(as_)
    with unit_of_work() as session:
        row = operations.revoke_token(session, who, token_id, settings().clock.now())
    out.print(f"token {row.id} '{row.name}' of '{row.account}' is revoked")
