"""This installation's identity: the id carried in every key sent to providers, and the secret path
delivery reports come back to.

The id is created once, by the migration that made the table, and lives in the database: two
installations sharing a gateway account, or a database built again, never send the same key. The
callback token is derived from the signing secret and the id (an HMAC), so it is never stored, and
is the same in every process that shares the secret: gateways sign nothing (DOMAIN §11), so only
whoever knows the path can report.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.db import insert_ignoring_duplicates
from broadcaster.models import Installation
from broadcaster.settings import Settings
from broadcaster.signing import signing_secret

# Channels whose providers report delivery back to the project.
REPORTING_CHANNELS = frozenset({"sms", "zalo"})


def installation_id(session: Session) -> str:
    """The installation's id; made here only for a database the migration did not fill (never twice)."""
    found = session.scalar(select(Installation.id).order_by(Installation.created_at).limit(1))
    if found is not None:
        return found
    insert_ignoring_duplicates(session, Installation, [{"id": secrets.token_hex(6)}], count=False)
    return str(session.scalar(select(Installation.id).order_by(Installation.created_at).limit(1)))


def callback_token(settings: Settings, installation: str) -> str:
    """The unguessable path segment delivery reports must carry (128 bits, derived, never stored)."""
    digest = hmac.new(signing_secret(settings), f"delivery-reports:{installation}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def report_url(settings: Settings, installation: str, channel: str) -> str | None:
    """Where a channel's provider sends delivery reports, or None for a channel without them."""
    if channel not in REPORTING_CHANNELS:
        return None
    return f"{settings.public_url}/hooks/{channel}/{callback_token(settings, installation)}"
