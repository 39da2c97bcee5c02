"""What every command shares: settings, the database, who is acting, and how errors are shown.

Imports of the database, settings and the core happen inside functions: `broadcaster --help` and the
commands that need little should not pay for SQLAlchemy, Alembic and Jinja2 before they start.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from broadcaster.errors import ConfigurationError, UserError
from broadcaster.masking import mask_secrets

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from broadcaster.accounts import Actor
    from broadcaster.problems import InvalidInput
    from broadcaster.settings import Settings

# soft_wrap: long lines stay whole when output goes to a file or a pipe.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
if not out.is_terminal:
    out.width = 160  # tables written to a file or a pipe are read whole, not on an 80-column screen

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    from broadcaster.settings import get_settings

    return get_settings()


@functools.lru_cache(maxsize=2)
def engine(create: bool = False) -> Engine:
    """The database; only commands that set it up (`db upgrade`, `demo`) create a missing SQLite file."""
    from broadcaster.db import make_engine

    return make_engine(settings().database_url, create=create)


def sessions() -> sessionmaker[Session]:
    from broadcaster.db import make_sessions, schema_is_current, shown_url

    current = engine()
    if not schema_is_current(current):
        raise UserError(
            f"the database at {shown_url(current.url)} is not set up or is out of date: run 'broadcaster db upgrade'"
        )
    return make_sessions(current)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    from broadcaster.db import transaction

    with transaction(sessions()) as session:
        yield session


def _named(given: str | None) -> str | None:
    name = given if given is not None else (settings().user or os.environ.get("BROADCASTER_USER"))
    return name if name and name.strip() else None


def actor(given: str | None) -> Actor:
    """Who is acting: --as, else BROADCASTER_USER; an existing account that is not disabled."""
    name = _named(given)
    if name is None:
        raise UserError("say who you are: add --as NAME or set BROADCASTER_USER (the audit log records it)")
    from broadcaster.accounts import acting_account

    with unit_of_work() as session:
        return acting_account(session, name)


def local_actor(given: str | None) -> Actor:
    """For reading and for the directory: the named account with its own permissions, else the terminal.

    Whoever runs a command on the server holds the database anyway; changes to campaigns still need a
    named account (`actor`), so that the two-person rule and the audit log have a person.
    """
    if _named(given) is None:
        from broadcaster.accounts import TERMINAL

        return TERMINAL
    return actor(given)


def report_problems(exc: InvalidInput) -> None:
    err.print(f"[bold red]error:[/] {shown(exc)}:")
    for problem in exc.problems:
        err.print(f"  - {shown(problem)}")


def shown(message: object) -> str:
    """A message as the terminal may show it: secrets masked, markup escaped."""
    return escape(mask_secrets(str(message)))


def _is_database_error(exc: Exception) -> bool:
    from sqlalchemy.exc import OperationalError

    return isinstance(exc, OperationalError)


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """User errors and configuration errors become one clear sentence on stderr and exit status 1; never a
    traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            err.print(f"[bold red]error:[/] {shown(exc)}")
        except UserError as exc:
            from broadcaster.problems import InvalidInput

            if isinstance(exc, InvalidInput):
                report_problems(exc)
            else:
                err.print(f"[bold red]error:[/] {shown(exc)}")
        except KeyboardInterrupt:
            err.print("interrupted; nothing was half-written")
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            reason = str(getattr(exc, "orig", exc)).strip()
            err.print(f"[bold red]error:[/] the database could not be used: {shown(reason)}")
        sys.exit(1)

    return wrapper


AsOption = typer.Option(None, "--as", help="The account acting (default: BROADCASTER_USER).")
