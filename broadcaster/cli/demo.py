"""`broadcaster demo`: the shipped examples, set up from scratch in var/demo, and what they produce."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from broadcaster import lifecycle
from broadcaster.campaign_file import load_campaign_file
from broadcaster.campaigns import check_campaign, save_campaign
from broadcaster.cli import common
from broadcaster.cli.common import friendly, out
from broadcaster.db import upgrade
from broadcaster.examples import example_campaigns, import_examples
from broadcaster.problems import InvalidInput
from broadcaster.settings import get_settings

DEMO_DIR = Path("var/demo")
DRAFTER, APPROVER = "demo-drafter", "demo-approver"


def _use_demo_folder() -> None:
    """The demo works in its own folder, so it never touches a real database or output folder."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    os.environ["BROADCASTER_DATABASE_URL"] = f"sqlite:///{DEMO_DIR / 'broadcaster.db'}"
    os.environ["BROADCASTER_OUTPUT_DIR"] = str(DEMO_DIR / "out")
    get_settings.cache_clear()
    common.engine.cache_clear()


def set_up_examples() -> list[str]:
    """Directory, both shipped campaigns, submitted by one person and approved by another."""
    upgrade(common.engine())
    slugs = []
    with common.unit_of_work() as session:
        for report in import_examples(session):
            out.print(f"imported {report.imported} {report.kind} from {Path(report.source).name}")
        for path in example_campaigns():
            spec = load_campaign_file(path)
            problems = check_campaign(session, spec, common.settings())
            if problems:
                raise InvalidInput(str(path), problems)
            campaign, _ = save_campaign(session, spec, DRAFTER, common.settings())
            lifecycle.apply(session, campaign, "submit", DRAFTER)
            lifecycle.apply(session, campaign, "approve", APPROVER)
            out.print(f"campaign '{campaign.slug}' ({campaign.number}) submitted by {DRAFTER}, approved by {APPROVER}")
            slugs.append(campaign.slug)
    return slugs


@friendly
def demo() -> None:
    """Set up the shipped examples in var/demo and write every bulletin they would send for review."""
    from broadcaster.cli.campaigns import list_, preview

    _use_demo_folder()
    slugs = set_up_examples()
    for slug in slugs:
        preview(slug, None, None, None, DEMO_DIR / "out" / "preview" / slug)
    list_()
