"""The runs of the Stripe catch-up (:mod:`crossdock.webhooks.stripe_catchup`): one row per run
that finished, with the window it listed and what it found. The newest row's ``cursor`` (the
``created`` of the newest event Stripe listed) is where the next run starts, less the overlap.

Times are epoch seconds (``since`` and ``cursor`` are Stripe's, whole seconds).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table

metadata = MetaData()

stripe_catchup_runs = Table(
    "stripe_catchup_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gateway", String(100), nullable=False),
    Column("trigger", String(255), nullable=False),  # schedule | token:<name>
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float, nullable=False),
    Column("since", Integer, nullable=False),  # created[gte] of the listing
    Column("cursor", Integer),  # the newest event's created (null: none listed yet)
    Column("listed", Integer, nullable=False),
    Column("new", Integer, nullable=False),  # stored now: missed by the webhooks
    Column("duplicates", Integer, nullable=False),  # the webhooks had stored them
    Column("ignored", Integer, nullable=False),  # types the mapping does not use
    Column("rejected", Integer, nullable=False),  # unreadable: an exception each
    Index("ix_stripe_catchup_runs_gateway", "gateway", "id"),
)
