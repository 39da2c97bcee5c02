"""A campaign's texts: its own, in the database, never a file another campaign shares.

Texts are held as template name → text, named as under the templates folder
(`<template>/<locale>/<channel>.<part>.j2`, and `_layouts/…` for what they extend or include), so the
same sandbox renders them. The shared templates in the templates folder are starting points only:
a campaign made from one gets a copy of its files and of every layout they reach, and nothing a
campaign does afterwards reads or writes that folder again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2 import BaseLoader, TemplateError, TemplateNotFound, meta
from jinja2.sandbox import SandboxedEnvironment

from broadcaster.errors import UserError
from broadcaster.sandbox import ConfinedLoader, TemplateLimit, TemplateOutsideFolder, TextsLoader
from broadcaster.settings import Settings

Texts = dict[str, str]


def shared_templates(settings: Settings) -> list[str]:
    """The templates a campaign can start from (layouts, whose names start with '_', are not templates)."""
    folder = settings.templates_dir
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if path.is_dir() and not path.name.startswith("_"))


def starting_texts(settings: Settings, template: str) -> Texts:
    """A copy of a shared template's texts, with every layout and include they reach; UserError with the
    reason when there is no such template, or one of its files may not be read (a link out of the folder)."""
    if template not in shared_templates(settings):
        known = ", ".join(shared_templates(settings)) or "none"
        raise UserError(f"there is no shared template '{template}' to start from (templates: {known})")
    loader = ConfinedLoader(settings.templates_dir)
    names = [name for name in loader.list_templates() if name.startswith(f"{template}/") and name.endswith(".j2")]
    if not names:
        raise UserError(f"shared template '{template}' has no texts (a folder linked from elsewhere is not followed)")
    try:
        return reachable(SandboxedEnvironment(loader=loader), names, strict=True)
    except (TemplateOutsideFolder, TemplateLimit) as exc:
        raise UserError(f"shared template '{template}' cannot be copied: it reads {exc.message}") from None


def reachable(environment: SandboxedEnvironment, names: Iterable[str], *, strict: bool = False) -> Texts:
    """The text of each named template and of every template it extends, includes or imports; with `strict`,
    a text that may not be read (outside the folder, too large) raises instead of being left out."""
    loader = environment.loader
    assert loader is not None
    pending, sources = sorted(names), {}
    while pending:
        name = pending.pop()
        if name in sources:
            continue
        try:
            sources[name] = loader.get_source(environment, name)[0]
        except (TemplateOutsideFolder, TemplateLimit):
            if strict:
                raise
            continue
        except (TemplateNotFound, OSError, UnicodeDecodeError):
            continue  # a text that is gone or unreadable is absent: rendering names it, with its line
        try:
            referenced = meta.find_referenced_templates(environment.parse(sources[name]))
        except TemplateError:
            continue  # validation reports the error with its line; the text is kept as it is
        pending += [other for other in referenced if other and other not in sources]
    return dict(sorted(sources.items()))


def texts_loader(texts: Mapping[str, Any]) -> BaseLoader:
    return TextsLoader({str(name): str(text) for name, text in texts.items()})


def has_texts(texts: Mapping[str, Any], template: str) -> bool:
    return any(name.startswith(f"{template}/") for name in texts)


def text_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per text that changed, with a unified diff: what the audit log and the approver read."""
    changes = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if (before or "").strip() == (after or "").strip():
            continue
        diff = difflib.unified_diff(
            str(before or "").splitlines(keepends=True),
            str(after or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}" if after is not None else "/dev/null",
        )
        changes.append({"template": name, "diff": "".join(diff)})
    return changes
