"""Tables of the webhooks package (SQLAlchemy Core); migration `0003_webhooks` creates them.

- `webhook_endpoints`: subscriptions — URL, event type patterns, state (active, paused, disabled),
  the signing secret and, during a rotation's overlap, the previous one; since when it is failing.
- `webhook_messages`: one row per (endpoint, event) to deliver: the delivery schedule (state,
  attempts, `next_at`) and the lease of the worker sending it (`lease_token`, `lease_until`).
- `webhook_attempts`: every delivery attempt: time, HTTP status or error, latency, response head.
- `webhook_inbound`: every verified inbound webhook: source, sender's message id, raw body (audit).

Secrets are stored as they are needed to sign (HMAC keys cannot be hashed). Times are epoch
seconds (float), like the engine's.
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
    UniqueConstraint,
)

from crossdock.engine import Position

metadata = MetaData()

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("event_types", Text, nullable=False),  # JSON list of patterns
    Column("state", String(20), nullable=False),  # active | paused | disabled
    Column("disabled_reason", Text),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100)),
    Column("previous_until", Float),
    Column("strict_order", Boolean, nullable=False, default=False),
    Column("max_in_flight", Integer),  # None: the configured default
    Column("failing_since", Float),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("endpoint_id", String(36), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("state", String(20), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", Float, nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_token", String(36)),
    Column("lease_until", Float),
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    Column("event_recorded_at", Float, nullable=False),
    Column("finished_at", Float),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_messages_endpoint_event"),
    Index("ix_webhook_messages_due", "state", "next_at"),
    Index("ix_webhook_messages_subject", "endpoint_id", "subject", "id"),
    Index("ix_webhook_messages_endpoint_due", "endpoint_id", "state", "next_at"),
    sqlite_autoincrement=True,
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, nullable=False),
    Column("endpoint_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("status", Integer),  # HTTP status; None when no answer (timeout, refused)
    Column("outcome", String(20), nullable=False),  # delivered | retry | dead | gone
    Column("latency_ms", Float, nullable=False),
    Column("response", Text, nullable=False, default=""),  # first bytes of the answer
    Column("error", Text),
    Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),
    sqlite_autoincrement=True,
)

webhook_inbound = Table(
    "webhook_inbound",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("message_id", String(255), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("headers", Text, nullable=False),  # JSON: the verification headers
    Column("body", Text, nullable=False),  # raw, as received (audit)
    Column("event_id", String(36)),
    UniqueConstraint("source", "message_id", name="uq_webhook_inbound_source_message"),
    sqlite_autoincrement=True,
)
