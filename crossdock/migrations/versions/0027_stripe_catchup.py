"""Stripe catch-up: the runs that listed missed events (``GET /v1/events``), the newest one's
cursor being where the next run starts.

Revision ID: 0027_stripe_catchup
Revises: 0021_payments_more
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_stripe_catchup"
down_revision = "0021_payments_more"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stripe_catchup_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gateway", sa.String(100), nullable=False),
        sa.Column("trigger", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=False),
        sa.Column("since", sa.Integer, nullable=False),
        sa.Column("cursor", sa.Integer),
        sa.Column("listed", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("duplicates", sa.Integer, nullable=False),
        sa.Column("ignored", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
    )
    op.create_index("ix_stripe_catchup_runs_gateway", "stripe_catchup_runs", ["gateway", "id"])


def downgrade() -> None:
    op.drop_index("ix_stripe_catchup_runs_gateway", "stripe_catchup_runs")
    op.drop_table("stripe_catchup_runs")
