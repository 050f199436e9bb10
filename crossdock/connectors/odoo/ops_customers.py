"""Customers: find-or-create by external reference (``res.partner.ref``), per ownership.

One ``search_read`` finds every known customer of a batch (in every company of the user, so that
a customer of another company is reported as such instead of being created twice), one ``create``
makes the missing ones. When Odoo does not own customers, an unknown customer is an
:class:`~crossdock.connectors.odoo.errors.UnknownCustomerError`, never a create.

Partner ids found or created are cached per company for ``customer_cache_ttl_s``, so a stream of
orders from known customers costs no lookup at all; :meth:`CustomerOperations.invalidate_customers`
drops entries (the sales operations drop the customers of an order Odoo refused, so that its retry
looks them up again). Failures are never cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from crossdock.connectors.odoo.batching import BatchOutcome, bisect_batch, chunks
from crossdock.connectors.odoo.errors import CompanyMismatchError, UnknownCustomerError
from crossdock.connectors.odoo.mapping import customer_key, customer_vals, decimal, m2o_id
from crossdock.connectors.odoo.ops_base import OperationsBase
from crossdock.model import Customer

__all__ = ["CustomerOperations"]


class CustomerOperations(OperationsBase):
    def invalidate_customers(self, keys: Iterable[str] | None = None) -> None:
        """Forget cached partner ids: all, or those of the customer ``keys`` in every company."""
        if keys is None:
            self._customers.clear()
            return
        wanted = set(keys)
        for cache_key in [k for k in self._customers if k[1] in wanted]:
            del self._customers[cache_key]

    async def find_or_create_customers(
        self, customers: Sequence[Customer], *, company_id: int | None = None
    ) -> BatchOutcome[str, int]:
        """Partner ids by customer key ``<source>:<external_ref>``."""
        company = company_id if company_id is not None else await self.default_company_id()
        outcome: BatchOutcome[str, int] = BatchOutcome()
        now = self._clock()
        unique: dict[str, Customer] = {}
        for customer in customers:
            key = customer_key(customer)
            cached = self._customers.get((company, key))
            if cached is not None and cached[0] > now:
                outcome.done[key] = cached[1]
                outcome.existing.add(key)
            else:
                unique[key] = customer
        if not unique:
            return outcome
        try:
            await self._find_or_create(unique, company, outcome)
        finally:
            expires = now + self.settings.customer_cache_ttl_s
            for key in unique:
                if key in outcome.done:
                    self._customers[(company, key)] = (expires, outcome.done[key])
        return outcome

    async def _find_or_create(
        self, unique: dict[str, Customer], company: int, outcome: BatchOutcome[str, int]
    ) -> None:
        rows = await self.client.search_read(
            "res.partner",
            [["ref", "in", sorted(unique)]],
            ["ref", "company_id"],
            context=await self.all_companies_context(),
        )
        found: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            found.setdefault(str(row["ref"]), []).append(row)
        to_create: list[Customer] = []
        for key, customer in unique.items():
            matches = found.get(key, [])
            usable = [r for r in matches if m2o_id(r["company_id"]) in (None, company)]
            if usable:
                outcome.done[key] = int(min(r["id"] for r in usable))
                outcome.existing.add(key)
            elif matches:
                other = m2o_id(matches[0]["company_id"])
                outcome.failed[key] = CompanyMismatchError(
                    f"customer {key} belongs to company {other}, not {company}",
                    model="res.partner",
                    record=f"res.partner ref={key}",
                )
            elif not self.settings.customers_owned:
                outcome.failed[key] = UnknownCustomerError(
                    f"unknown customer {key}, and Odoo does not own customers",
                    model="res.partner",
                    record=f"res.partner ref={key}",
                )
            else:
                to_create.append(customer)
        if not to_create:
            return
        countries = await self.country_ids(
            c.address.country for c in to_create if c.address is not None
        )
        context = await self.company_context(company)
        for chunk in chunks(to_create, self.settings.batch_size):

            async def send(batch: Sequence[Customer]) -> list[int]:
                vals = [customer_vals(c, company_id=company, country_ids=countries) for c in batch]
                return await self.client.create("res.partner", vals, context=context)

            created, failed = await bisect_batch(
                chunk, send, name=lambda c: f"res.partner ref={customer_key(c)}"
            )
            for customer, partner_id in created:
                outcome.done[customer_key(customer)] = partner_id
            for customer, error in failed:
                outcome.failed[customer_key(customer)] = error

    async def find_or_create_customer(
        self, customer: Customer, *, company_id: int | None = None
    ) -> int:
        """One customer's partner id; raises the typed error when it cannot be had."""
        outcome = await self.find_or_create_customers([customer], company_id=company_id)
        outcome.raise_first()
        return outcome.done[customer_key(customer)]

    async def customer_credit(self, partner_id: int) -> tuple[float, float]:
        """``(credit, credit_limit)`` of a partner: what it owes, and what it may owe."""
        # read in the user's default company: Odoo 18 answered 0 with several allowed companies
        rows = await self.client.read("res.partner", [partner_id], ["credit", "credit_limit"])
        return float(rows[0]["credit"] or 0.0), float(rows[0]["credit_limit"] or 0.0)

    async def customer_credits(
        self, partner_ids: Sequence[int], *, company_id: int | None = None
    ) -> dict[int, tuple[Decimal, Decimal]]:
        """``(credit, credit_limit)`` of many partners in one read, as seen by one company
        (the user's default company when ``company_id`` is None)."""
        ids = sorted(set(partner_ids))
        if not ids:
            return {}
        context = await self.company_context(company_id) if company_id is not None else None
        rows = await self.client.read(
            "res.partner", ids, ["credit", "credit_limit"], context=context
        )
        return {
            int(row["id"]): (decimal(row["credit"], 2), decimal(row["credit_limit"], 2))
            for row in rows
        }
