"""Table of AS2: the messages received from each partner by Message-ID, so that a message sent
again is recognised (and answered with the same receipt) instead of stored twice."""

from __future__ import annotations

from sqlalchemy import Column, Float, MetaData, String, Table, Text

metadata = MetaData()

edi_as2_received = Table(
    "edi_as2_received",
    metadata,
    Column("partner", String(63), primary_key=True),
    Column("message_id", String(255), primary_key=True),  # as received, angle brackets included
    Column("file_id", String(36), nullable=False),  # the stored file (edi_files.id)
    Column("mic", Text, nullable=False),  # the Received-Content-MIC answered
    Column("received_at", Float, nullable=False),
)
