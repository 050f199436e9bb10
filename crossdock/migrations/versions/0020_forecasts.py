"""Demand history, its exports, and forecast versions with their lines.

Revision ID: 0020_forecasts
Revises: 0015_procurement
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_forecasts"
down_revision = "0015_procurement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demand_history",
        sa.Column("warehouse", sa.String(60), primary_key=True),
        sa.Column("sku", sa.String(120), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("quantity", sa.String(40), nullable=False),
    )
    op.create_table(
        "demand_exports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("until", sa.Float, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("location", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_demand_exports_until", "demand_exports", ["until"])
    op.create_table(
        "forecast_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, unique=True),
        sa.Column("import_id", sa.String(120), nullable=False, unique=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("policy", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("lines_total", sa.Integer, nullable=False),
        sa.Column("lines_applied", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Text, nullable=False),
    )
    op.create_index("ix_forecast_versions_state", "forecast_versions", ["state", "version"])
    op.create_table(
        "forecast_lines",
        sa.Column("version_id", sa.String(36), primary_key=True),
        sa.Column("warehouse", sa.String(60), primary_key=True),
        sa.Column("sku", sa.String(120), primary_key=True),
        sa.Column("period_start", sa.String(10), primary_key=True),
        sa.Column("period_days", sa.Integer, nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("confidence", sa.String(40)),
    )


def downgrade() -> None:
    op.drop_table("forecast_lines")
    op.drop_index("ix_forecast_versions_state", table_name="forecast_versions")
    op.drop_table("forecast_versions")
    op.drop_index("ix_demand_exports_until", table_name="demand_exports")
    op.drop_table("demand_exports")
    op.drop_table("demand_history")
