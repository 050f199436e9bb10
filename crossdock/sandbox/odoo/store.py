"""Storage of the sandbox: every table in memory, each committed call written to SQLite.

A call runs in a :class:`Transaction`: the first change to a record saves its previous value, so
an error restores every touched record (Odoo's rollback), and a commit writes exactly the touched
records to the SQLite file in one SQLite transaction. With no path the store lives in memory only.

Equality lookups (`search` on a reference, a state, a partner) use value indexes built on first
use and kept current from the records each transaction touches, so a sandbox holding tens of
thousands of orders answers like a database with indexes rather than by scanning every record.
Each table's ids are also kept in ascending order, so a search ordered by id with a limit (keyset
paging on ``id >``) reads from where its page starts instead of filtering the whole table.
"""

from __future__ import annotations

import bisect
import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

__all__ = ["Store", "Transaction"]

Record = dict[str, Any]
_ABSENT: Record = {"__absent__": True}


class Store:
    def __init__(self, path: str | Path | None = None) -> None:
        self.tables: dict[str, dict[int, Record]] = {}
        self.counters: dict[str, int] = {}
        self.path = str(path) if path else None
        self._indexes: dict[str, dict[str, _Index]] = {}
        self._stale: dict[str, set[int]] = {}
        self._ordered: dict[str, list[int]] = {}
        self._open: Transaction | None = None
        self._db: sqlite3.Connection | None = None
        if self.path:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS records "
                "(model TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL, "
                "PRIMARY KEY (model, id))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER)"
            )
            for model, rid, data in self._db.execute("SELECT model, id, data FROM records"):
                self.tables.setdefault(model, {})[int(rid)] = json.loads(data)
            for name, value in self._db.execute("SELECT name, value FROM counters"):
                self.counters[name] = int(value)

    @property
    def empty(self) -> bool:
        return not any(self.tables.values())

    def table(self, model: str) -> dict[int, Record]:
        return self.tables.setdefault(model, {})

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def begin(self) -> Transaction:
        self._open = Transaction(self)
        return self._open

    def lookup(self, model: str, fname: str, values: list[Any]) -> set[int]:
        """Ids of the records of `model` whose stored `fname` equals one of `values`."""
        indexes = self._indexes.setdefault(model, {})
        index = indexes.get(fname)
        if index is None:
            index = indexes[fname] = _Index(fname, self.table(model))
        self._refresh(model)
        found: set[int] = set()
        for value in values:
            found |= index.ids.get(value, set())
        return found

    def ordered_ids(self, model: str) -> list[int]:
        """The ids of `model` in ascending order (kept until a record is deleted or restored)."""
        ids = self._ordered.get(model)
        if ids is None:
            ids = self._ordered[model] = sorted(self.table(model))
        return ids

    def id_range(self, model: str, low: int | None, high: int | None) -> tuple[list[int], range]:
        """The ascending ids of `model` and the positions in it of ``low <= id <= high`` (either
        bound optional)."""
        ids = self.ordered_ids(model)
        start = 0 if low is None else bisect.bisect_left(ids, low)
        stop = len(ids) if high is None else bisect.bisect_right(ids, high)
        return ids, range(start, max(start, stop))

    def _inserted(self, model: str, rid: int) -> None:
        ids = self._ordered.get(model)
        if ids is not None and ids and rid <= ids[-1]:
            self._ordered.pop(model)
        elif ids is not None:
            ids.append(rid)

    def _touched(self, model: str, rid: int) -> None:
        if model in self._indexes:
            self._stale.setdefault(model, set()).add(rid)

    def _refresh(self, model: str) -> None:
        """Re-index the records changed since the last lookup, and those the open transaction
        touched (a call may still change a record it touched before this lookup)."""
        rids = self._stale.pop(model, set())
        if self._open is not None:
            rids |= {rid for (m, rid) in self._open._before if m == model}
        if rids:
            table = self.table(model)
            for index in self._indexes[model].values():
                for rid in rids:
                    index.update(rid, table.get(rid))


class _Index:
    """Stored value → ids, for one field of one model."""

    def __init__(self, fname: str, table: dict[int, Record]) -> None:
        self.fname = fname
        self.ids: dict[Any, set[int]] = {}
        self.of: dict[int, Any] = {}
        for rid, record in table.items():
            self.update(rid, record)

    def update(self, rid: int, record: Record | None) -> None:
        old = self.of.pop(rid, _ABSENT)
        if old is not _ABSENT:
            self.ids[old].discard(rid)
        if record is not None:
            value = record.get(self.fname)
            if isinstance(value, list | dict):
                return
            self.of[rid] = value
            self.ids.setdefault(value, set()).add(rid)


class Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._before: dict[tuple[str, int], Record] = {}
        self._counters: dict[str, int] = {}
        self.created = 0

    def next_id(self, name: str) -> int:
        if name not in self._counters:
            self._counters[name] = self.store.counters.get(name, 0)
        self.store.counters[name] = self.store.counters.get(name, 0) + 1
        return self.store.counters[name]

    def touch(self, model: str, rid: int) -> None:
        key = (model, rid)
        self.store._touched(model, rid)
        if key not in self._before:
            current = self.store.table(model).get(rid)
            self._before[key] = copy.deepcopy(current) if current is not None else _ABSENT

    def insert(self, model: str, record: Record) -> None:
        self.touch(model, int(record["id"]))
        self.store.table(model)[int(record["id"])] = record
        self.store._inserted(model, int(record["id"]))
        self.created += 1

    def update(self, model: str, rid: int, values: Record) -> None:
        self.touch(model, rid)
        self.store.table(model)[rid].update(values)

    def delete(self, model: str, rid: int) -> None:
        self.touch(model, rid)
        self.store.table(model).pop(rid, None)
        self.store._ordered.pop(model, None)

    def rollback(self) -> None:
        for (model, rid), before in self._before.items():
            self.store._touched(model, rid)
            self.store._ordered.pop(model, None)
            if before is _ABSENT:
                self.store.table(model).pop(rid, None)
            else:
                self.store.table(model)[rid] = before
        for name, value in self._counters.items():
            self.store.counters[name] = value
        self._before.clear()

    def commit(self) -> None:
        db = self.store._db
        if db is not None and (self._before or self._counters):
            db.execute("BEGIN")
            try:
                for model, rid in self._before:
                    record = self.store.table(model).get(rid)
                    if record is None:
                        db.execute("DELETE FROM records WHERE model=? AND id=?", (model, rid))
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO records (model, id, data) VALUES (?, ?, ?)",
                            (model, rid, json.dumps(record)),
                        )
                for name in self._counters:
                    db.execute(
                        "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                        (name, self.store.counters[name]),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        self._before.clear()
