"""The Shopify channel's writes that must not be doubled (refunds, cancellations).

Revision ID: 0017_shopify_out
Revises: 0012_shopify
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_shopify_out"
down_revision = "0012_shopify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shopify_writes",
        sa.Column("system", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("shopify_id", sa.String(100)),
        sa.Column("at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shopify_writes")
