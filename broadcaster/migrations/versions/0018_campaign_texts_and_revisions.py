"""a campaign's texts in the database; every author of a version; revisions beside an approved campaign

Each campaign gets its texts as it stands: a campaign whose content is fixed in a version takes that
version's texts exactly (so the fingerprint of the approved version stays valid); a draft takes the
files of its template folder, and the layouts they reach, from the templates folder on disk.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op
from jinja2 import Environment, TemplateError, meta
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
FIXED = ("submitted", "approved", "active", "paused", "completed", "cancelled")


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("texts", JSON, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("campaign_versions", sa.Column("authors", JSON, nullable=False, server_default=sa.text("'[]'")))
    op.add_column("occurrences", sa.Column("content", JSON, nullable=True))
    op.create_table(
        "campaign_revisions",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("texts", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("returned_reason", sa.Text(), nullable=True),
        sa.Column("returned_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_revisions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_revisions")),
    )
    _bring_texts_in()


def _bring_texts_in() -> None:
    connection = op.get_bind()
    campaigns = sa.table(
        "campaigns",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("template", sa.String),
        sa.column("approved_version", sa.Integer),
        sa.column("texts", JSON),
    )
    versions = sa.table(
        "campaign_versions",
        sa.column("campaign_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("content", JSON),
        sa.column("drafted_by", sa.String),
        sa.column("authors", JSON),
    )
    for row in connection.execute(sa.select(versions.c.campaign_id, versions.c.number, versions.c.drafted_by)):
        connection.execute(
            versions.update()
            .where(versions.c.campaign_id == row.campaign_id, versions.c.number == row.number)
            .values(authors=[row.drafted_by])
        )
    folder = _templates_folder()
    for campaign in connection.execute(sa.select(campaigns)).all():
        kept = _version_texts(connection, versions, campaign)
        texts = kept if kept is not None else _folder_texts(folder, campaign.template)
        connection.execute(campaigns.update().where(campaigns.c.id == campaign.id).values(texts=texts))


def _version_texts(connection: Any, versions: Any, campaign: Any) -> dict[str, str] | None:
    """The texts of the version the campaign's content is held to; None for a draft."""
    if campaign.status not in FIXED:
        return None
    number = campaign.approved_version
    if campaign.status == "submitted" or number is None:
        number = connection.scalar(
            sa.select(sa.func.max(versions.c.number)).where(versions.c.campaign_id == campaign.id)
        )
    if number is None:
        return None
    content = connection.scalar(
        sa.select(versions.c.content).where(versions.c.campaign_id == campaign.id, versions.c.number == number)
    )
    return dict(content["templates"]) if content else None


def _templates_folder() -> Path | None:
    try:
        from broadcaster.settings import get_settings

        return get_settings().templates_dir
    except Exception:  # settings that do not read: the drafts keep no texts, and say so when checked
        return None


def _folder_texts(folder: Path | None, template: str) -> dict[str, str]:
    """Every template file of `template`'s folder, and every layout or include they reach."""
    if folder is None or not (folder / template).is_dir():
        return {}
    environment = Environment()
    pending = sorted(str(path.relative_to(folder)) for path in (folder / template).rglob("*.j2"))
    texts: dict[str, str] = {}
    while pending:
        name = pending.pop()
        path = folder / name
        inside = path.resolve().is_relative_to(folder.resolve())
        if name in texts or not inside or not path.is_file() or path.is_symlink():
            continue
        try:
            texts[name] = path.read_text(encoding="utf-8")
            pending += [other for other in meta.find_referenced_templates(environment.parse(texts[name])) if other]
        except (OSError, UnicodeDecodeError, TemplateError):
            continue
    return dict(sorted(texts.items()))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite has it since 3.35): a rebuilt table would trip the foreign keys.
    op.drop_table("campaign_revisions")
    op.drop_column("occurrences", "content")
    op.drop_column("campaign_versions", "authors")
    op.drop_column("campaigns", "texts")
