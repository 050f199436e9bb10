"""Table of the Shopify channel: what the hub knows of each Shopify order (the last version
worked, by Shopify's ``updated_at``, so that an older update never overwrites a newer one), the
hub's order it became, and the pull's high-water mark per shop."""

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
