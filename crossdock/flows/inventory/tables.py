"""Tables of the inventory flow: the warehouse's stock positions, the journal of stock events
since the last count, per-warehouse sequence tracking, counts (snapshots), the known-SKU cache
and what each channel was last told.

Positions hold quantities as exact integers in millionths of the unit (``12.5`` is
``12_500_000``), so a delta is added inside the upsert on both backends without reading the row
first; the journal and what channels were told keep exact decimal text. Times are epoch seconds
(float), like the engine's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

Seq = BigInteger().with_variant(Integer(), "sqlite")

stock_positions = Table(
    "stock_positions",
    metadata,
    Column("warehouse", String(16), primary_key=True),
    Column("location", String(255), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("quantity", BigInteger, nullable=False),  # millionths of the unit
    Column("unit", String(16), nullable=False),
    Column("last_sequence", Seq),  # highest warehouse sequence applied to this position
    Column("as_of", Float, nullable=False),  # event time (or count time) of the last change
    Column("updated_at", Float, nullable=False),
    Column("version", Integer, nullable=False),  # bumped on every change
    Column("erp_version", Integer, nullable=False),  # the version the ERP was written with
    Column("atp_version", Integer, nullable=False),  # the version the channels were told
    Index("ix_stock_positions_sku", "sku"),
)
"""The warehouse's view of what is on hand: its last count plus every delta applied after it."""

stock_events = Table(
    "stock_events",
    metadata,
    Column("warehouse", String(16), primary_key=True),
    Column("sequence", Seq, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("location", String(255), nullable=False),
    Column("to_location", String(255)),  # transfers: where the quantity went
    Column("sku", String(128), nullable=False),
    Column("quantity", String(40), nullable=False),  # signed change at `location`
    Column("unit", String(16), nullable=False),
    Column("occurred_at", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("event_id", String(100)),  # the sender's own id, when it gave one
)
"""Deltas applied since the warehouse's last count (a count prunes what it supersedes); a count
that arrives late replays the deltas it does not include on top of itself."""

stock_warehouses = Table(
    "stock_warehouses",
    metadata,
    Column("warehouse", String(16), primary_key=True),
    Column("max_sequence", Seq),  # highest sequence applied (None: nothing seen yet)
    Column("snapshot_sequence", Seq),  # deltas up to this one are included in the last count
    Column("snapshot_as_of", Float),  # time of the last count
    Column("snapshot_id", String(36)),
    Column("updated_at", Float, nullable=False),
)

stock_gaps = Table(
    "stock_gaps",
    metadata,
    Column("warehouse", String(16), primary_key=True),
    Column("first_sequence", Seq, primary_key=True, autoincrement=False),
    Column("last_sequence", Seq, nullable=False),
    Column("opened_at", Float, nullable=False),
)
"""Sequences not received yet below the highest one applied (inclusive ranges)."""

stock_snapshots = Table(
    "stock_snapshots",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("warehouse", String(16), nullable=False),
    Column("sequence", Seq),
    Column("as_of", Float, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("applied", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("received_at", Float, nullable=False),
    Index("ix_stock_snapshots_warehouse", "warehouse", "received_at"),
)

inventory_skus = Table(
    "inventory_skus",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("known", Boolean, nullable=False),
    Column("checked_at", Float, nullable=False),
)
"""SKUs the ERP was asked about: known products, and unknown ones (re-asked after a while)."""

inventory_sku_changes = Table(
    "inventory_sku_changes",
    metadata,
    Column("sku", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("published_version", Integer, nullable=False),
    Column("changed_at", Float, nullable=False),
)
"""SKUs whose availability may have changed (stock or orders) since it was last published."""

inventory_atp = Table(
    "inventory_atp",
    metadata,
    Column("channel", String(100), primary_key=True),
    Column("sku", String(128), primary_key=True),
    Column("available", String(40), nullable=False),
    Column("low", Boolean, nullable=False),
    Column("published_at", Float, nullable=False),
)
"""The last available-to-promise each channel was told (publication is change-only)."""

inventory_sync = Table(
    "inventory_sync",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("pending", Boolean, nullable=False),  # a sync request is queued and not started yet
    Column("last_change_at", Float),
    Column("unflushed_since", Float),  # oldest change not yet written to the ERP
    Column("unpublished_since", Float),  # oldest change not yet published to channels
    Column("last_flush_at", Float),
    Column("last_publish_at", Float),
    Column("erp_writes", BigInteger, nullable=False),  # quants written, ever
    Column("last_error", Text),
)
"""One row (``inventory``): the state of the coalescing sync loop."""
