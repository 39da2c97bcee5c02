"""What every command shares: settings, the database, who is acting, and how errors are shown."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.db import make_engine, make_sessions, schema_is_current, shown_url, transaction
from broadcaster.errors import UserError
from broadcaster.masking import mask_secrets
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings, get_settings

# soft_wrap: long lines stay whole when output goes to a file or a pipe.
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
if not out.is_terminal:
    out.width = 160  # tables written to a file or a pipe are read whole, not on an 80-column screen

P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    return get_settings()


@functools.lru_cache(maxsize=2)
def engine(create: bool = False) -> Engine:
    """The database; only commands that set it up (`db upgrade`, `demo`) create a missing SQLite file."""
    return make_engine(settings().database_url, create=create)


def sessions() -> sessionmaker[Session]:
    current = engine()
    if not schema_is_current(current):
        raise UserError(
            f"the database at {shown_url(current.url)} is not set up or is out of date: run 'broadcaster db upgrade'"
        )
    return make_sessions(current)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    with transaction(sessions()) as session:
        yield session


def actor(given: str | None) -> str:
    """Who is acting: --as, else BROADCASTER_USER; an existing account that is not disabled.

    Returns the account's login name, the name the audit log and the two-person rule know it by.
    """
    name = given if given is not None else (settings().user or os.environ.get("BROADCASTER_USER"))
    if not name or not name.strip():
        raise UserError("say who you are: add --as NAME or set BROADCASTER_USER (the audit log records it)")
    from broadcaster.accounts import acting_account

    with unit_of_work() as session:
        return acting_account(session, name).login


def report_problems(exc: InvalidInput) -> None:
    err.print(f"[bold red]error:[/] {shown(exc)}:")
    for problem in exc.problems:
        err.print(f"  - {shown(problem)}")


def shown(message: object) -> str:
    """A message as the terminal may show it: secrets masked, markup escaped."""
    return escape(mask_secrets(str(message)))


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """User errors become one clear sentence on stderr and exit status 1; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except InvalidInput as exc:
            report_problems(exc)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {shown(exc)}")
        except OperationalError as exc:
            err.print(f"[bold red]error:[/] the database could not be used: {shown(str(exc.orig).strip())}")
        except KeyboardInterrupt:
            err.print("interrupted; nothing was half-written")
        sys.exit(1)

    return wrapper


AsOption = typer.Option(None, "--as", help="Who is acting (default: BROADCASTER_USER).")
