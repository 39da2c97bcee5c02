"""Whether this process can do its work, for a load balancer, a container runtime or a person on call.

    /healthz   the process answers (nothing else is asked: a slow database must not get it restarted)
    /readyz    the database answers, its schema is the one this version expects, and every channel builds
               from its settings (the checks `broadcaster channels check` makes), each with when it was checked

Nothing here needs an account, so nothing here shows a secret: the sentences are the configuration errors'
own, which name settings, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from broadcaster.accounts import TERMINAL
from broadcaster.db import head_revision, schema_is_current
from broadcaster.errors import ConfigurationError, UserError
from broadcaster.masking import mask_secrets
from broadcaster.operations.channels import check_channels
from broadcaster.settings import Settings


@dataclass
class Readiness:
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def as_document(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "problems": self.problems, **self.checks}


def readiness(engine: Engine, settings: Settings, now: datetime) -> Readiness:
    found = Readiness()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        found.checks["database"] = "reachable"
    except SQLAlchemyError as exc:
        found.checks["database"] = "unreachable"
        found.problems.append(f"the database does not answer: {mask_secrets(str(getattr(exc, 'orig', exc)))}")
        return found  # nothing else can be asked of it
    try:
        current = schema_is_current(engine)
    except (UserError, ConfigurationError) as exc:  # unreachable, or the migrations themselves are wrong
        current = False
        found.problems.append(str(exc))
    found.checks["migrations"] = {"current": current, "expected": head_revision()}
    if not current:
        found.problems.append("the database schema is not the one this version expects: run 'broadcaster db upgrade'")
    channels = {}
    for check in check_channels(TERMINAL, settings):
        channels[check.channel] = {"ok": check.problem is None, "problem": check.problem, "checked_at": now.isoformat()}
        if check.problem is not None:
            found.problems.append(f"channel {check.channel}: {check.problem}")
    found.checks["channels"] = channels
    return found
