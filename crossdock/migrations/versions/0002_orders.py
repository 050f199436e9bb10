"""Order-to-cash projections, exceptions queue, API tokens and idempotency records.

Revision ID: 0002_orders
Revises: 0001_engine
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_orders"
down_revision = "0001_engine"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("external_ref", sa.String(255), nullable=False),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("customer_ref", sa.String(255), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("erp", sa.Text, nullable=False),
        sa.Column("accepted_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("channel", "external_ref", name="uq_orders_channel_ref"),
    )
    op.create_index("ix_orders_state_updated", "orders", ["state", "updated_at"])
    op.create_index("ix_orders_accepted", "orders", ["accepted_at"])
    op.create_table(
        "order_steps",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("step", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(36)),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_order_steps_order", "order_steps", ["order_id", "id"])
    op.create_table(
        "exceptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(50), nullable=False),
        sa.Column("owner", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actions", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float),
        sa.Column("resolved_by", sa.String(100)),
        sa.Column("resolution", sa.String(50)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_exceptions_state_type", "exceptions", ["state", "type", "created_at"])
    op.create_index("ix_exceptions_subject", "exceptions", ["subject"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("rate_per_s", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "api_tokens", "exceptions", "order_steps", "orders"):
        op.drop_table(table)
