"""Payments: the bank statement files picked up from a folder, by content hash; the payment a
refund or chargeback takes back, kept to match it again later.

Revision ID: 0021_payments_more
Revises: 0014_payments
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_payments_more"
down_revision = "0014_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("original", sa.String(255)))
    op.create_table(
        "payment_statement_files",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("format", sa.String(16)),
        sa.Column("statement_id", sa.String(255)),
        sa.Column("entries", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("done_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("payment_statement_files")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("original")
