"""AS2: the messages received from each partner by Message-ID (duplicates recognised).

Revision ID: 0018_as2
Revises: 0011_edi
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_as2"
down_revision = "0011_edi"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edi_as2_received",
        sa.Column("partner", sa.String(63), primary_key=True),
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column("file_id", sa.String(36), nullable=False),
        sa.Column("mic", sa.Text, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("edi_as2_received")
