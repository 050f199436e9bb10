"""Pricelists by currency: the pricelist a sale order gets decides its ``currency_id`` (Odoo 16
relates the order's currency to ``pricelist_id.currency_id``; 17+ computes it from the pricelist,
else the company), so an order is made in its own currency by giving it a pricelist in that
currency.

The pricelist of a currency is, in order: the one configured for it (``configured``, checked to be
active and in that currency), one of the ``preferred`` pricelists in that currency, else the first
active pricelist (by id) of that currency visible to the company (no company, or that company),
provided the currency itself is active. Found pricelists and the currency of configured ones are
cached for ``product_cache_ttl_s``; a currency without a pricelist is looked up again next time, so
activating it in Odoo is enough for a retry to go through. A look-up of several currencies costs
at most two ``search_read`` (currencies, then their pricelists) and one ``read`` of configured
pricelists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from crossdock.connectors.odoo.batching import BatchOutcome
from crossdock.connectors.odoo.errors import CurrencyUnsupportedError
from crossdock.connectors.odoo.mapping import m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase

__all__ = ["PricelistOperations"]


class PricelistOperations(OperationsBase):
    async def currency_pricelists(
        self,
        currencies: Iterable[str],
        *,
        company_id: int,
        configured: Mapping[str, int] | None = None,
        preferred: Sequence[int] = (),
    ) -> BatchOutcome[str, int]:
        """The pricelist of each currency (see the module); a currency that has none is in
        ``failed`` with a :class:`CurrencyUnsupportedError` saying why."""
        outcome: BatchOutcome[str, int] = BatchOutcome()
        wanted = list(dict.fromkeys(c.upper() for c in currencies))
        configured = {k.upper(): v for k, v in (configured or {}).items()}
        kinds = await self._pricelist_currencies(
            [configured[c] for c in wanted if c in configured] + list(preferred)
        )
        lookup = []
        for currency in wanted:
            if currency in configured:
                pricelist = configured[currency]
                kind = kinds.get(pricelist)
                if kind == currency:
                    outcome.done[currency] = pricelist
                else:
                    state = f"in {kind}" if kind else "archived or missing"
                    outcome.failed[currency] = CurrencyUnsupportedError(
                        f"the pricelist configured for {currency} (product.pricelist id="
                        f"{pricelist}) is {state}",
                        currency=currency,
                        model="product.pricelist",
                    )
                continue
            chosen = next((p for p in preferred if kinds.get(p) == currency), None)
            if chosen is not None:
                outcome.done[currency] = chosen
            else:
                lookup.append(currency)
        found = await self._pricelists_of(lookup, company_id)
        for currency in lookup:
            if isinstance(found[currency], int):
                outcome.done[currency] = int(found[currency])
            else:
                outcome.failed[currency] = CurrencyUnsupportedError(
                    str(found[currency]), currency=currency, model="product.pricelist"
                )
        return outcome

    async def company_currency(self, company_id: int) -> str:
        """The ISO code of a company's currency (cached: it cannot change once it has entries)."""
        if company_id not in self._company_currencies:
            [row] = await self.client.read("res.company", [company_id], ["currency_id"])
            self._company_currencies[company_id] = str(row["currency_id"][1]).upper()
        return self._company_currencies[company_id]

    async def _pricelist_currencies(self, ids: Sequence[int]) -> dict[int, str | None]:
        """The currency code of each pricelist (``None``: archived or missing), cached."""
        cache = self._pricelist_kinds
        now = self._clock()
        todo = sorted({i for i in ids if i not in cache or cache[i][0] <= now})
        if todo:
            rows = await self.client.search_read(
                "product.pricelist",
                [["id", "in", todo]],
                ["currency_id", "active"],
                context={**await self.all_companies_context(), "active_test": False},
            )
            kinds: dict[int, str | None] = dict.fromkeys(todo)
            for row in rows:
                currency = row.get("currency_id")
                if row.get("active") and currency:
                    kinds[int(row["id"])] = str(currency[1]).upper()
            expires = now + self.settings.product_cache_ttl_s
            for pricelist, kind in kinds.items():
                cache[pricelist] = (expires, kind)
        return {i: cache[i][1] for i in ids if i in cache}

    async def _pricelists_of(
        self, currencies: Sequence[str], company_id: int
    ) -> dict[str, int | str]:
        """Odoo's pricelist of each currency for the company, or why there is none."""
        cache = self._pricelists
        now = self._clock()
        out: dict[str, int | str] = {}
        todo = []
        for currency in currencies:
            hit = cache.get((company_id, currency))
            if hit is not None and hit[0] > now:
                out[currency] = hit[1]
            else:
                todo.append(currency)
        if not todo:
            return out
        rows = await self.client.search_read(
            "res.currency", [["name", "in", todo]], ["name"]
        )  # active ones only: a currency is usable once a person activated it
        ids = {str(r["name"]).upper(): int(r["id"]) for r in rows}
        pricelists = []
        if ids:
            pricelists = await self.client.search_read(
                "product.pricelist",
                [
                    ["currency_id", "in", sorted(ids.values())],
                    ["company_id", "in", [False, company_id]],
                ],
                ["currency_id"],
                order="id",
                context=await self.company_context(company_id),
            )
        first: dict[int, int] = {}
        for row in pricelists:
            first.setdefault(int(m2o_id(row["currency_id"]) or 0), int(row["id"]))
        expires = now + self.settings.product_cache_ttl_s
        for currency in todo:
            if currency not in ids:
                out[currency] = f"currency {currency} is not active in Odoo (res.currency)"
            elif ids[currency] not in first:
                out[currency] = (
                    f"no active pricelist in {currency} for company id={company_id} "
                    "(product.pricelist)"
                )
            else:
                out[currency] = first[ids[currency]]
                cache[(company_id, currency)] = (expires, first[ids[currency]])
        return out
