"""Payments: payment reports from gateways and bank statements matched to invoices, registered in
the ERP, announced (``payment.received``, ``payment.failed``, ``invoice.paid``), with business
problems (ambiguous matches, chargebacks…) in the exceptions queue for finance.

The hub registers it with :func:`register`: group ``payments`` consumes ``payment.reported``
(appended by the API when a gateway's webhook verifies or a statement is imported); with
``payments.statement_folder``, group ``payment_statements`` picks statement files up on its
schedule (:mod:`.folder`).
"""

from __future__ import annotations

from crossdock.config.schema import Config
from crossdock.connectors.odoo.port import ErpPort
from crossdock.engine import Engine, Subscription
from crossdock.flows.payments.events import CONSUMED, EMITTED, GROUP, LANE, SOURCE
from crossdock.flows.payments.folder import StatementFolder
from crossdock.flows.payments.handler import Payments

__all__ = ["CONSUMED", "EMITTED", "GROUP", "SOURCE", "Payments", "register"]


def register(engine: Engine, erp: ErpPort, config: Config) -> Subscription:
    """Subscribe the flow's consumer group on ``engine`` (before it starts)."""
    flow = Payments(engine, erp, config.payments)
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
    folder = config.payments.statement_folder
    if folder is not None:
        picker = StatementFolder(engine, folder, config.payments.finance_owner)
        engine.schedule(picker.schedule())
        engine.subscribe(
            picker.subscription(
                lane=subscription.lane,
                batch_size=config.engine.batch_size,
                max_attempts=config.engine.max_attempts,
                backoff=subscription.backoff,
            )
        )
    return subscription
