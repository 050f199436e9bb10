"""The Shopify channel: its orders (last version worked) and the pull's marks.

Revision ID: 0012_shopify
Revises: 0002_orders
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_shopify"
down_revision = "0002_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopify_orders",
        sa.Column("system", sa.String(100), primary_key=True),
        sa.Column("shopify_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(36)),
        sa.Column("digest", sa.String(64)),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("problems", sa.Text, nullable=False),
        sa.Column("worked_at", sa.Float, nullable=False),
    )
    op.create_table(
        "shopify_marks",
        sa.Column("system", sa.String(100), primary_key=True),
        sa.Column("pulled_to", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shopify_marks")
    op.drop_table("shopify_orders")
