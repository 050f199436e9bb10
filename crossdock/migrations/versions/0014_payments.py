"""Payments: each payment reported by a gateway or a bank statement, and the statements imported.

Revision ID: 0014_payments
Revises: 0002_orders
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_payments"
down_revision = "0002_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(255), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(500)),
        sa.Column("customer", sa.String(255)),
        sa.Column("occurred_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("invoice_id", sa.Integer),
        sa.Column("invoice_name", sa.String(255)),
        sa.Column("invoice_due", sa.String(10)),
        sa.Column("applied", sa.String(40)),
        sa.Column("difference", sa.String(40)),
        sa.Column("erp_payment_id", sa.Integer),
        sa.Column("detail", sa.Text),
        sa.Column("statement_id", sa.String(255)),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_payments_state", "payments", ["state", "updated_at"])
    op.create_index("ix_payments_invoice", "payments", ["invoice_id"])
    op.create_table(
        "payment_statements",
        sa.Column("statement_id", sa.String(255), primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("account", sa.String(64)),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("credits", sa.Integer, nullable=False),
        sa.Column("debits", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("payment_statements")
    op.drop_index("ix_payments_invoice", "payments")
    op.drop_index("ix_payments_state", "payments")
    op.drop_table("payments")
