"""What the HTTP layer and the dashboard see of the running hub: an interface the composition root
(`crossdock.hub.Hub`) implements, so that neither imports the composition root."""

from __future__ import annotations

from typing import Protocol

from crossdock.config import Config
from crossdock.connectors.odoo import OdooOperations
from crossdock.engine import Engine
from crossdock.ops.observability import Observability
from crossdock.webhooks.service import WebhookService


class ConnectedErp(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def operations(self) -> OdooOperations: ...


class RunningHub(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def webhooks(self) -> WebhookService | None: ...

    @property
    def erp(self) -> ConnectedErp | None: ...

    @property
    def ops(self) -> Observability: ...

    @property
    def flows(self) -> bool:
        """The business flows are subscribed (a node running workers)."""
        ...
