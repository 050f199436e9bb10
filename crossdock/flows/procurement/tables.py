"""Tables of procure-to-stock (migration ``0015_procurement``).

- ``procurement_recommendations``: one per supplier, warehouse and currency per run, with its
  state (``pending`` → ``awaiting_second`` → ``approved`` → ``ordered``, or ``rejected`` /
  ``superseded``), its amount and approvals. ``open_key`` holds ``supplier|warehouse|currency``
  while the recommendation is undecided (pending or awaiting a second approver) and NULL after:
  its unique constraint keeps one open recommendation per supplier and warehouse, which a new run
  updates in place.
- ``procurement_recommendation_lines``: its lines, with the recommended quantity, the quantity
  approved (edited by a reviewer) and the reason.
- ``procurement_timeline``: the steps of a recommendation and of the purchase order made from it
  (recommended, approved, ordered, sent, acknowledged, shipped, received, billed), in order.
- ``procurement_supplier_messages``: what the supplier sent about a purchase order
  (acknowledgements, advance ship notices), whatever the transport (API/webhook or EDI), unique by
  the message's own reference: a duplicate is recognised by its digest, a different message
  under the same reference is refused.

Times are epoch seconds (float); amounts and quantities are decimal text.
"""

from __future__ import annotations

from sqlalchemy import (
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

recommendations = Table(
    "procurement_recommendations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("ref", String(80), nullable=False, unique=True),
    Column("supplier_ref", String(120), nullable=False),
    Column("warehouse", String(60), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("state", String(20), nullable=False),
    Column("open_key", String(200), unique=True),
    Column("amount", String(40), nullable=False),
    Column("lead_days", Integer, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("approvals", Text, nullable=False),  # JSON list of {"by", "at"}
    Column("decided_by", String(200)),
    Column("note", Text),
    Column("po_name", String(80)),
    Column("po_id", Integer),
    Column("error", Text),
    Index("ix_procurement_recommendations_state", "state", "created_at"),
)

recommendation_lines = Table(
    "procurement_recommendation_lines",
    metadata,
    Column("recommendation_id", String(36), primary_key=True),
    Column("sku", String(120), primary_key=True),
    Column("line_no", Integer, nullable=False),
    Column("recommended", String(40), nullable=False),
    Column("quantity", String(40), nullable=False),  # what is approved (0: line dropped)
    Column("unit_price", String(40), nullable=False),
    Column("reason", Text, nullable=False),
)

timeline = Table(
    "procurement_timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recommendation_id", String(36), nullable=False),
    Column("step", String(30), nullable=False),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("details", Text, nullable=False),
    Index("ix_procurement_timeline_rec", "recommendation_id", "id"),
)

supplier_messages = Table(
    "procurement_supplier_messages",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("recommendation_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),  # acknowledgement | shipment
    Column("key", String(200), nullable=False),  # the message's own reference
    Column("digest", String(64), nullable=False),  # SHA-256 of its canonical JSON
    Column("body", Text, nullable=False),
    Column("state", String(20), nullable=False),  # received | applied | exception
    Column("received_at", Float, nullable=False),
    Column("result", Text),
    UniqueConstraint("recommendation_id", "kind", "key", name="uq_procurement_message"),
)
