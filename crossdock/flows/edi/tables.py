"""Tables of EDI: every file exchanged with a trading partner (raw bytes in chunks, state and
reason), the interchanges received (duplicate ISA13 detection) and the control numbers issued.

Times are epoch seconds (float), like the engine's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

edi_files = Table(
    "edi_files",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("partner", String(63), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("name", String(255), nullable=False),  # the file's name at the partner (or ours)
    # in: received | parsed | rejected | processed
    # out: queued | mdn_pending | sent | failed | acknowledged | ack_rejected | ack_overdue
    Column("state", String(20), nullable=False),
    Column("reason", Text),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("interchange", String(9)),  # ISA13
    Column("group_control", String(9)),  # GS06 of an outbound file (a 997's AK102 finds it)
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float),  # due for (re)processing or (re)sending; null: nothing due
    Column("received_at", Float, nullable=False),  # in: stored; out: recorded
    Column("updated_at", Float, nullable=False),
    Column("detail", Text, nullable=False, default="{}"),  # JSON: sets, control numbers, results
    # The same bytes fetched again (a crash between storing and removing the remote file) are
    # the same file.
    UniqueConstraint("partner", "direction", "sha256", name="uq_edi_files_content"),
    Index("ix_edi_files_due", "direction", "next_attempt_at"),
    Index("ix_edi_files_list", "received_at", "id"),
    Index("ix_edi_files_partner_state", "partner", "state"),
    Index("ix_edi_files_group", "partner", "direction", "group_control"),
)

edi_file_chunks = Table(
    "edi_file_chunks",
    metadata,
    Column("file_id", String(36), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

edi_interchanges = Table(
    "edi_interchanges",
    metadata,
    Column("partner", String(63), primary_key=True),
    Column("control", String(9), primary_key=True),  # ISA13 as received
    Column("file_id", String(36), nullable=False),
    Column("at", Float, nullable=False),
)

edi_control_numbers = Table(
    "edi_control_numbers",
    metadata,
    Column("partner", String(63), primary_key=True),
    Column("kind", String(3), primary_key=True),  # isa | gs | st
    Column("last", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)
