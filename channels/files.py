"""Writing files so that a reader never sees half of one: temporary file, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int | None = None, group: int | None = None) -> None:
    """Write `data` to `path` whole or not at all. A new file is private (0600) unless `mode` says
    otherwise; `group` gives it to that group (a station's folder group, whose staff read the scripts)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        if group is not None and group != os.getegid():
            # Not a member of that group: the file keeps ours (a setgid folder gives it the folder's).
            with contextlib.suppress(PermissionError):
                os.fchown(handle, -1, group)
        if mode is not None:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def safe_name(text: str) -> str:
    """A file name from a key or slug: letters, digits, '-', '_' and '.' only."""
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in text)[:150]
