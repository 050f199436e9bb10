"""Order-to-cash: accepted orders carried through credit, pricing, fulfilment and the ERP's sale
orders to release, shipment, invoice — or to cancellation — batched toward the ERP, idempotent,
with every business problem parked in the exceptions queue for a person.

The hub registers it with :func:`register`. It consumes ``order.accepted``,
``order.cancel_requested``, ``shipment.confirmed`` and ``exception.resolved`` (group
``order_to_cash``, lane ``orders``) and emits ``order.credit_hold``, ``order.confirmed``,
``order.released``, ``shipment.dispatched``, ``invoice.posted``, ``order.cancelled``,
``order.failed`` and ``order.exception`` on the order's subject.
"""

from __future__ import annotations

from crossdock.config.schema import Config
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine, Subscription
from crossdock.flows.order_to_cash.events import CONSUMED, EMITTED
from crossdock.flows.order_to_cash.handler import OrderToCash
from crossdock.flows.order_to_cash.settings import (
    GROUP,
    LANE,
    SOURCE,
    FlowSettings,
)
from crossdock.policy import erp_system_of

__all__ = [
    "CONSUMED",
    "EMITTED",
    "GROUP",
    "SOURCE",
    "FlowSettings",
    "OrderToCash",
    "erp_system_of",
    "register",
]


def register(engine: Engine, erp: ErpPort, config: Config) -> list[Subscription]:
    """Subscribe the flow's consumer group on ``engine`` (before it starts); returns it."""
    flow = OrderToCash(engine, erp, FlowSettings.from_config(config))
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
