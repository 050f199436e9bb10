"""Webhook messages claimed endpoint by endpoint: an index of each endpoint's due messages.

A claim asks each endpoint for the due messages its concurrency cap leaves room for, so an
endpoint that cannot take more (hanging, at its cap) never hides the others' messages; this index
answers that question without scanning other endpoints' backlogs.

Revision ID: 0009_webhook_due_index
Revises: 0003_webhooks
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0009_webhook_due_index"
down_revision = "0003_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_messages_endpoint_due", "webhook_messages", ["endpoint_id", "state", "next_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_messages_endpoint_due", table_name="webhook_messages")
