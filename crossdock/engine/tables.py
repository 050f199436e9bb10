"""The engine's tables (SQLAlchemy Core). Migrations in `crossdock/migrations` create them.

- `events`: the append-only log; `seq` is the position, `partition` a stable hash of the subject.
  Its indexes are the two an append must pay for (id, idempotency key): consumers read it by
  position ranges, and per-subject histories are kept by the flows' own tables.
- `partition_heads`: the last position of each partition, written with every append.
- `cursors`: one row per consumer group and partition: how far the group got, who holds the lease.
- `parked_subjects` / `parked_events`: subjects of a group that wait for a retry, with their queue
  of events in order; the head is retried with backoff while the partition moves on for others.
- `dead_letters`: events whose handler exhausted its attempts, with every attempt's error.
- `schedule_ticks`: the last tick each cron schedule fired (catch-up after downtime).
- `engine_meta`: settings every node must agree on (the partition count).

Times used for leases and backoff are epoch seconds (float) so comparisons are cheap and identical
on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# BIGINT on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (rowid alias) with AUTOINCREMENT so a
# position is never reused.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("seq", Position, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("type", String(200), nullable=False),
    Column("source", String(200), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("time", String(40), nullable=False),
    Column("data", Text, nullable=False),
    Column("traceparent", String(80)),
    Column("idempotency_key", String(255)),
    Column("recorded_at", Float, nullable=False),
    UniqueConstraint("idempotency_key", "source", name="uq_events_key_source"),
    sqlite_autoincrement=True,
)

# The last position of each partition, kept by the appending transaction: whether a partition
# moved and up to where, without an index of the log by partition.
partition_heads = Table(
    "partition_heads",
    metadata,
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("head", BigInteger, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("group_name", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    Column("lease_owner", String(100)),
    Column("lease_token", String(36)),
    Column("lease_until", Float),
)

parked_subjects = Table(
    "parked_subjects",
    metadata,
    Column("group_name", String(200), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("next_at", Float, nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_token", String(36)),
    Column("lease_until", Float),
    Index("ix_parked_subjects_next_at", "next_at"),
)

parked_events = Table(
    "parked_events",
    metadata,
    Column("group_name", String(200), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("subject", String(255), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("errors", Text, nullable=False, default="[]"),
    Column("parked_at", Float, nullable=False),
    Index("ix_parked_events_subject", "group_name", "subject", "seq"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("group_name", String(200), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("errors", Text, nullable=False),
    Column("dead_at", Float, nullable=False),
    Column("replayed_at", Float),
    Index("ix_dead_letters_group", "group_name", "dead_at"),
    sqlite_autoincrement=True,
)

schedule_ticks = Table(
    "schedule_ticks",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("last_tick", Float, nullable=False),
)

engine_meta = Table(
    "engine_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
