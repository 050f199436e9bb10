"""Outbound webhook subscriptions, messages and attempts; inbound webhook audit records.

Revision ID: 0003_webhooks
Revises: 0002_orders
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_webhooks"
down_revision = "0002_orders"
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("event_types", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("previous_secret", sa.String(100)),
        sa.Column("previous_until", sa.Float),
        sa.Column("strict_order", sa.Boolean, nullable=False),
        sa.Column("max_in_flight", sa.Integer),
        sa.Column("failing_since", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("endpoint_id", sa.String(36), nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_token", sa.String(36)),
        sa.Column("lease_until", sa.Float),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("event_recorded_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name="uq_webhook_messages_endpoint_event"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_messages_due", "webhook_messages", ["state", "next_at"])
    op.create_index(
        "ix_webhook_messages_subject", "webhook_messages", ["endpoint_id", "subject", "id"]
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column("endpoint_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_attempts_endpoint", "webhook_attempts", ["endpoint_id", "id"])
    op.create_table(
        "webhook_inbound",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("event_id", sa.String(36)),
        sa.UniqueConstraint("source", "message_id", name="uq_webhook_inbound_source_message"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("webhook_inbound", "webhook_attempts", "webhook_messages", "webhook_endpoints"):
        op.drop_table(table)
