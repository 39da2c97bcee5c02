"""The campaign lifecycle: the one place that says which status changes are allowed, and by whom.

Submit fixes a version of the content (broadcaster.campaigns.versions); approve approves exactly that version,
never by the person who drafted it (last edited the campaign) nor by the one who submitted it.

draft ──submit──▶ submitted ──approve──▶ approved ──activate──▶ active ──complete──▶ completed
  ▲                  │ (another person)      │                     │
  └─return/withdraw──┘                       └──pause──▶ paused ◀──┘   (resume: back where it was)
return: an approver sends it back with a reason; withdraw: its drafter changed what waited for approval.
cancel: from any status that has not ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from broadcaster import audit
from broadcaster.campaigns import versions
from broadcaster.errors import TransitionRefused
from broadcaster.models import Campaign, Delivery, DeliveryState, Occurrence, Status
from broadcaster.settings import Settings


@dataclass(frozen=True)
class Transition:
    sources: frozenset[Status]
    target: Status | None  # None: back to the status before the pause


S = Status
TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({S.DRAFT}), S.SUBMITTED),
    "return": Transition(frozenset({S.SUBMITTED}), S.DRAFT),
    "withdraw": Transition(frozenset({S.SUBMITTED}), S.DRAFT),
    "approve": Transition(frozenset({S.SUBMITTED}), S.APPROVED),
    "activate": Transition(frozenset({S.APPROVED}), S.ACTIVE),
    "pause": Transition(frozenset({S.APPROVED, S.ACTIVE}), S.PAUSED),
    "resume": Transition(frozenset({S.PAUSED}), None),
    "complete": Transition(frozenset({S.APPROVED, S.ACTIVE}), S.COMPLETED),
    "cancel": Transition(frozenset({S.DRAFT, S.SUBMITTED, S.APPROVED, S.ACTIVE, S.PAUSED}), S.CANCELLED),
}


def apply(
    session: Session,
    campaign: Campaign,
    action: str,
    actor: str,
    reason: str | None = None,
    *,
    settings: Settings,
) -> None:
    """Change a campaign's status, or refuse with a sentence that says why.

    Submitting fixes the campaign's content as a new version (its templates are read from
    `settings`' content folder); approving approves exactly that version.
    """
    transition = TRANSITIONS[action]
    current = Status(campaign.status)
    if current not in transition.sources:
        allowed = " or ".join(sorted(status.value for status in transition.sources))
        raise TransitionRefused(
            f"campaign '{campaign.slug}' is {current.value}; only a campaign that is {allowed} can be {_past(action)}"
        )
    details: dict[str, Any] = {}
    if action == "submit":
        details["version"] = versions.freeze(session, campaign, actor, settings).number
    elif action == "approve":
        version = versions.latest_version(session, campaign)
        if version is None:
            raise TransitionRefused(
                f"campaign '{campaign.slug}' was submitted before versions were kept; "
                "return it to draft and submit it again"
            )
        refusal = versions.refuse_approval(version, campaign, actor)
        if refusal is not None:
            raise TransitionRefused(refusal)
        versions.approve(version, campaign, actor, settings.clock.now())
        details["version"] = version.number
    target = transition.target or Status(campaign.status_before_pause or S.APPROVED)
    campaign.status_before_pause = current.value if action == "pause" else None
    campaign.status = target.value
    if action == "submit":
        campaign.submitted_by = actor
    elif action == "approve":
        campaign.approved_by = actor
    elif action == "return":
        campaign.submitted_by = None
    elif action == "withdraw":
        campaign.submitted_by = campaign.approved_by = None
    if action in ("approve", "resume"):
        campaign.sendable_since = settings.clock.now()
    if action == "cancel":
        _skip_unsent(session, campaign, settings.clock.now())
    details = {"from": current.value, "to": target.value, **details}
    if reason:
        details["reason"] = reason
    audit.record(session, campaign, actor, action, **details)


def _skip_unsent(session: Session, campaign: Campaign, now: datetime) -> None:
    """A cancelled campaign sends nothing more: its waiting deliveries are recorded as skipped."""
    waiting = select(Occurrence.id).where(Occurrence.campaign_id == campaign.id)
    session.execute(
        update(Delivery)
        .where(Delivery.occurrence_id.in_(waiting), Delivery.state == DeliveryState.PENDING)
        .values(state=DeliveryState.SKIPPED, reason="the campaign was cancelled", done_at=now)
    )


def _past(action: str) -> str:
    return {
        "submit": "submitted",
        "return": "returned to draft",
        "withdraw": "withdrawn to draft",
        "approve": "approved",
        "activate": "activated",
        "pause": "paused",
        "resume": "resumed",
        "complete": "completed",
        "cancel": "cancelled",
    }[action]
