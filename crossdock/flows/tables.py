"""Tables the flows own: the order projection, each order's steps, the exceptions queue and the
idempotency records of write requests.

Times are epoch seconds (float), like the engine's. JSON columns hold text written by the flows.
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

from crossdock.engine import Position

metadata = MetaData()

orders = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("channel", String(100), nullable=False),
    Column("external_ref", String(255), nullable=False),
    Column("state", String(30), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the canonical Order as accepted
    Column("erp", Text, nullable=False, default="{}"),  # ERP references: sale orders, pickings…
    Column("accepted_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("channel", "external_ref", name="uq_orders_channel_ref"),
    Index("ix_orders_state_updated", "state", "updated_at"),
    Index("ix_orders_accepted", "accepted_at"),
)

order_steps = Table(
    "order_steps",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("order_id", String(36), nullable=False),
    Column("step", String(50), nullable=False),
    Column("status", String(20), nullable=False),  # done | failed | waiting
    Column("at", Float, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("event_id", String(36)),
    Index("ix_order_steps_order", "order_id", "id"),
    sqlite_autoincrement=True,
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("type", String(50), nullable=False),
    Column("owner", String(50), nullable=False),  # the role that must decide: finance, sales…
    Column("subject", String(255), nullable=False),  # the business key, e.g. the order id
    Column("reason", Text, nullable=False),
    Column("actions", Text, nullable=False),  # JSON list of the resolution actions offered
    Column("state", String(20), nullable=False),  # open | resolved
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("resolved_by", String(100)),
    Column("resolution", String(50)),
    Column("note", Text),
    Index("ix_exceptions_state_type", "state", "type", "created_at"),
    Index("ix_exceptions_subject", "subject"),
)

# Idempotency records of write requests: the answer given under each key, written in the same
# transaction as the request's rows and events.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(300), primary_key=True),  # "<endpoint>:<Idempotency-Key>"
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
