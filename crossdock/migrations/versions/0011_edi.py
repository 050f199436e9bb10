"""EDI: files exchanged with trading partners (raw chunks, state, reason), interchanges received
and control numbers issued.

Revision ID: 0011_edi
Revises: 0002_orders
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_edi"
down_revision = "0002_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edi_files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("partner", sa.String(63), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("interchange", sa.String(9)),
        sa.Column("group_control", sa.String(9)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("partner", "direction", "sha256", name="uq_edi_files_content"),
    )
    op.create_index("ix_edi_files_due", "edi_files", ["direction", "next_attempt_at"])
    op.create_index("ix_edi_files_list", "edi_files", ["received_at", "id"])
    op.create_index("ix_edi_files_partner_state", "edi_files", ["partner", "state"])
    op.create_index(
        "ix_edi_files_group", "edi_files", ["partner", "direction", "group_control"]
    )
    op.create_table(
        "edi_file_chunks",
        sa.Column("file_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "edi_interchanges",
        sa.Column("partner", sa.String(63), primary_key=True),
        sa.Column("control", sa.String(9), primary_key=True),
        sa.Column("file_id", sa.String(36), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "edi_control_numbers",
        sa.Column("partner", sa.String(63), primary_key=True),
        sa.Column("kind", sa.String(3), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("edi_control_numbers")
    op.drop_table("edi_interchanges")
    op.drop_table("edi_file_chunks")
    op.drop_index("ix_edi_files_group", "edi_files")
    op.drop_index("ix_edi_files_partner_state", "edi_files")
    op.drop_index("ix_edi_files_list", "edi_files")
    op.drop_index("ix_edi_files_due", "edi_files")
    op.drop_table("edi_files")
