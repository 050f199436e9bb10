"""Procure-to-stock: replenishment recommendations, their lines and the purchase order timeline.

Revision ID: 0015_procurement
Revises: 0002_orders
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_procurement"
down_revision = "0002_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procurement_recommendations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ref", sa.String(80), nullable=False, unique=True),
        sa.Column("supplier_ref", sa.String(120), nullable=False),
        sa.Column("warehouse", sa.String(60), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("open_key", sa.String(200), unique=True),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("lead_days", sa.Integer, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("approvals", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("po_name", sa.String(80)),
        sa.Column("po_id", sa.Integer),
        sa.Column("error", sa.Text),
    )
    op.create_index(
        "ix_procurement_recommendations_state",
        "procurement_recommendations",
        ["state", "created_at"],
    )
    op.create_table(
        "procurement_recommendation_lines",
        sa.Column("recommendation_id", sa.String(36), primary_key=True),
        sa.Column("sku", sa.String(120), primary_key=True),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("recommended", sa.String(40), nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("unit_price", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "procurement_timeline",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_procurement_timeline_rec", "procurement_timeline", ["recommendation_id", "id"]
    )

    op.create_table(
        "procurement_supplier_messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recommendation_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("result", sa.Text),
        sa.UniqueConstraint("recommendation_id", "kind", "key", name="uq_procurement_message"),
    )


def downgrade() -> None:
    op.drop_table("procurement_supplier_messages")
    op.drop_index("ix_procurement_timeline_rec", table_name="procurement_timeline")
    op.drop_table("procurement_timeline")
    op.drop_table("procurement_recommendation_lines")
    op.drop_index("ix_procurement_recommendations_state", table_name="procurement_recommendations")
    op.drop_table("procurement_recommendations")
