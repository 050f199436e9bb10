"""The log's partitions: their heads in a table, and an index a commit writes in few places.

`(partition, seq)` had one insertion point per partition, so a commit wrote index pages in as
many places as it had partitions (docs/benchmarks.md). `((seq >> 10), partition)` keeps a
commit's entries within one block of 1,024 positions, a few pages; the partitions' last positions,
which that index cannot give, are kept in `partition_heads` by the appending transaction.

Revision ID: 0007_partition_heads
Revises: 0001_engine
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_partition_heads"
down_revision = "0001_engine"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partition_heads",
        sa.Column("partition", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("head", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO partition_heads (partition, head)"
        " SELECT partition, max(seq) FROM events GROUP BY partition"
    )
    op.create_index("ix_events_block_partition", "events", [sa.text("(seq >> 10)"), "partition"])
    op.drop_index("ix_events_partition_seq", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_partition_seq", "events", ["partition", "seq"])
    op.drop_index("ix_events_block_partition", table_name="events")
    op.drop_table("partition_heads")
