"""Tables of the payments flow: each payment reported (by a gateway or a bank statement) with
what became of it, and the bank statements imported.

Amounts are decimal text (exact); times are epoch seconds, like the engine's.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(255), primary_key=True),  # <source>:<id at the source>
    Column("source", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # captured | failed | refunded | chargeback
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(500)),
    Column("customer", String(255)),
    Column("occurred_at", Float, nullable=False),
    # received → registering → registered | partial | overpaid; or unmatched, ambiguous,
    # not_registered, failed, chargeback (the last four with an exception or as drift)
    Column("state", String(20), nullable=False),
    Column("invoice_id", Integer),
    Column("invoice_name", String(255)),
    Column("invoice_due", String(10)),
    Column("applied", String(40)),  # the amount registered against the invoice
    Column("difference", String(40)),  # amount - the invoice's residual when it was matched
    Column("erp_payment_id", Integer),
    Column("detail", Text),
    Column("statement_id", String(255)),
    Column("original", String(255)),  # a refund's or chargeback's payment, when known
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_payments_state", "state", "updated_at"),
    Index("ix_payments_invoice", "invoice_id"),
)

statements = Table(
    "payment_statements",
    metadata,
    Column("statement_id", String(255), primary_key=True),  # <format>:<account>:<id>
    Column("format", String(16), nullable=False),  # camt053 | csv
    Column("account", String(64)),
    Column("entries", Integer, nullable=False),
    Column("credits", Integer, nullable=False),
    Column("debits", Integer, nullable=False),
    Column("imported_at", Float, nullable=False),
)

statement_files = Table(
    "payment_statement_files",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the file's content
    Column("name", String(255), nullable=False),  # the file's name when first seen
    Column("state", String(16), nullable=False),  # importing | imported | rejected
    Column("format", String(16)),
    Column("statement_id", String(255)),
    Column("entries", Integer),
    Column("error", Text),  # a rejected file: the pointer (line or entry) and the rule
    Column("seen_at", Float, nullable=False),
    Column("done_at", Float),
)
