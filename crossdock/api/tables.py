"""Tables of the HTTP layer: API tokens (hashed)."""

from __future__ import annotations

from sqlalchemy import Column, Float, MetaData, String, Table, Text

metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the token
    Column("scopes", Text, nullable=False),  # space-separated
    Column("rate_per_s", Float),  # None: the configured default
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
)
