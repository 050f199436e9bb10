"""The event engine: log, cursors, parked subjects, dead letters, schedules.

Revision ID: 0001_engine
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_engine"
down_revision = None
branch_labels = None
depends_on = None

Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", Position, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("traceparent", sa.String(80)),
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("recorded_at", sa.Float, nullable=False),
        sa.UniqueConstraint("idempotency_key", "source", name="uq_events_key_source"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_partition_seq", "events", ["partition", "seq"])
    op.create_table(
        "cursors",
        sa.Column("group_name", sa.String(200), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_token", sa.String(36)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_table(
        "parked_subjects",
        sa.Column("group_name", sa.String(200), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_token", sa.String(36)),
        sa.Column("lease_until", sa.Float),
    )
    op.create_index("ix_parked_subjects_next_at", "parked_subjects", ["next_at"])
    op.create_table(
        "parked_events",
        sa.Column("group_name", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("parked_at", sa.Float, nullable=False),
    )
    op.create_index("ix_parked_events_subject", "parked_events", ["group_name", "subject", "seq"])
    op.create_table(
        "dead_letters",
        sa.Column("id", Position, primary_key=True, autoincrement=True),
        sa.Column("group_name", sa.String(200), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("dead_at", sa.Float, nullable=False),
        sa.Column("replayed_at", sa.Float),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dead_letters_group", "dead_letters", ["group_name", "dead_at"])
    op.create_table(
        "schedule_ticks",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("last_tick", sa.Float, nullable=False),
    )
    op.create_table(
        "engine_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "engine_meta",
        "schedule_ticks",
        "dead_letters",
        "parked_events",
        "parked_subjects",
        "cursors",
        "events",
    ):
        op.drop_table(table)
