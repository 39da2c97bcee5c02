"""Bringing campaigns' texts into the database keeps every approved version valid (migration 0018).

The database is taken back to the schema before texts were kept (0017), as a previous release left it,
and upgraded again: an approved campaign gets exactly the texts its version fixed, so its fingerprint
still matches what it would send; a draft gets its template's files and layouts from the templates folder.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.campaigns.texts import starting_texts
from broadcaster.campaigns.versions import approved_version, changes_since_fixed, current_content, fingerprint
from broadcaster.db import _alembic_config, transaction, upgrade
from broadcaster.models import Campaign, CampaignVersion, Issuer
from broadcaster.settings import Settings
from tests.scenario import SMS, campaign, phones, subscriber_list


def test_the_texts_migration_keeps_every_approved_fingerprint_and_gives_drafts_their_templates(
    shipped: sessionmaker[Session], settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    with transaction(shipped) as session:  # going back to 0017 drops the issuers' English names (0024)
        for issuer in session.scalars(select(Issuer)):
            issuer.english = {}
    subscriber_list(shipped, tmp_path, "ba-so", phones(3))
    sms = {"sms": {"to": ["list:ba-so"], **SMS, "schedule": [{"cron": "0 9 * * 1"}]}}
    approved_id = campaign(shipped, settings, sms, slug="da-duyet", status="approved")
    draft_id = campaign(shipped, settings, sms, slug="ban-nhap", status="draft")
    engine = shipped.kw["bind"]
    command.downgrade(_alembic_config(engine), "0017")
    with engine.connect() as connection:
        assert "texts" not in {column["name"] for column in inspect(connection).get_columns("campaigns")}
    upgrade(engine)

    with shipped() as session:
        approved = session.get_one(Campaign, approved_id)
        version = approved_version(session, approved)
        assert version is not None
        assert approved.texts == version.content["templates"]
        assert fingerprint(current_content(session, approved, settings)) == version.fingerprint
        assert changes_since_fixed(session, approved, settings) == []
        draft = session.get_one(Campaign, draft_id)
        assert draft.texts == starting_texts(settings, "goi-gia-danh")
        assert session.scalars(select(CampaignVersion.authors)).all() == [["lan"]]
