"""Routing: the ERP company of an order, and who may create customers.

Precedence of the company rules: the channel's own ``company`` (``channels.<name>.company``), then
the ERP's routing options (``systems.<erp>.options.companies_by_channel``, then
``companies_by_country``); ``None`` means the ERP's default company.
"""

from __future__ import annotations

from collections.abc import Mapping

from crossdock.config import Config

CompanyRef = int | str
"""A company by id or by name."""


def route_company(
    *,
    channel: str,
    country: str | None,
    channel_company: CompanyRef | None = None,
    by_channel: Mapping[str, CompanyRef] | None = None,
    by_country: Mapping[str, CompanyRef] | None = None,
) -> CompanyRef | None:
    """The company an order of ``channel`` delivered to ``country`` belongs to (``None``: the
    default company)."""
    if channel_company is not None:
        return channel_company
    if by_channel and channel in by_channel:
        return by_channel[channel]
    if country and by_country:
        wanted = country.upper()
        for code, company in by_country.items():
            if code.upper() == wanted:
                return company
    return None


def erp_may_create_customers(customers_owner: str | None, erp: str) -> bool:
    """Whether the ERP owns customers, so an unknown customer may be created there; otherwise an
    unknown customer is an exception for a person (principle 4: ownership is explicit)."""
    return customers_owner in (None, erp)


def erp_system_of(config: Config) -> str:
    """The ERP's system name: the owner of orders when it is an Odoo, else the first Odoo."""
    owner = config.ownership.orders
    if owner in config.systems and config.systems[owner].kind == "odoo":
        return owner
    for name, system in config.systems.items():
        if system.kind == "odoo":
            return name
    return owner
