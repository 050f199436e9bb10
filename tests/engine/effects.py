"""A table of handler effects in the hub's own database, used to check exactly-once and order."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlalchemy.pool import NullPool

from crossdock.engine import Batch
from crossdock.engine.database import normalize_url

meta = MetaData()
effects = Table(
    "test_effects",
    meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("worker", String(50), nullable=False),
)


def create(url: str) -> None:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    meta.create_all(engine)
    engine.dispose()


def record(batch: Batch, worker: str) -> None:
    rows = [
        {"event_id": e.id, "subject": e.subject, "seq": e.position, "worker": worker}
        for e in batch.events
    ]
    if rows:
        batch.write(lambda conn: conn.execute(insert(effects), rows) and None)


def count(url: str) -> int:
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        value = int(conn.execute(select(func.count()).select_from(effects)).scalar_one())
    engine.dispose()
    return value


def check(url: str) -> tuple[dict[str, int], dict[str, list[int]], set[str]]:
    """Per event id: how many effects; per subject: positions in the order handled; workers."""
    engine = create_engine(normalize_url(url), poolclass=NullPool)
    per_event: dict[str, int] = defaultdict(int)
    per_subject: dict[str, list[int]] = defaultdict(list)
    workers: set[str] = set()
    with engine.connect() as conn:
        for row in conn.execute(select(effects).order_by(effects.c.id)):
            per_event[row.event_id] += 1
            per_subject[row.subject].append(row.seq)
            workers.add(row.worker)
    engine.dispose()
    return per_event, per_subject, workers
