"""The `returns:` section: the rules a return must meet, per channel, and where the warehouse's
inspection sends goods that are neither restocked nor scrapped."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from crossdock.config.base import ConfigModel, Name

__all__ = ["CategoryRule", "ReturnPolicy", "ReturnsConfig"]


class CategoryRule(ConfigModel):
    """What a channel accepts back of one product category (and its subcategories)."""

    returnable: bool = Field(default=True, description="Products of the category may be returned.")
    window_days: int | None = Field(
        default=None,
        ge=0,
        description="Days after the delivery (none: the channel's `window_days`).",
    )


class ReturnPolicy(ConfigModel):
    """What a channel accepts back."""

    window_days: int = Field(
        default=30, ge=0, description="Days after the delivery a return may be asked for."
    )
    returnable: list[str] = Field(
        default_factory=lambda: ["*"],
        description="SKU patterns (shell-style, `SKU-*`) that may be returned.",
    )
    not_returnable: list[str] = Field(
        default_factory=list, description="SKU patterns that may not (wins over `returnable`)."
    )
    categories: dict[str, CategoryRule] = Field(
        default_factory=dict,
        description="Rules by the ERP's product category, by its full name (`All / Food`); "
        "the nearest category up the tree that has a rule applies.",
    )
    approval_above: Decimal | None = Field(
        default=None,
        ge=0,
        description="A return worth more (in the order's currency) waits for customer service.",
    )


class ReturnsConfig(ConfigModel):
    channels: dict[Name, ReturnPolicy] = Field(
        default_factory=lambda: {"default": ReturnPolicy()},
        description="Rules per channel; `default` for channels not listed.",
    )
    quarantine_location: str | None = Field(
        default=None,
        description="Full name of the ERP location quarantined goods go to (`WH/Quarantine`); "
        "none: a quarantine outcome is refused.",
    )

    def policy(self, channel: str) -> ReturnPolicy:
        return self.channels.get(channel) or self.channels.get("default") or ReturnPolicy()
