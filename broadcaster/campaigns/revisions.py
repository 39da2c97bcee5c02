"""Saving a campaign: a draft in place (`save_campaign`), an approved one as its revision (`save_or_revise`).

A revision is the next content of an approved campaign, drafted beside it while it keeps sending. An edit
of an approved, active or paused campaign does not touch the campaign: it is kept as the campaign's
revision (one at a time), audited with what it changes. The drafter submits it, which fixes it as a new
version; a second person — none of its authors — approves it, and then, in one transaction, the
revision's document and texts take the campaign's place, the new version is the one workers render, and
the approval publishes a CAP Update. Until then the approved version keeps sending, and nothing the
revision says goes out. An approver may send it back with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import audit
from broadcaster.campaigns import lifecycle, versions
from broadcaster.campaigns.file import CampaignSpec, parse_campaign
from broadcaster.campaigns.store import EDITABLE, REVISABLE, fill, find_issuer, spec_changes, texts_for
from broadcaster.campaigns.texts import text_changes
from broadcaster.errors import NotFound, TransitionRefused
from broadcaster.models import AuditEntry, Campaign, CampaignRevision, CampaignVersion, RevisionStatus, Status
from broadcaster.settings import Settings


def revision_of(session: Session, campaign: Campaign) -> CampaignRevision | None:
    return campaign.revision


def save_campaign(
    session: Session, spec: CampaignSpec, actor: str, settings: Settings, texts: Mapping[str, Any] | None = None
) -> tuple[Campaign, bool]:
    """Store a checked draft and its texts (by default those the file stands for: `texts_for`); returns it
    and whether it is new. Changes are audited field by field and text by text, naming who made them.

    An approved, active or paused campaign is not changed here: its edit is a revision, drafted beside it
    while the approved version keeps sending (`save_or_revise`).
    """
    issuer = find_issuer(session, spec.issuer)
    if issuer is None:
        raise NotFound(f"issuer '{spec.issuer}' is not known")
    if texts is None:
        texts = texts_for(session, spec, settings)
    campaign = session.scalar(select(Campaign).where(Campaign.slug == spec.campaign))
    if campaign is None:
        campaign = Campaign(slug=spec.campaign, status=Status.DRAFT, created_by=actor)
        fill(campaign, spec, texts, issuer, settings.zone)
        session.add(campaign)
        session.flush()
        audit.record(session, campaign, actor, "create", spec=campaign.spec)
        return campaign, True
    status = Status(campaign.status)
    if status in REVISABLE:
        raise TransitionRefused(
            f"campaign '{campaign.slug}' is {status.value}: an edit of it is a revision, approved beside it"
        )
    if status not in EDITABLE:
        raise TransitionRefused(f"campaign '{campaign.slug}' is {status.value}: its content can no longer change")
    changes = spec_changes(campaign.spec, spec.normalised()) + text_changes(campaign.texts, texts)
    if not changes:
        return campaign, False
    campaign.channels.clear()
    session.flush()  # the old channels go before the new ones arrive: (campaign, channel) is unique
    fill(campaign, spec, texts, issuer, settings.zone)
    audit.record(session, campaign, actor, "edit", changes=changes)
    if status != Status.DRAFT:  # the drafter changed what waited for approval: it needs submitting again
        lifecycle.apply(
            session, campaign, "withdraw", actor, "content changed; it needs approval again", settings=settings
        )
    return campaign, False


def save_or_revise(
    session: Session, spec: CampaignSpec, actor: str, settings: Settings, texts: dict[str, Any] | None = None
) -> tuple[Campaign, bool]:
    """Save a checked campaign: a draft in place (`save_campaign`), an approved one as its revision.
    Returns the campaign and whether it is new."""
    campaign = session.scalar(select(Campaign).where(Campaign.slug == spec.campaign))
    if campaign is None or Status(campaign.status) not in REVISABLE:
        return save_campaign(session, spec, actor, settings, texts)
    if texts is None:
        texts = texts_for(session, spec, settings)
    revise(session, campaign, spec, texts, actor, settings.clock.now())
    return campaign, False


def revise(
    session: Session, campaign: Campaign, spec: CampaignSpec, texts: dict[str, Any], actor: str, now: datetime
) -> bool:
    """Keep an edit of an approved campaign as its revision; returns whether anything changed. A revision
    that was submitted goes back to being drafted (its version is never approved)."""
    revision = revision_of(session, campaign)
    before_spec, before_texts = (revision.spec, revision.texts) if revision else (campaign.spec, campaign.texts)
    changes = spec_changes(before_spec, spec.normalised()) + text_changes(before_texts, texts)
    if not changes:
        return False
    if revision is None:
        revision = campaign.revision = CampaignRevision(started_by=actor, started_at=now, status=RevisionStatus.DRAFT)
    revision.spec, revision.texts = spec.normalised(), dict(texts)
    withdrawn = revision.status == RevisionStatus.SUBMITTED
    revision.status, revision.version = RevisionStatus.DRAFT, None
    audit.record(session, campaign, actor, "revise", changes=changes, withdrawn=withdrawn)
    session.flush()
    return True


def start(session: Session, campaign: Campaign, actor: str, why: str, now: datetime) -> CampaignRevision:
    """A revision with the campaign's content as it stands, to send what changed under it (its issuer)."""
    if campaign.revision is not None:
        return campaign.revision
    if Status(campaign.status) not in REVISABLE:
        raise TransitionRefused(f"campaign '{campaign.slug}' is {campaign.status}: only an approved one is revised")
    revision = campaign.revision = CampaignRevision(
        started_by=actor,
        started_at=now,
        status=RevisionStatus.DRAFT,
        spec=dict(campaign.spec),
        texts=dict(campaign.texts),
    )
    audit.record(session, campaign, actor, "revise", changes=[], reason=why)
    session.flush()
    return revision


