"""What the order-to-cash flow reads from the configuration, resolved once at registration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crossdock.config.schema import ChannelPolicy, Config
from crossdock.policy import erp_may_create_customers, erp_system_of, route_company
from crossdock.policy.routing import CompanyRef

SOURCE = "crossdock.order_to_cash"
"""The `source` of every event the flow emits."""
GROUP = "order_to_cash"
"""The consumer group of the flow."""
LANE = "orders"


def _company_map(raw: Any, *, upper: bool = False) -> dict[str, CompanyRef]:
    if not isinstance(raw, Mapping):
        return {}
    return {(str(k).upper() if upper else str(k)): v for k, v in raw.items()}


@dataclass(frozen=True)
class FlowSettings:
    erp_system: str = "odoo"
    customers_created: bool = True
    """The ERP owns customers (informational: the connector enforces it from its settings)."""
    channels: Mapping[str, ChannelPolicy] = field(
        default_factory=lambda: {"default": ChannelPolicy()}
    )
    companies_by_channel: Mapping[str, CompanyRef] = field(default_factory=dict)
    companies_by_country: Mapping[str, CompanyRef] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> FlowSettings:
        erp = erp_system_of(config)
        options = config.systems[erp].options if erp in config.systems else {}
        return cls(
            erp_system=erp,
            customers_created=erp_may_create_customers(config.ownership.customers, erp),
            channels=dict(config.channels),
            companies_by_channel=_company_map(options.get("companies_by_channel")),
            companies_by_country=_company_map(options.get("companies_by_country"), upper=True),
        )

    def channel(self, name: str) -> ChannelPolicy:
        return self.channels.get(name) or self.channels.get("default") or ChannelPolicy()

    def company_of(self, channel: str, country: str | None) -> CompanyRef | None:
        return route_company(
            channel=channel,
            country=country,
            channel_company=self.channel(channel).company,
            by_channel=self.companies_by_channel,
            by_country=self.companies_by_country,
        )
