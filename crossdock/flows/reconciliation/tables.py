"""Tables of reconciliation (migration ``0006_reconciliation``): its runs and the drift items they
found.

- ``reconciliation_runs``: one row per run of one kind (``orders``, ``invoices``, ``stock``) with
  its counts and a JSON summary (counts per drift type, corrections, the error of a failed run).
- ``drift_items``: one row per difference between systems, kept across runs. ``key`` names the
  difference (drift type and business key); while it is found again, it is the same row (its age
  grows); once a run no longer finds it, the row is closed. ``open_key`` holds ``key`` while the
  item is open and NULL after: its unique constraint lets at most one open item exist per key,
  even when two nodes run the same reconciliation at once.

Times are epoch seconds (float); amounts and quantities are decimal text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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

reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("trigger", String(100), nullable=False),  # cli, schedule, api, exception
    Column("fix", Boolean, nullable=False),  # automatic correction was on
    Column("status", String(20), nullable=False),  # ok | failed
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("checked", Integer, nullable=False),  # records compared
    Column("found", Integer, nullable=False),  # drift items present at the end of the run
    Column("new", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("corrected", Integer, nullable=False),
    Column("exceptions", Integer, nullable=False),  # exceptions opened by this run
    Column("value", String(40), nullable=False),
    Column("summary", Text, nullable=False),
    Index("ix_reconciliation_runs_kind_started", "kind", "started_at"),
)

drift_items = Table(
    "drift_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("type", String(50), nullable=False),
    Column("key", String(300), nullable=False),
    Column("open_key", String(300)),
    Column("subject", String(255), nullable=False),
    Column("state", String(20), nullable=False),  # open | closed
    Column("resolution", String(30)),  # corrected | gone
    Column("owner", String(100), nullable=False),  # the system of record of the domain
    Column("value", String(40), nullable=False),
    Column("currency", String(3)),
    Column("since", Float, nullable=False),  # what the age counts from
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("closed_at", Float),
    Column("first_run_id", String(36), nullable=False),
    Column("last_run_id", String(36), nullable=False),
    Column("seen", Integer, nullable=False),  # runs that found it
    Column("summary", Text, nullable=False),  # one line for people
    Column("details", Text, nullable=False),  # JSON: expected and actual values
    Column("exception_id", String(36)),
    Column("correction", Text),  # JSON: the last correction applied (action, at, result)
    UniqueConstraint("open_key", name="uq_drift_items_open_key"),
    Index("ix_drift_items_state_kind", "state", "kind", "since"),
    Index("ix_drift_items_subject", "subject"),
)
