"""Tables of the returns flow: one row per return (RMA) with its request, state, ERP references
and the answer given to its request, and each return's steps (its timeline).

Times are epoch seconds (float), like the engine's. JSON columns hold text written by the flow.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, MetaData, String, Table, Text, UniqueConstraint

from crossdock.engine import Position

metadata = MetaData()

returns = Table(
    "returns",
    metadata,
    Column("rma", String(40), primary_key=True),
    Column("channel", String(100), nullable=False),
    Column("return_ref", String(255), nullable=False),  # the channel's own return number
    Column("order_id", String(36), nullable=False),
    Column("state", String(30), nullable=False),
    Column("outcome", String(20), nullable=False),  # refund | credit | exchange
    Column("currency", String(3), nullable=False),
    Column("amount", String(40), nullable=False),  # value of the lines asked back
    Column("body", Text, nullable=False),  # the request as accepted (JSON)
    Column("erp", Text, nullable=False, default="{}"),  # pickings, disposals, credit note…
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("channel", "return_ref", name="uq_returns_channel_ref"),
    Index("ix_returns_order", "order_id"),
    Index("ix_returns_state_created", "state", "created_at"),
    Index("ix_returns_created", "created_at"),
)

return_steps = Table(
    "return_steps",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("rma", String(40), nullable=False),
    Column("step", String(50), nullable=False),
    Column("status", String(20), nullable=False),  # done | waiting | failed | skipped
    Column("at", Float, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("event_id", String(36)),
    Index("ix_return_steps_rma", "rma", "id"),
    sqlite_autoincrement=True,
)
