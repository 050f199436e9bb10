"""Which SKUs exist: stock for an unknown SKU is refused at the door.

The ERP owns the product catalogue. Answers are kept in memory and in ``inventory_skus`` (shared by
every node): a known SKU stays known; an unknown one is asked about again after
``unknown_sku_recheck_s``. A node without an ERP connection (``serve --api-only``) knows what the
table holds. Only storable products count: stock of a service cannot be counted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy import Connection, select

from crossdock.cache import NEVER, SkuCache
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Database, Dialect, insert_ignore
from crossdock.errors import Unavailable
from crossdock.flows.inventory.tables import inventory_skus

Write = Callable[[Callable[[Connection], None]], Awaitable[None]]
"""Runs a function in a write transaction of the engine's writer."""

ERP_RETRY_S = 5.0
"""When a client may ask again after the ERP could not be asked about new SKUs."""


class KnownSkus:
    def __init__(self, erp: ErpPort | None, recheck_s: float = 60.0) -> None:
        self.erp = erp
        self.recheck_s = recheck_s
        # True (known) for ever; False (unknown) until recheck_s after it was checked
        self._answers: SkuCache[str, bool] = SkuCache()

    def remember(self, skus: Iterable[str]) -> None:
        """Mark SKUs as known (tests and seeding)."""
        for sku in skus:
            self._answers.put(sku, True, NEVER)

    def _known(self, sku: str) -> bool:
        return self._answers.get(sku, 0.0) is True

    async def unknown(
        self, db: Database, write: Write, skus: Iterable[str], *, priority: int = 0
    ) -> set[str]:
        """The SKUs among ``skus`` that are not storable products of the ERP."""
        now = time.time()
        wanted = {s for s in skus if not self._known(s)}
        if not wanted:
            return set()
        candidates = {s for s in wanted if not self._fresh_unknown(s, now)}
        if candidates:
            stored = await db.read(lambda c: _stored(c, sorted(candidates)), priority=priority)
            for sku, (known, checked_at) in stored.items():
                if known:
                    self._answers.put(sku, True, NEVER)
                elif checked_at + self.recheck_s > (self._answers.expires(sku) or -math.inf):
                    self._answers.put(sku, False, checked_at + self.recheck_s)
            ask = {s for s in candidates if not self._known(s)}
            ask = {s for s in ask if not self._fresh_unknown(s, now)}
            if ask and self.erp is not None:
                await self._ask_erp(write, sorted(ask), now)
        return {s for s in wanted if not self._known(s)}

    def _fresh_unknown(self, sku: str, now: float) -> bool:
        return self._answers.get(sku, now) is False

    async def _ask_erp(self, write: Write, skus: list[str], now: float) -> None:
        assert self.erp is not None
        try:
            resolution = await self.erp.resolve_products(skus)
        except Exception as exc:
            raise Unavailable(f"the ERP could not be asked about SKUs: {exc}", ERP_RETRY_S) from exc
        answers: dict[str, bool] = {}
        for sku in skus:
            info = resolution.found.get(sku)
            known = info is not None and info.storable
            answers[sku] = known
            self._answers.put(sku, known, NEVER if known else now + self.recheck_s)
        await write(lambda c: _store(c, answers, now))


def _stored(conn: Connection, skus: list[str]) -> dict[str, tuple[bool, float]]:
    out: dict[str, tuple[bool, float]] = {}
    for start in range(0, len(skus), 500):
        rows = conn.execute(
            select(inventory_skus).where(inventory_skus.c.sku.in_(skus[start : start + 500]))
        )
        out.update({row.sku: (bool(row.known), float(row.checked_at)) for row in rows})
    return out


def _store(conn: Connection, answers: dict[str, bool], now: float) -> None:
    skus = sorted(answers)
    for start in range(0, len(skus), 500):
        chunk = skus[start : start + 500]
        conn.execute(inventory_skus.delete().where(inventory_skus.c.sku.in_(chunk)))
    dialect: Dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    rows = [{"sku": s, "known": answers[s], "checked_at": now} for s in skus]
    for start in range(0, len(rows), 500):
        conn.execute(insert_ignore(dialect, inventory_skus, rows[start : start + 500]))
