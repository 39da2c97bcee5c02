"""CAP 1.2 (OASIS Common Alerting Protocol): campaigns as alerts for other systems, and alerts as drafts.

`alerts` says which alert a campaign stands for, `export` builds it, `schema` checks any alert against
the shipped OASIS schema, `mapping` holds the field mapping both ways.
"""
