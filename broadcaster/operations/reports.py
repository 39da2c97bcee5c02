"""Delivery reports a gateway pushes to the hook (`web/hooks`), recorded in the caller's transaction.

The hook's unguessable token is the gateway's permission, checked before a callback is read. What a report
changes is recorded on its delivery (the report, where it came from, when) and a report nothing matches is
kept in `unmatched_reports`: those rows are the record, so a callback writes no audit entry of its own (a
burst of thousands would drown the log people read). The report pull, which the timetable runs, goes
through `reports.pull_reports` and has the last word over what a callback said.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from broadcaster.reports import CALLBACK, CHANNEL, Applied, apply_reports
from channels.base import Report


def receive_callback(
    session: Session,
    installation: str,
    dialect: str,
    reports: Sequence[Report],
    now: datetime,
    channel: str = CHANNEL,
) -> Applied:
    """Record one callback's reports (from the channel's provider, in its `dialect`) on the deliveries they
    name; how many were taken, repeated, interim or matched nothing."""
    return apply_reports(session, installation, dialect, reports, now, source=CALLBACK, channel=channel)
