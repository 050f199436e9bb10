"""What the inventory flow reads from the configuration, resolved once: known warehouses, the
warehouses behind each channel, whether the ERP is written (ownership) and when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crossdock.config.inventory import ChannelInventory, InventoryConfig
from crossdock.config.schema import Config
from crossdock.policy import erp_system_of

SOURCE = "crossdock.inventory"
"""The ``source`` of every event the flow emits."""
GROUP = "inventory"
"""The consumer group of the flow."""
LANE = "inventory"
SYNC_SUBJECT = "inventory:sync"
"""Every sync request shares this subject, so one worker of the whole cluster runs the loop."""
DEFAULT_WAREHOUSE = "WH"


@dataclass(frozen=True)
class InventorySettings:
    config: InventoryConfig = field(default_factory=InventoryConfig)
    warehouses: tuple[str, ...] = (DEFAULT_WAREHOUSE,)
    """Warehouses that may send stock, in order (the first serves channels that list none)."""
    channels: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"default": (DEFAULT_WAREHOUSE,)}
    )
    """Every channel availability is published for, with the warehouses it sells from."""
    erp_system: str = "odoo"
    erp_writes: bool = False
    """The warehouse system owns stock: the ERP's quants follow it."""
    erp_cron: str | None = None
    """ERP writes only at this schedule's ticks (``sync.inventory`` in batch mode)."""
    erp_timezone: str = "UTC"
    """The time zone ``erp_cron`` is read in (``sync.inventory.timezone``)."""
    lane: str = LANE

    @classmethod
    def from_config(cls, cfg: Config) -> InventorySettings:
        inv = cfg.inventory
        listed: list[str] = []
        for policy in cfg.channels.values():
            listed.extend(w for w in policy.warehouses if w not in listed)
        warehouses = tuple(inv.warehouses or listed or [DEFAULT_WAREHOUSE])
        channels = {
            name: tuple(policy.warehouses or warehouses[:1])
            for name, policy in cfg.channels.items()
        }
        erp = erp_system_of(cfg)
        sync = cfg.sync.get("inventory")
        lane = (sync.lane if sync else None) or LANE
        return cls(
            config=inv,
            warehouses=warehouses,
            channels=channels,
            erp_system=erp,
            erp_writes=cfg.ownership.stock != erp,
            erp_cron=sync.cron if sync is not None and sync.mode == "batch" else None,
            erp_timezone=sync.timezone if sync is not None else "UTC",
            lane=lane,
        )

    def channel(self, name: str) -> ChannelInventory:
        return self.config.channel(name)
