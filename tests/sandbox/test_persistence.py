"""The sandbox keeps its data in SQLite: what a call committed survives a restart on the same file,
what a failed call did is rolled back there too, and ids and sequences go on where they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossdock.connectors.odoo import OdooBusinessError, OdooClient
from crossdock.sandbox.odoo import SandboxServer
from tests.sandbox.conftest import quick, settings_for


async def test_records_survive_a_restart_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "odoo.db"
    with SandboxServer(quick(path=path)) as first:
        async with OdooClient(settings_for(first)) as client:
            [partner] = await client.create("res.partner", [{"name": "Persisted", "ref": "p:1"}])
            [product] = await client.create(
                "product.product",
                [{"name": "Kept", "default_code": "KEEP-1", "type": "consu", "is_storable": True}],
            )
            [order] = await client.create(
                "sale.order",
                [{"partner_id": partner, "order_line": [(0, 0, {"product_id": product})]}],
            )
            await client.write("res.partner", [partner], {"city": "Ghent"})
            before = await client.read("sale.order", [order], ["name", "order_line", "state"])

    with SandboxServer(quick(path=path)) as second:
        async with OdooClient(settings_for(second)) as client:
            after = await client.read("sale.order", [order], ["name", "order_line", "state"])
            [row] = await client.read("res.partner", [partner], ["name", "ref", "city"])
            [line] = await client.read("sale.order.line", after[0]["order_line"], ["product_id"])
            [newer] = await client.create("res.partner", [{"name": "After restart"}])
            [next_order] = await client.create("sale.order", [{"partner_id": partner}])
            names = await client.read("sale.order", [order, next_order], ["name"])

    assert after == before
    assert (row["name"], row["ref"], row["city"]) == ("Persisted", "p:1", "Ghent")
    assert line["product_id"][0] == product
    assert newer > partner  # ids go on from where they were, nothing is reused
    assert names[1]["name"] > names[0]["name"]  # so does the order sequence


async def test_a_failed_call_leaves_nothing_behind_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "odoo.db"
    with SandboxServer(quick(path=path)) as first:
        async with OdooClient(settings_for(first)) as client:
            with pytest.raises(OdooBusinessError):  # the second record is refused: none is made
                await client.create(
                    "res.partner",
                    [{"name": "Half", "ref": "half:1"}, {"name": "Bad", "no_such_field": 1}],
                )

    with SandboxServer(quick(path=path)) as second:
        async with OdooClient(settings_for(second)) as client:
            rows = await client.search_read("res.partner", [["ref", "like", "half:"]], ["id"])

    assert rows == []


async def test_the_seed_is_made_once_per_file(tmp_path: Path) -> None:
    path = tmp_path / "odoo.db"
    counts = []
    for _ in range(2):
        with SandboxServer(quick(path=path)) as server:
            async with OdooClient(settings_for(server)) as client:
                companies = await client.call("res.company", "search_count", domain=[])
                warehouses = await client.call("stock.warehouse", "search_count", domain=[])
                counts.append((companies, warehouses))
    assert counts[0] == counts[1] == (1, 1)
