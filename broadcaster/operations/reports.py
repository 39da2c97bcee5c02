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
from itertools import islice

from sqlalchemy.orm import Session

from broadcaster.reports import CALLBACK, Applied, judge_reports
from channels.base import Report


def receive_callbacks(
    session: Session, installation: str, callbacks: Sequence[tuple[str, Sequence[Report]]], now: datetime
) -> list[Applied]:
    """Record the reports of many callbacks, each a gateway's `dialect` and its reports, on the deliveries
    they name, together (a few statements for the lot); for each callback, how many of its reports were
    taken, repeated, interim or matched nothing. Copies of one report in two callbacks: the first is taken."""
    results = [Applied() for _ in callbacks]
    by_dialect: dict[str, list[int]] = {}
    for position, (dialect, _) in enumerate(callbacks):
        by_dialect.setdefault(dialect, []).append(position)
    for dialect, positions in by_dialect.items():
        reports = [report for position in positions for report in callbacks[position][1]]
        verdicts = iter(judge_reports(session, installation, dialect, reports, now, source=CALLBACK))
        for position in positions:
            results[position] = Applied.tally(islice(verdicts, len(callbacks[position][1])))
    return results
