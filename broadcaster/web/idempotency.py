"""Idempotency-Key: a retried POST gets the first answer again instead of acting twice.

The answer is stored in the same transaction as the work it reports, so either both are kept or
neither. A key reused for a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.errors import UserError
from broadcaster.models import IdempotentAnswer

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def fingerprint(method: str, path: str, payload: Any) -> str:
    """What the request asked for: method, path and body, independent of key order."""
    if isinstance(payload, bytes):
        body = hashlib.sha256(payload).hexdigest()
    else:
        body = json.dumps(jsonable_encoder(payload), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def answer_once(
    session: Session,
    actor: Actor,
    key: str | None,
    request: str,
    act: Callable[[], tuple[int, Any]],
) -> JSONResponse:
    """Run `act` (returning status and body) once per key and account; replay its answer for a repeated key."""
    if key is None:
        status, body = act()
        return JSONResponse(jsonable_encoder(body), status_code=status)
    key = key.strip()
    if not key or len(key) > 200:
        raise UserError(f"the {HEADER} header must be 1 to 200 characters")
    if actor.account_id is None:
        raise UserError(f"the {HEADER} header needs a signed-in account")
    stored = session.scalar(
        select(IdempotentAnswer).where(IdempotentAnswer.account_id == actor.account_id, IdempotentAnswer.key == key)
    )
    if stored is not None:
        if stored.request != request:
            raise UserError(f"this {HEADER} was already used for a different request; use a new key")
        return JSONResponse(stored.body.get("body"), status_code=stored.status_code, headers={REPLAYED: "true"})
    status, body = act()
    encoded = jsonable_encoder(body)
    session.add(
        IdempotentAnswer(
            account_id=actor.account_id, key=key, request=request, status_code=status, body={"body": encoded}
        )
    )
    return JSONResponse(encoded, status_code=status)
