"""Returns: one row per return (RMA) and each return's steps.

Revision ID: 0013_returns
Revises: 0002_orders
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_returns"
down_revision = "0002_orders"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("rma", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("return_ref", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("erp", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("channel", "return_ref", name="uq_returns_channel_ref"),
    )
    op.create_index("ix_returns_order", "returns", ["order_id"])
    op.create_index("ix_returns_state_created", "returns", ["state", "created_at"])
    op.create_index("ix_returns_created", "returns", ["created_at"])
    op.create_table(
        "return_steps",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("rma", sa.String(40), nullable=False),
        sa.Column("step", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(36)),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_return_steps_rma", "return_steps", ["rma", "id"])


def downgrade() -> None:
    op.drop_index("ix_return_steps_rma", table_name="return_steps")
    op.drop_table("return_steps")
    op.drop_index("ix_returns_created", table_name="returns")
    op.drop_index("ix_returns_state_created", table_name="returns")
    op.drop_index("ix_returns_order", table_name="returns")
    op.drop_table("returns")
