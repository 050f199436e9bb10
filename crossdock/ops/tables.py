"""Tables of the operations layer: the audit trail (migration `0004_audit`).

- `audit_log`: append-only entries, `seq` 1, 2, 3… without gaps; each entry's `hash` is SHA-256 over
  its content and the previous entry's hash (`prev_hash`), so editing or removing an entry breaks
  the chain (`crossdock audit verify`).
- `audit_head`: one row (`id = 1`) with the last `seq` and `hash`. Appends lock it (row lock on
  PostgreSQL; SQLite's single writer), which serialises the chain across processes, and it reveals
  the removal of the newest entries.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

Seq = BigInteger().with_variant(Integer(), "sqlite")

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_subject", "subject", "seq"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Seq, nullable=False),
    Column("hash", String(64), nullable=False),
)
