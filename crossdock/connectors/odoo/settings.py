"""Settings of one Odoo instance, read from a configured :class:`~crossdock.config.schema.System`.

``System.options`` understood here (all optional)::

    database: crossdock            # the Odoo database (X-Odoo-Database / execute_kw db)
    transport: auto                # auto | json2 | jsonrpc
    company: My Company            # default company (name or id); the user's own when absent
    companies_by_channel: {webshop-be: Crossdock BE}
    companies_by_country: {BE: Crossdock BE, FR: 3}
    backorder: create              # create | cancel: what happens to what was not shipped
    product_cache_ttl_s: 300       # products by SKU, and pricelists by currency
    customer_cache_ttl_s: 300      # partner ids by customer key (0: look them up every time)
    breaker_failures: 5            # consecutive transient failures that open the circuit
    breaker_reset_s: 30
    retry_attempts: 4
    batch_size: 50                 # records per create call

Credentials: ``password`` (JSON-RPC) and/or ``api_key`` (JSON-2, also accepted as the JSON-RPC
password). They are resolved here and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from crossdock.config.schema import System
from crossdock.connectors.odoo.records import BackorderPolicy, CompanyRef

__all__ = ["BackorderPolicy", "CompanyRef", "OdooSettings", "TransportChoice"]

TransportChoice = Literal["auto", "json2", "jsonrpc"]


@dataclass(frozen=True)
class OdooSettings:
    url: str
    database: str | None
    login: str | None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    transport: TransportChoice = "auto"
    timeout_s: float = 30.0
    rate_per_s: float = 50.0
    burst: int = 50
    concurrency: int = 4
    company: CompanyRef | None = None
    companies_by_channel: dict[str, CompanyRef] = field(default_factory=dict)
    companies_by_country: dict[str, CompanyRef] = field(default_factory=dict)
    backorder: BackorderPolicy = "create"
    product_cache_ttl_s: float = 300.0
    customer_cache_ttl_s: float = 300.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0
    retry_attempts: int = 4
    retry_base_s: float = 0.2
    batch_size: int = 50
    customers_owned: bool = True
    """Odoo is the system of record of customers: unknown customers may be created."""

    @classmethod
    def from_system(
        cls, name: str, system: System, *, customers_owned: bool = True
    ) -> OdooSettings:
        """Settings from configuration; ``customers_owned``: the policy's decision that this ERP
        owns customers (`crossdock.policy.erp_may_create_customers`)."""
        if system.kind != "odoo":
            raise ValueError(f"system {name} is not an Odoo system")
        options: dict[str, Any] = dict(system.options)
        secrets = {key: ref.resolve() for key, ref in system.credentials.items()}
        transport = options.get("transport", "auto")
        if transport not in ("auto", "json2", "jsonrpc"):
            raise ValueError(f"systems.{name}.options.transport must be auto, json2 or jsonrpc")
        backorder = options.get("backorder", "create")
        if backorder not in ("create", "cancel"):
            raise ValueError(f"systems.{name}.options.backorder must be create or cancel")
        return cls(
            url=system.url,
            database=options.get("database"),
            login=system.username,
            password=secrets.get("password"),
            api_key=secrets.get("api_key"),
            transport=transport,
            timeout_s=system.limits.timeout_s,
            rate_per_s=system.limits.rate_per_s,
            burst=system.limits.burst,
            concurrency=system.limits.concurrency,
            company=options.get("company"),
            companies_by_channel=dict(options.get("companies_by_channel") or {}),
            companies_by_country={
                str(k).upper(): v for k, v in (options.get("companies_by_country") or {}).items()
            },
            backorder=backorder,
            product_cache_ttl_s=float(options.get("product_cache_ttl_s", 300.0)),
            customer_cache_ttl_s=float(options.get("customer_cache_ttl_s", 300.0)),
            breaker_failures=int(options.get("breaker_failures", 5)),
            breaker_reset_s=float(options.get("breaker_reset_s", 30.0)),
            retry_attempts=int(options.get("retry_attempts", 4)),
            batch_size=int(options.get("batch_size", 50)),
            customers_owned=customers_owned,
        )
