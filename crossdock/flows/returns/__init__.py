"""Returns (RMA): a return asked for by a channel, checked against the channel's rules, authorised
as a return picking in the ERP, received and inspected at the warehouse (restock, quarantine,
scrap), and settled by a credit note or a replacement order — each step idempotent by the RMA.

The API accepts returns through :mod:`.intake`; the hub registers the consumer with
:func:`register`. It consumes ``return.requested``, ``return.receipt_confirmed`` and
``exception.resolved`` (of return subjects; group ``returns``, lane ``orders``) and emits
``return.authorized``, ``return.received``, ``return.refunded``, ``return.credited``,
``return.exchanged``, ``return.rejected``, ``return.exception``, plus ``order.accepted`` (a
replacement, through order to cash's accept path) and ``inventory.sync_requested``.
"""

from __future__ import annotations

from crossdock.config.schema import Config
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine, Subscription
from crossdock.flows.returns.events import CONSUMED, EMITTED, GROUP, SOURCE
from crossdock.flows.returns.handler import Returns

__all__ = ["CONSUMED", "EMITTED", "GROUP", "SOURCE", "Returns", "register"]

LANE = "orders"


def register(engine: Engine, erp: ErpPort, config: Config) -> list[Subscription]:
    """Subscribe the flow's consumer group on ``engine`` (before it starts); returns it."""
    flow = Returns(engine, erp, config.returns)
    subscription = Subscription(
        GROUP,
        CONSUMED,
        flow.handle,
        lane=LANE if LANE in engine.lanes else "default",
        batch_size=config.engine.batch_size,
        max_attempts=config.engine.max_attempts,
        backoff=config.engine.backoff,
    )
    engine.subscribe(subscription)
    return [subscription]
