"""Files named in campaign data stay inside the folder they belong to.

A name in a campaign file (an image, a template) is relative to the content folder. It is resolved
— symbolic links followed — and must still lie inside that folder, so neither `../../etc/passwd`,
nor an absolute path, nor a link pointing out of the folder reaches a file elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath


class OutsideFolder(ValueError):
    """A name that leads out of the folder it must stay in (or to nothing at all)."""


def inside(folder: Path, name: str, *, what: str = "file") -> Path:
    """The real path of `name` under `folder`; OutsideFolder with the reason otherwise."""
    if not name or "\x00" in name:
        raise OutsideFolder(f"the {what} name is empty or not a file name")
    if Path(name).is_absolute():
        raise OutsideFolder(f"the {what} '{name}' must be a path inside the content folder, not an absolute path")
    root = Path(os.path.realpath(folder))
    target = Path(os.path.realpath(root / name))
    if not target.is_relative_to(root):
        raise OutsideFolder(f"the {what} '{name}' leads outside the content folder")
    if not target.exists():
        raise OutsideFolder(f"the {what} '{name}' does not exist in the content folder")
    if not target.is_file():
        raise OutsideFolder(f"the {what} '{name}' is not a file")
    return target


def within(folder: Path | str, path: Path | str) -> bool:
    """Whether `path`, with every link followed, lies inside `folder` (links followed as well)."""
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(folder)))


_UNSAFE_IN_NAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


def upload_name(filename: str | None, default: str) -> str:
    """The name to give an uploaded file: its last part only, without control characters or quotes, and
    `default` for a name that is no file's name (empty, `.` or `..`), so that nothing is written elsewhere."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_IN_NAME.sub("_", last).strip()[:200]
    return default if name in ("", ".", "..") else name


def safe_folder(folder: str) -> str:
    """A station's delivery folder, relative to the radio output root; ValueError if it would leave it."""
    path = PurePosixPath(folder.replace("\\", "/"))
    if not folder or path.is_absolute() or ".." in path.parts or folder.startswith("~"):
        raise ValueError(f"folder '{folder}' must be a plain name inside the radio output folder")
    if any(not re.fullmatch(r"[\w.-]+", part) or part.startswith(".") for part in path.parts):
        raise ValueError(f"folder '{folder}' may hold only letters, digits, '-', '_' and '.'")
    return str(path)
