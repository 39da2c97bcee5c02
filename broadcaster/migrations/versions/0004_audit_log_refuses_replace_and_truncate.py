"""the audit log also refuses INSERT OR REPLACE (SQLite) and TRUNCATE (PostgreSQL)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 09:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# SQLite's REPLACE deletes the row it collides with without firing DELETE triggers (unless the
# connection turns recursive triggers on), so an entry could be rewritten through an INSERT: refuse
# any insert that names an id already taken.
_SQLITE = (
    "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
    "WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
)
# Row triggers do not see TRUNCATE; a statement trigger does.
_POSTGRESQL = (
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
)


def upgrade() -> None:
    op.execute(_POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_replace")
