"""The `broadcaster` command: thin commands over the core modules."""

from __future__ import annotations

import typer

from broadcaster.cli import campaigns, cap, delivery, demo, directory, serve, stations, users
from broadcaster.cli.common import friendly, out, settings
from broadcaster.db import shown_url, upgrade

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
app.command()(demo.demo)
app.add_typer(users.app, name="user")
app.command()(serve.serve)
delivery.register(app)


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Create the schema or bring it up to date."""
    from broadcaster.cli.common import engine

    upgrade(engine(create=True))
    out.print(f"database {shown_url(settings().database_url)} is up to date")


def main() -> None:
    app()


channels_app = typer.Typer(help="Channel adapters and their settings.", no_args_is_help=True)
app.add_typer(channels_app, name="channels")


@channels_app.command("check")
@friendly
def channels_check() -> None:
    """Build every channel from its settings and show them (secrets masked); a wrong setting is one sentence."""
    from rich.table import Table

    from broadcaster.errors import ConfigurationError
    from channels.base import configured_adapter, describe_options, registered_channels

    table = Table(title="channels")
    for column in ("channel", "recipients", "settings", "limits"):
        table.add_column(column)
    problems = []
    for name in sorted(registered_channels()):
        try:
            adapter = configured_adapter(name, settings().output_dir)
        except ConfigurationError as exc:
            problems.append(f"{name}: {exc}")
            continue
        shown = ", ".join(f"{key}={value}" for key, value in describe_options(adapter.options).items())
        limits = adapter.limits
        table.add_row(
            name, adapter.recipient_kind.plural, shown, f"batch {limits.max_batch}, {limits.rate_per_second:g}/s"
        )
        adapter.close()
    out.print(table)
    if problems:
        raise ConfigurationError("; ".join(problems))
