"""The payments flow end to end on the Odoo sandbox (a real HTTP server), and on a real Odoo when
``CROSSDOCK_ODOO_*`` is set: a captured payment pays its invoice, a partial payment leaves it
partly paid, a chargeback opens an exception, and a bank statement of 10,000 lines is matched
with the unmatched lines as drift."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from crossdock.config.reconciliation import ReconciliationConfig
from crossdock.connectors.odoo import OdooClient, OdooOperations
from crossdock.engine import Engine, EngineSettings, Lane
from crossdock.flows.payments import register
from crossdock.flows.payments.events import INVOICE_PAID, RECEIVED
from crossdock.flows.payments.statements import import_statement
from crossdock.flows.payments.store import counts
from crossdock.flows.reconciliation.service import Reconciliation
from tests.contract.odoo import conftest as odoo_contract
from tests.contract.odoo.conftest import Target
from tests.flows.payments.conftest import payments_config
from tests.flows.payments.harness import PaymentsFlow, data_of, report
from tests.flows.payments.statement_files import write_camt053

POST_CHUNK = 50  # invoices posted per call: a real Odoo takes a while per invoice

target = odoo_contract.target  # the Odoo of the contract suite: the sandbox, and a real one if set


@pytest.fixture
async def ops(target: Target) -> AsyncIterator[OdooOperations]:
    operations = OdooOperations(OdooClient(target.settings()))
    await operations.client.connect()
    try:
        yield operations
    finally:
        await operations.aclose()


@pytest.fixture
async def flow(ops: OdooOperations, migrated: Path, tmp_path: Path) -> AsyncIterator[PaymentsFlow]:
    database = tmp_path / "hub.db"
    shutil.copyfile(migrated, database)
    engine = Engine(
        f"sqlite:///{database}",
        settings=EngineSettings(partitions=8),
        lanes=[Lane("default", 0, 1)],
    )
    subscription = register(engine, ops, payments_config())
    await engine.start(workers=False)
    try:
        yield PaymentsFlow(engine, subscription)
    finally:
        await engine.stop()


async def invoices(
    ops: OdooOperations, ref: str, amounts: list[str], *, due: str | None = None
) -> list[str]:
    """Posted invoices of a new customer ``ref``, one call to create and one to post."""
    [partner] = await ops.client.create("res.partner", [{"name": f"Payer {ref}", "ref": ref}])
    day = due or date.today().isoformat()
    moves: list[int] = []
    for start in range(0, len(amounts), POST_CHUNK):
        made = await ops.client.create(
            "account.move",
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner,
                    "invoice_date": day,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Goods", "quantity": 1, "price_unit": float(amount),
                                "tax_ids": [(6, 0, [])]})
                    ],
                }
                for amount in amounts[start : start + POST_CHUNK]
            ],
        )  # fmt: skip
        await ops.client.call("account.move", "action_post", made)
        moves += made
    rows = await ops.client.read("account.move", moves, ["name"])
    return [str(r["name"]) for r in rows]


async def test_captured_partial_and_chargeback(flow: PaymentsFlow, ops: OdooOperations) -> None:
    uid = uuid.uuid4().hex[:8]
    customer = f"web:{uid}"
    paid, partly = await invoices(ops, customer, ["150", "200"])
    await flow.report(
        report(f"{uid}-1", "150.00", currency="USD", reference=paid),
        report(f"{uid}-2", "80.00", currency="USD", reference=partly, customer=customer),
    )
    await flow.deliver()
    found = {i.name: i for i in await ops.find_invoices([paid, partly])}
    assert found[paid].paid and found[paid].amount_residual == 0
    assert (found[partly].payment_state, found[partly].amount_residual) == ("partial", 120)
    assert [d["invoice"] for d in data_of(await flow.events(INVOICE_PAID))] == [paid]
    assert len(await flow.events(RECEIVED)) == 2

    await flow.report(
        report(f"{uid}-cb", "80.00", currency="USD", kind="chargeback", original=f"{uid}-2")
    )
    await flow.deliver()
    [exception] = await flow.exceptions()
    assert exception.type == "chargeback" and partly in exception.reason
    [partner] = await ops.client.search_read("res.partner", [["ref", "=", customer]], ["id"])
    credits = await ops.customer_credits([int(partner["id"])])
    assert credits[int(partner["id"])][1] == Decimal("0.01")


async def test_a_statement_of_ten_thousand_lines(
    flow: PaymentsFlow,
    ops: OdooOperations,
    target: Target,
    tmp_path: Path,
) -> None:
    lines, unmatched = (10_000, 1_000) if target.kind == "sandbox" else (300, 30)
    uid = uuid.uuid4().hex[:8]
    names: list[str] = []
    for start in range(0, lines - unmatched, 1000):
        count = min(1000, lines - unmatched - start)
        names += await invoices(
            ops, f"bank:{uid}:{start}", [str(10 + n % 50) for n in range(count)]
        )
    entries = [
        (f"{uid}-{n}", f"{10 + n % 50}.00", "Payer", f"{name} thanks")
        for n, name in enumerate(names)
    ] + [(f"{uid}-x{n}", "9.99", "Somebody", f"no such invoice {n}") for n in range(unmatched)]
    path = write_camt053(tmp_path / "statement.xml", f"STMT-{uid}", entries)

    imported = await import_statement(flow.engine, path, "camt053")
    assert (imported.entries, imported.new, imported.duplicates) == (lines, lines, 0)
    again = await import_statement(flow.engine, path, "camt053")
    assert (again.new, again.duplicates) == (0, lines)

    await flow.deliver()
    rows = await flow.engine.db.read(counts)
    assert rows == {"registered": lines - unmatched, "unmatched": unmatched}
    assert not [i for i in await ops.find_invoices(names) if not i.paid]

    config = payments_config().model_copy(
        update={
            "reconciliation": ReconciliationConfig.model_validate({"payments": {"settle_s": 0}})
        }
    )
    recon = Reconciliation(flow.engine, ops, config)
    result = await recon.run("payments")
    assert result.run.found == unmatched
