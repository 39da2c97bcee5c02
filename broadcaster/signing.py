"""The secret that signs sessions and links: from the settings, else generated once into the data folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from broadcaster.errors import ConfigurationError
from broadcaster.settings import Settings

SECRET_FILE = "secret_key"


def signing_secret(settings: Settings) -> bytes:
    """BROADCASTER_SECRET_KEY, or the key in `<data folder>/secret_key`, created (mode 0600) on first use."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 32:
            raise ConfigurationError("setting BROADCASTER_SECRET_KEY is too short: use at least 32 characters")
        return value.encode("utf-8")
    path = settings.data_dir / SECRET_FILE
    return _read_or_create(path)


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once agree on the one that wrote first.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        value = secrets.token_urlsafe(48)
        handle.write(value + "\n")
    return value.encode("ascii")


def _read(path: Path) -> bytes:
    value = path.read_text(encoding="ascii", errors="replace").strip()
    if len(value) < 32:
        raise ConfigurationError(f"the signing secret in {path} is damaged: delete the file to make a new one")
    return value.encode("ascii", errors="replace")
