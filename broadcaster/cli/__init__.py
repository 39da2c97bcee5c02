"""The `broadcaster` command: thin commands over the core modules."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from broadcaster.cli import campaigns, cap, delivery, directory, serve, stations, users
from broadcaster.cli.common import AsOption, friendly, local_actor, out, settings
from broadcaster.errors import UserError

app = typer.Typer(
    help="Warning campaigns delivered on a timetable through e-mail, SMS, Facebook and radio.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(directory.app, name="directory")
app.add_typer(campaigns.app, name="campaign")
app.add_typer(cap.app, name="cap")
app.add_typer(stations.app, name="station")
app.command()(friendly(campaigns.audit))


@app.command("demo")
def demo() -> None:
    """Run the shipped campaigns through the real pipeline on a timetable compressed into about a minute."""
    from broadcaster.cli.demo import demo as run_demo  # the demo loads the whole pipeline: only when asked

    run_demo()


@app.command("setup")
@friendly
def setup(
    folder: Annotated[Path, typer.Argument(help="A new folder for the installation (made if missing).")],
    admin: Annotated[str, typer.Option("--admin", help="Login name of the first administrator.")] = "admin",
    public_url: Annotated[
        str, typer.Option("--public-url", help="The address people reach the console at (BROADCASTER_PUBLIC_URL).")
    ] = "http://127.0.0.1:8000",
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="A PostgreSQL database instead of the folder's SQLite file.")
    ] = None,
) -> None:
    """Prepare an installation folder: settings with a generated secret, the database, the templates and
    the first administrator (password asked here; without a terminal, a one-time link to set it in the browser)."""
    from broadcaster.cli.users import read_password
    from broadcaster.clock import system_now
    from broadcaster.operations.setup_folder import prepare

    password = read_password() if sys.stdin.isatty() else None
    prepared = prepare(
        folder, admin=admin, password=password, public_url=public_url, database_url=database_url, now=system_now()
    )
    out.print(f"installation prepared in {prepared.folder}")
    out.print(f"  settings      {prepared.folder / '.env'} (with a generated secret: keep it private)")
    out.print(f"  database      {prepared.database}, up to date")
    out.print(f"  templates     {prepared.folder / 'content' / 'templates'}")
    out.print(f"  administrator {prepared.admin}")
    if prepared.welcome_link is not None:
        out.print("open this link within 3 days to choose the administrator's password (it works once):")
        out.print(f"  {prepared.welcome_link}")
    out.print(f"run it:  cd {prepared.folder} && broadcaster run --web")


app.add_typer(users.app, name="user")
app.command()(serve.serve)
delivery.register(app)


@app.command("backup")
@friendly
def backup_command(
    file: Annotated[Path, typer.Argument(help="A new file for the copy.")],
) -> None:
    """A consistent copy of the SQLite database, made while the system runs (PostgreSQL: use pg_dump)."""
    from broadcaster.backup import backup

    made = backup(settings().database_url, file)
    out.print(f"database backed up to {made}")


@app.command("restore")
@friendly
def restore_command(
    file: Annotated[Path, typer.Argument(help="A file made by 'broadcaster backup'.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Confirm that the database is replaced by the backup.")
    ] = False,
) -> None:
    """Replace the SQLite database with a backup. Stop every broadcaster process first; then run 'db upgrade'."""
    from broadcaster.backup import restore

    if not replace:
        raise UserError(
            "restoring replaces the whole database with the backup: stop every broadcaster process, "
            "then run the command again with --replace"
        )
    target = restore(settings().database_url, file)
    out.print(f"database {target} restored from {file}; run 'broadcaster db upgrade' if the backup is older")


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Create the schema or bring it up to date."""
    from broadcaster.cli.common import engine
    from broadcaster.db import shown_url, upgrade

    upgrade(engine(create=True))
    out.print(f"database {shown_url(settings().database_url)} is up to date")


def main() -> None:
    app()


channels_app = typer.Typer(help="Channel adapters and their settings.", no_args_is_help=True)
app.add_typer(channels_app, name="channels")


@channels_app.command("check")
@friendly
def channels_check(as_: str | None = AsOption) -> None:
    """Build every channel from its settings and show them (secrets masked); a wrong setting is one sentence."""
    from rich.table import Table

    from broadcaster.errors import ConfigurationError
    from broadcaster.operations.channels import check_channels

    table = Table(title="channels")
    for column in ("channel", "recipients", "settings", "limits"):
        table.add_column(column)
    checks = check_channels(local_actor(as_), settings())
    for check in checks:
        if check.problem is None:
            shown = ", ".join(f"{key}={value}" for key, value in check.settings.items())
            limits = f"batch {check.max_batch}, {check.rate_per_second:g}/s"
            table.add_row(check.channel, check.recipients, shown, limits)
    out.print(table)
    problems = [f"{check.channel}: {check.problem}" for check in checks if check.problem is not None]
    if problems:
        raise ConfigurationError("; ".join(problems))


@channels_app.command("report-url")
@friendly
def channels_report_url(
    dialect: Annotated[str, typer.Argument(help="The gateway dialect: esms, speedsms or generic-json.")],
    channel: Annotated[str, typer.Option(help="The channel: sms, or zalo (its dialects: direct, esms).")] = "sms",
    as_: str | None = AsOption,
) -> None:
    """The address a provider sends delivery reports to (set it in its account, or Zalo's webhook in the app's
    settings). Keep it private."""
    from broadcaster.cli.common import unit_of_work
    from broadcaster.operations.channels import report_address

    with unit_of_work() as session:
        out.print(report_address(session, local_actor(as_), settings(), dialect, channel), soft_wrap=True)
