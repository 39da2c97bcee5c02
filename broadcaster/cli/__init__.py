"""The `broadcaster` command: thin commands over the core modules."""

from __future__ import annotations

import typer

from broadcaster.cli import campaigns, demo, directory
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
app.command()(friendly(campaigns.audit))
app.command()(demo.demo)


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Create the schema or bring it up to date."""
    from broadcaster.cli.common import engine

    upgrade(engine())
    out.print(f"database {shown_url(settings().database_url)} is up to date")


def main() -> None:
    app()
