"""The audit trail: append-only, hash-chained entries of who did what to which business object.

`append_audit(conn, …)` runs inside the caller's transaction, so an entry commits together with
the change it records (an order accepted, cancelled, an exception resolved, a dead letter
replayed, a token created, a configuration change) or not at all. It locks the chain head first
(`SELECT … FOR UPDATE` on PostgreSQL; SQLite has one writer at a time), so concurrent appends from
any number of processes form one chain.

Each entry's hash is SHA-256 over the canonical JSON of `[seq, at, actor, action, subject,
details, prev_hash]`; `verify_chain` recomputes every hash and names the first entry that was
edited, removed or re-linked. Someone able to rewrite the whole table *and* recompute every hash
after the change is not detected by the database alone: keep the head hash printed by
`crossdock audit verify` somewhere else (a ticket, a log shipper) to anchor it.

Details must not hold personal data (an entry can never be erased): references, ids, reasons.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from crossdock.engine import insert_values
from crossdock.ops.tables import audit_head, audit_log

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditRecord",
    "Verification",
    "append_audit",
    "append_audit_many",
    "config_digest",
    "entry_hash",
    "list_audit",
    "local_actor",
    "record_config",
    "verify_chain",
]

GENESIS = "0" * 64
HEAD_ID = 1
CONFIG_SUBJECT = "config"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: float
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    entries: int
    head_hash: str
    bad_seq: int | None = None
    reason: str | None = None


def canonical(details: Mapping[str, Any]) -> str:
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def entry_hash(
    seq: int, at: float, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    payload = json.dumps(
        [seq, at, actor, action, subject, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


_HEAD = (
    select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID).with_for_update()
)
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT_HEAD = "INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash)"


def _lock_head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_HEAD).first()
    if row is None:  # normally made by the migration
        conn.execute(insert(audit_head).values(id=HEAD_ID, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(row.seq), str(row.hash)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry to append: who (`actor`), what (`action`), on which business key (`subject`)."""

    actor: str
    action: str
    subject: str
    details: Mapping[str, Any] = field(default_factory=dict)


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (see the module docstring)."""
    [entry] = append_audit_many(conn, [AuditRecord(actor, action, subject, details or {})], now)
    return entry


def append_audit_many(
    conn: Connection, records: Sequence[AuditRecord], now: float | None = None
) -> list[AuditEntry]:
    """Append several entries in order with one lock of the chain head and one insert."""
    if not records:
        return []
    seq, previous = _lock_head(conn)
    at = time.time() if now is None else now
    entries: list[AuditEntry] = []
    rows: list[tuple[Any, ...]] = []
    for record in records:
        seq += 1
        text = canonical(record.details)
        digest = entry_hash(seq, at, record.actor, record.action, record.subject, text, previous)
        details = json.loads(text)
        entries.append(
            AuditEntry(
                seq, at, record.actor, record.action, record.subject, details, previous, digest
            )
        )
        rows.append((seq, at, record.actor, record.action, record.subject, text, previous, digest))
        previous = digest
    insert_values(conn, _INSERT_HEAD, rows)
    conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": previous})
    return entries


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        at=float(row.at),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=json.loads(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def list_audit(
    conn: Connection,
    *,
    subject: str | None = None,
    action: str | None = None,
    after: int = 0,
    limit: int = 100,
    newest_first: bool = False,
) -> list[AuditEntry]:
    query = select(audit_log).limit(limit)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if after:
        query = query.where(audit_log.c.seq > after)
    order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq
    return [_entry(row) for row in conn.execute(query.order_by(order))]


def verify_chain(conn: Connection, page: int = 5000) -> Verification:
    """Recompute the chain from the first entry; stop at the first inconsistency."""
    expected, previous = 1, GENESIS

    def bad(seq: int, reason: str) -> Verification:
        return Verification(False, expected - 1, previous, seq, reason)

    while True:
        rows = conn.execute(
            select(audit_log)
            .where(audit_log.c.seq >= expected)
            .order_by(audit_log.c.seq)
            .limit(page)
        ).all()
        for row in rows:
            if row.seq != expected:
                return bad(expected, "missing: the entry was removed")
            if row.prev_hash != previous:
                return bad(row.seq, "prev_hash does not match the previous entry's hash")
            recomputed = entry_hash(
                row.seq, row.at, row.actor, row.action, row.subject, row.details, row.prev_hash
            )
            if recomputed != row.hash:
                return bad(row.seq, "edited: the hash does not match the entry's content")
            expected, previous = expected + 1, row.hash
        if len(rows) < page:
            break
    head = conn.execute(select(audit_head).where(audit_head.c.id == HEAD_ID)).first()
    count = expected - 1
    head_seq, head_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS)
    if head is None and count:
        return bad(1, "the chain head record is missing")
    if head_seq > count:
        return bad(expected, f"missing: removed (the chain head is at {head_seq})")
    if head_seq < count:
        return bad(head_seq + 1, "not in the chain head: appended outside append_audit")
    if head_hash != previous:
        return bad(head_seq, "the chain head's hash does not match the last entry")
    return Verification(True, count, previous)


def local_actor(role: str = "cli") -> str:
    """The actor of a command run on this machine: `cli:<user>@<host>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{role}:{user}@{socket.gethostname()}"


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the effective configuration (secrets appear as their references only)."""
    return hashlib.sha256(canonical(config).encode()).hexdigest()


def record_config(conn: Connection, digest: str, *, actor: str, source: str | None) -> bool:
    """Record the configuration's digest when it differs from the last one recorded."""
    last = list_audit(conn, subject=CONFIG_SUBJECT, limit=1, newest_first=True)
    if last and last[0].details.get("sha256") == digest:
        return False
    append_audit(
        conn,
        actor=actor,
        action="config.changed",
        subject=CONFIG_SUBJECT,
        details={
            "sha256": digest,
            "previous": last[0].details.get("sha256") if last else None,
            "source": source,
        },
    )
    return True
