"""The audit log's one way in: every change a person or a process makes is appended here, never edited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from broadcaster.masking import mask_values
from broadcaster.models import AuditEntry, Campaign


def record(session: Session, campaign: Campaign | None, actor: str, action: str, **details: Any) -> None:
    """Append one entry to the audit log (any secret a detail quotes, in a URL say, masked)."""
    entry = AuditEntry(campaign_id=campaign.id if campaign else None, actor=actor, action=action)
    entry.details = mask_values(details)
    session.add(entry)
