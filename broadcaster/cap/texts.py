"""The public texts of a CAP alert, from the campaign's templates: `<template>/<locale>/cap.<part>.j2`.

Parts: `event`, `headline`, `description` (required) and `instruction`. They see what every template
sees (`campaign`, `issuer`, the campaign's variables) but no recipient: an alert is the same for all.
Every locale of the template that has these texts gets an <info> block, the campaign's own locales
first, so an alert reaches aggregators in every language the department has written it in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from broadcaster.models import Campaign
from broadcaster.rendering import (
    CampaignView,
    ChannelTemplates,
    TemplateProblem,
    build_environment,
    campaign_context,
    issuer_context,
)
from broadcaster.settings import Settings

PART = "cap"
REQUIRED = ("event", "headline", "description")


def cap_locales(templates_dir: Path, template: str, campaign_locales: list[str]) -> list[str]:
    folder = templates_dir / template
    written = sorted(path.parent.name for path in folder.glob(f"*/{PART}.headline.j2"))
    return [locale for locale in campaign_locales if locale in written] + [
        locale for locale in written if locale not in campaign_locales
    ]


def render_cap_texts(campaign: Campaign, settings: Settings) -> dict[str, dict[str, str]]:
    """locale → part → text, for every locale with CAP texts; TemplateProblem names what is missing."""
    view = CampaignView.of(campaign)
    locales = cap_locales(settings.templates_dir, view.template, list(view.locales))
    if not locales:
        raise TemplateProblem(
            f"template '{view.template}' has no CAP texts: write {view.template}/<locale>/cap.headline.j2, "
            "cap.event.j2 and cap.description.j2 (cap.instruction.j2 if there is advice to give)"
        )
    environment = build_environment(settings.templates_dir)
    templates = ChannelTemplates(environment, view.template, PART, locales[0])
    context: dict[str, Any] = {
        **view.variables,
        "campaign": campaign_context(view),
        "issuer": issuer_context(campaign.issuer),
        "options": {},
        "reading_rate": settings.reading_rate,
    }
    texts: dict[str, dict[str, str]] = {}
    for locale in locales:
        missing = [part for part in REQUIRED if part not in templates.files(locale)]
        if missing:
            raise TemplateProblem(
                f"template '{view.template}' has no {', '.join(f'cap.{part}.j2' for part in missing)} "
                f"for locale '{locale}' ({view.template}/{locale}/)"
            )
        rendered = templates.render(locale, context)
        # One line for the short fields; the description keeps its paragraphs.
        texts[locale] = {part: _tidy(part, value) for part, value in rendered.items()}
    return texts


def _tidy(part: str, value: str) -> str:
    return value.strip() if part == "description" else " ".join(value.split())
