"""The log without an index by partition: consumers read it by position ranges.

Every append paid for the block index (`((seq >> 10), partition)`, from 0007), and appends are
faster without it (docs/benchmarks.md). Consumers now read each
group of nearby partitions with one primary-key range scan and keep their own partitions' rows;
`partition_heads` still says which partitions moved.

Revision ID: 0008_no_partition_index
Revises: 0007_partition_heads
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_no_partition_index"
down_revision = "0007_partition_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_block_partition", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_block_partition", "events", [sa.text("(seq >> 10)"), "partition"])
