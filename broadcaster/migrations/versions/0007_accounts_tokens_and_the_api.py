"""accounts, roles' stations, API tokens, login failures, idempotent answers; the audit names the account

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import broadcaster.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# On SQLite the audit log gains its columns through ALTER TABLE, not a batch rebuild: a rebuild would
# drop the triggers that keep the log append-only.
_SQLITE_AUDIT_COLUMNS = [
    "ALTER TABLE audit_log ADD COLUMN account_id INTEGER "
    "CONSTRAINT fk_audit_log_account_id_accounts REFERENCES accounts (id)",
    "ALTER TABLE audit_log ADD COLUMN client VARCHAR(100)",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("login", name=op.f("uq_accounts_login")),
    )
    op.create_table(
        "account_stations",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_stations_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_account_stations_station_id_stations"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "station_id", name=op.f("pk_account_stations")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.Column("last_used_at", broadcaster.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_tokens_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_account_id"), ["account_id"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", broadcaster.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    op.create_table(
        "idempotent_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("created_at", broadcaster.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_idempotent_answers_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_answers")),
        sa.UniqueConstraint("account_id", "key", name=op.f("uq_idempotent_answers_account_id_key")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_AUDIT_COLUMNS:
            op.execute(statement)
    else:
        op.add_column("audit_log", sa.Column("account_id", sa.Integer(), nullable=True))
        op.add_column("audit_log", sa.Column("client", sa.String(length=100), nullable=True))
        op.create_foreign_key(op.f("fk_audit_log_account_id_accounts"), "audit_log", "accounts", ["account_id"], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE audit_log DROP COLUMN client")
        op.execute("ALTER TABLE audit_log DROP COLUMN account_id")
    else:
        op.drop_constraint(op.f("fk_audit_log_account_id_accounts"), "audit_log", type_="foreignkey")
        op.drop_column("audit_log", "client")
        op.drop_column("audit_log", "account_id")
    op.drop_table("idempotent_answers")
    op.drop_table("login_failures")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_account_id"))
    op.drop_table("api_tokens")
    op.drop_table("account_stations")
    op.drop_table("accounts")