def returned_reason(session: Session, campaign: Campaign) -> str | None:
    """Why the approver sent the campaign (or its revision) back, while it waits for its drafter."""
    if campaign.revision is not None:
        return campaign.revision.returned_reason if campaign.revision.status == RevisionStatus.DRAFT else None
    if campaign.status != Status.DRAFT:
        return None
    last = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.action.in_(("return", "submit")))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return str(last.details.get("reason")) if last is not None and last.action == "return" else None


def submit(session: Session, campaign: Campaign, actor: str, settings: Settings) -> CampaignVersion:
    """Fix the revision as a version for approval, checked against the directory as it is now."""
    revision = _drafted(session, campaign)
    if revision.status == RevisionStatus.SUBMITTED:
        raise TransitionRefused(
            f"the revision of campaign '{campaign.slug}' already waits for approval (version {revision.version})"
        )
    version = versions.freeze_revision(session, revision, actor, settings)
    revision.status, revision.version = RevisionStatus.SUBMITTED, version.number
    audit.record(session, campaign, actor, "submit-revision", version=version.number)
    return version


def approve(session: Session, campaign: Campaign, actor: str, settings: Settings) -> CampaignVersion:
    """Approve the submitted revision: its content takes the campaign's place and its version sends from now."""
    revision = _drafted(session, campaign)
    version = _submitted_version(session, campaign, revision)
    if (refusal := versions.refuse_approval(version, campaign, actor)) is not None:
        raise TransitionRefused(refusal)
    spec = parse_campaign(revision.spec, campaign.slug)
    issuer = find_issuer(session, spec.issuer)
    if issuer is None:
        raise NotFound(f"issuer '{spec.issuer}' is not known")
    campaign.channels.clear()
    session.flush()  # the old channels go before the new ones arrive: (campaign, channel) is unique
    fill(campaign, spec, revision.texts, issuer, settings.zone)
    now = settings.clock.now()
    versions.approve(version, campaign, actor, now)
    campaign.approved_by = actor
    campaign.sendable_since = now  # fire times the revision adds in the past were never due
    campaign.revision = None
    audit.record(session, campaign, actor, "approve", version=version.number, revision=True)
    session.flush()
    return version


def send_back(session: Session, campaign: Campaign, actor: str, reason: str) -> CampaignRevision:
    """Return the submitted revision to its drafter with the reason; the approved version keeps sending."""
    revision = _drafted(session, campaign)
    version = _submitted_version(session, campaign, revision)
    revision.status, revision.version = RevisionStatus.DRAFT, None
    revision.returned_reason, revision.returned_version = reason, version.number
    audit.record(session, campaign, actor, "return-revision", version=version.number, reason=reason)
    return revision


def discard(session: Session, campaign: Campaign, actor: str) -> None:
    """Drop the revision; the campaign keeps its approved content."""
    revision = _drafted(session, campaign)
    campaign.revision = None
    audit.record(session, campaign, actor, "discard-revision", version=revision.version)
    session.flush()


def _drafted(session: Session, campaign: Campaign) -> CampaignRevision:
    revision = revision_of(session, campaign)
    if revision is None:
        raise TransitionRefused(f"campaign '{campaign.slug}' has no revision: edit it to start one")
    return revision


def _submitted_version(session: Session, campaign: Campaign, revision: CampaignRevision) -> CampaignVersion:
    if revision.status != RevisionStatus.SUBMITTED or revision.version is None:
        raise TransitionRefused(
            f"the revision of campaign '{campaign.slug}' is still being drafted: it must be submitted first"
        )
    version = versions.numbered(session, campaign, revision.version)
    assert version is not None  # fixed when it was submitted
    return version
