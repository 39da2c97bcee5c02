"""The public texts of a CAP alert, from the approved version's texts: `<template>/<locale>/cap.<part>.j2`.

Parts: `event`, `headline`, `description` (required) and `instruction`. They see what every template
sees (`campaign`, `issuer`, the campaign's variables) but no recipient: an alert is the same for all.
Every locale of the template that has these texts gets an <info> block, the campaign's own locales
first, so an alert reaches aggregators in every language the department has written it in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broadcaster.rendering import ChannelTemplates, TemplateProblem, campaign_context
from broadcaster.settings import Settings

PART = "cap"
REQUIRED = ("event", "headline", "description")


def cap_locales(texts: Mapping[str, Any], template: str, campaign_locales: list[str]) -> list[str]:
    written = sorted(
        name.split("/")[1]
        for name in texts
        if name.startswith(f"{template}/") and name.endswith(f"/{PART}.headline.j2")
    )
    return [locale for locale in campaign_locales if locale in written] + [
        locale for locale in written if locale not in campaign_locales
    ]


def render_cap_texts(content: Mapping[str, Any], settings: Settings) -> dict[str, dict[str, str]]:
    """locale → part → text, for every locale with CAP texts in a version's content (what was approved);
    TemplateProblem names what is missing."""
    from broadcaster.campaigns.versions import environment_for, view_of

    view = view_of(content)
    locales = cap_locales(content["templates"], view.template, list(view.locales))
    if not locales:
        raise TemplateProblem(
            "the campaign has no CAP texts: write its CAP headline, event and description "
            f"({view.template}/<locale>/cap.headline.j2, cap.event.j2, cap.description.j2)"
        )
    templates = ChannelTemplates(environment_for(content), view.template, PART, locales[0])
    context: dict[str, Any] = {
        **view.variables,
        "campaign": campaign_context(view),
        "issuer": content["issuer"],
        "options": {},
        "reading_rate": settings.reading_rate,
    }
    texts: dict[str, dict[str, str]] = {}
    for locale in locales:
        missing = [part for part in REQUIRED if part not in templates.files(locale)]
        if missing:
            raise TemplateProblem(
                f"the campaign has no {', '.join(f'cap.{part}.j2' for part in missing)} "
                f"for locale '{locale}' ({view.template}/{locale}/)"
            )
        rendered = templates.render(locale, context)
        # One line for the short fields; the description keeps its paragraphs.
        texts[locale] = {part: _tidy(part, value) for part, value in rendered.items()}
    return texts


def _tidy(part: str, value: str) -> str:
    return value.strip() if part == "description" else " ".join(value.split())
