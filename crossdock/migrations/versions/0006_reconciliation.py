"""Reconciliation: its runs and the drift items they found.

Revision ID: 0006_reconciliation
Revises: 0004_audit
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_reconciliation"
down_revision = "0004_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(100), nullable=False),
        sa.Column("fix", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("checked", sa.Integer, nullable=False),
        sa.Column("found", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("closed", sa.Integer, nullable=False),
        sa.Column("corrected", sa.Integer, nullable=False),
        sa.Column("exceptions", sa.Integer, nullable=False),
        sa.Column("value", sa.String(40), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_reconciliation_runs_kind_started", "reconciliation_runs", ["kind", "started_at"]
    )
    op.create_table(
        "drift_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("open_key", sa.String(300)),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("resolution", sa.String(30)),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("value", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float),
        sa.Column("first_run_id", sa.String(36), nullable=False),
        sa.Column("last_run_id", sa.String(36), nullable=False),
        sa.Column("seen", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("exception_id", sa.String(36)),
        sa.Column("correction", sa.Text),
        sa.UniqueConstraint("open_key", name="uq_drift_items_open_key"),
    )
    op.create_index("ix_drift_items_state_kind", "drift_items", ["state", "kind", "since"])
    op.create_index("ix_drift_items_subject", "drift_items", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_drift_items_subject", table_name="drift_items")
    op.drop_index("ix_drift_items_state_kind", table_name="drift_items")
    op.drop_table("drift_items")
    op.drop_index("ix_reconciliation_runs_kind_started", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
