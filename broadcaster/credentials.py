"""Credentials that turn over, kept in the database for every worker (a Zalo OA's access and refresh tokens).

A Zalo refresh token is single-use: once it has been exchanged, only the pair that came back can renew the
token again. So the exchange and the keeping of its answer are one transaction: `renew` first writes to
the credential's row, which takes its lock (a row lock on PostgreSQL, the write lock on SQLite) until the
transaction ends; reads what is kept; exchanges only if what is kept is still the stale pair (another worker
may have renewed it while this one waited); and writes the new pair before committing. Workers that met the
same expired token queue on the lock and find the new pair instead of spending the old refresh token again.

The pair is kept sealed with a key derived from the installation's secret key (BROADCASTER_SECRET_KEY):
HMAC-SHA256 as a counter-mode keystream, then an HMAC-SHA256 tag over nonce and text, so the database and its
backups never hold a token readable, and a row changed by hand is refused rather than sent to Zalo.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.clock import Clock, SystemClock
from broadcaster.errors import ConfigurationError
from broadcaster.masking import mask_secrets
from broadcaster.models import KeptCredential
from channels.base import Credential, CredentialStore

NONCE, TAG = 16, 32


class DatabaseCredentials(CredentialStore):
    def __init__(self, sessions: sessionmaker[Session], secret: bytes, clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock: Clock = clock or SystemClock()
        self._cipher = hmac.new(secret, b"broadcaster credentials: cipher", hashlib.sha256).digest()
        self._mac = hmac.new(secret, b"broadcaster credentials: tag", hashlib.sha256).digest()

    def current(self, name: str, seed: Credential | None = None) -> Credential | None:
        with self.sessions() as session:
            row = session.get(KeptCredential, name)
            if row is not None:
                return self._opened(row)
        if seed is None:
            return None
        try:
            with self.sessions() as session, session.begin():
                session.add(self._row(name, seed))
        except IntegrityError:  # another worker kept its seed first: that one is the credential
            pass
        with self.sessions() as session:
            row = session.get(KeptCredential, name)
            return self._opened(row) if row is not None else None

    def renew(self, name: str, stale: Credential, refresh: Callable[[Credential], Credential]) -> Credential:
        with self.sessions() as session, session.begin():
            # The write comes first: it takes the row's lock (SQLite's write lock) before anything is read.
            locked = session.execute(
                update(KeptCredential).where(KeptCredential.name == name).values(renewed_at=KeptCredential.renewed_at)
            )
            if locked.rowcount == 0:  # type: ignore[attr-defined]
                session.add(self._row(name, stale))
                session.flush()
            row = session.execute(select(KeptCredential).where(KeptCredential.name == name)).scalar_one()
            kept = self._opened(row)
            if kept.refresh_token != stale.refresh_token:
                return kept  # renewed by another worker while this one waited for the lock
            fresh = refresh(kept)  # raises: nothing is written, the stale pair stays kept
            row.sealed = self._seal(fresh)
            row.expires_at = fresh.expires_at
            row.renewed_at = self.clock.now()
            return replace(fresh, held_until=row.held_until, held_because=row.held_because)

    def hold(self, name: str, until: datetime, because: str) -> None:
        # Only ever later: two workers told of the same quota at once keep the later of their two moments.
        still_free = or_(KeptCredential.held_until.is_(None), KeptCredential.held_until < until)
        with self.sessions() as session, session.begin():
            session.execute(
                update(KeptCredential)
                .where(KeptCredential.name == name, still_free)
                .values(held_until=until, held_because=mask_secrets(because)[:1000])
            )

    # -- sealing --

    def _row(self, name: str, credential: Credential) -> KeptCredential:
        return KeptCredential(
            name=name, sealed=self._seal(credential), expires_at=credential.expires_at, renewed_at=self.clock.now()
        )

    def _opened(self, row: KeptCredential) -> Credential:
        pair = json.loads(self._open(row.name, row.sealed))
        return Credential(pair["access_token"], pair["refresh_token"], row.expires_at, row.held_until, row.held_because)

    def _seal(self, credential: Credential) -> str:
        plain = json.dumps({"access_token": credential.access_token, "refresh_token": credential.refresh_token})
        nonce = secrets.token_bytes(NONCE)
        text = _xor(plain.encode(), self._stream(nonce, len(plain.encode())))
        tag = hmac.new(self._mac, nonce + text, hashlib.sha256).digest()
        return base64.b64encode(nonce + text + tag).decode("ascii")

    def _open(self, name: str, sealed: str) -> str:
        try:
            raw = base64.b64decode(sealed, validate=True)
        except ValueError:
            raw = b""
        nonce, text, tag = raw[:NONCE], raw[NONCE:-TAG], raw[-TAG:]
        expected = hmac.new(self._mac, nonce + text, hashlib.sha256).digest()
        if len(raw) < NONCE + TAG or not hmac.compare_digest(tag, expected):
            raise ConfigurationError(
                f"the credential '{name}' kept in the database cannot be opened with this secret key "
                "(BROADCASTER_SECRET_KEY changed, or the row was changed by hand); set the secret key it was "
                "kept with back in every process"
            )
        return _xor(text, self._stream(nonce, len(text))).decode()

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = (length + 31) // 32
        return b"".join(
            hmac.new(self._cipher, nonce + index.to_bytes(4, "big"), hashlib.sha256).digest() for index in range(blocks)
        )[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))
