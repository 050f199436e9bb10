"""The ``ownership`` section: the system of record of each business domain."""

from __future__ import annotations

from crossdock.config.base import ConfigModel, Name

CORE_DOMAINS = ("customers", "products", "prices", "stock", "orders", "shipments", "invoices")
"""Domains that always have a system of record (default: ``odoo``)."""
OPTIONAL_DOMAINS = ("returns", "purchases", "payments")
"""Domains that have one only when configured."""
DOMAINS = CORE_DOMAINS + OPTIONAL_DOMAINS

DEFAULT_OWNER = "odoo"


class Ownership(ConfigModel):
    """The system of record of each domain (principle 4). Values are names from ``systems``.

    Every core domain defaults to ``odoo``, the ERP, so a configuration whose Odoo system is named
    ``odoo`` needs no ownership section.
    """

    customers: Name = DEFAULT_OWNER
    products: Name = DEFAULT_OWNER
    prices: Name = DEFAULT_OWNER
    stock: Name = DEFAULT_OWNER
    orders: Name = DEFAULT_OWNER
    shipments: Name = DEFAULT_OWNER
    invoices: Name = DEFAULT_OWNER
    returns: Name | None = None
    purchases: Name | None = None
    payments: Name | None = None

    def owner_of(self, domain: str) -> str | None:
        """The system of record of ``domain`` (``None``: unowned); ``KeyError`` if unknown."""
        if domain not in DOMAINS:
            raise KeyError(domain)
        owner: str | None = getattr(self, domain)
        return owner

    def owners(self) -> dict[str, str]:
        """Every owned domain and its system, in the order of :data:`DOMAINS`."""
        return {d: o for d in DOMAINS if (o := getattr(self, d)) is not None}
