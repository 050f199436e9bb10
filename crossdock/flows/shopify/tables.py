"""Table of the Shopify channel: what the hub knows of each Shopify order (the last version
worked, by Shopify's ``updated_at``, so that an older update never overwrites a newer one), the
hub's order it became, the pull's high-water mark per shop, and the writes to Shopify that must
not be doubled (refunds, cancellations)."""

from __future__ import annotations

from sqlalchemy import Column, Float, MetaData, String, Table, Text

metadata = MetaData()

shopify_orders = Table(
    "shopify_orders",
    metadata,
    Column("system", String(100), primary_key=True),
    Column("shopify_id", String(64), primary_key=True),
    Column("name", String(100)),
    Column("updated_at", Float, nullable=False),  # Shopify's updated_at of the version worked
    Column("state", String(20), nullable=False),  # accepted | invalid | test | cancelled
    Column("order_id", String(36)),  # the hub's order, once accepted
    Column("digest", String(64)),  # of the canonical order accepted (changes are detected)
    Column("facts", Text, nullable=False),  # tags, note attributes, payment status, currencies
    Column("problems", Text, nullable=False),
    Column("worked_at", Float, nullable=False),
)

shopify_marks = Table(
    "shopify_marks",
    metadata,
    Column("system", String(100), primary_key=True),
    Column("pulled_to", Float, nullable=False),  # the pull saw every update up to this time
    Column("at", Float, nullable=False),
)

shopify_writes = Table(
    "shopify_writes",
    metadata,
    Column("system", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),  # refund:<rma> | cancel:<order id>
    Column("state", String(20), nullable=False),  # pending | done | refused
    Column("shopify_id", String(100)),  # the refund's gid once made
    Column("at", Float, nullable=False),
)
"""Writes to Shopify that must never be doubled, recorded before the call: a pending one found
by a replay means an earlier attempt may have reached the shop, which is asked first."""
