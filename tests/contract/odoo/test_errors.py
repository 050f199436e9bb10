"""Contract: Odoo's errors arrive as typed errors, whatever the transport."""

from __future__ import annotations

import pytest

from crossdock.connectors.odoo import (
    OdooAccessError,
    OdooBusinessError,
    OdooClient,
    OdooMissingError,
    OdooOperations,
)
from tests.contract.odoo.conftest import Target


async def test_missing_record_is_a_missing_error(ops: OdooOperations) -> None:
    with pytest.raises(OdooMissingError) as caught:
        await ops.client.create("sale.order", [{"partner_id": 999_999_999}])
    assert "999999999" in caught.value.message


async def test_mandatory_field_is_a_business_error_naming_the_field(ops: OdooOperations) -> None:
    with pytest.raises(OdooBusinessError) as caught:
        await ops.client.create("sale.order", [{}])
    assert caught.value.odoo_name == "odoo.exceptions.ValidationError"
    assert "partner_id" in caught.value.message and caught.value.model == "sale.order"


async def test_unknown_field_and_bad_value_are_business_errors(ops: OdooOperations) -> None:
    with pytest.raises(OdooBusinessError) as unknown:
        await ops.client.create("res.partner", [{"name": "x", "no_such_field": 1}])
    with pytest.raises(OdooBusinessError) as bad_value:
        await ops.client.create("res.partner", [{"name": "x", "customer_rank": "abc"}])
    assert unknown.value.odoo_name == "builtins.ValueError"
    assert "no_such_field" in unknown.value.message
    assert bad_value.value.odoo_name == "builtins.ValueError"


async def test_private_method_is_an_access_error(ops: OdooOperations) -> None:
    with pytest.raises(OdooAccessError):
        await ops.client.call("res.partner", "_compute_display_name", [1])


async def test_wrong_password_is_an_access_error(target: Target) -> None:
    client = OdooClient(target.settings(password="wrong-password", api_key=None))
    try:
        with pytest.raises(OdooAccessError):
            await client.connect()
    finally:
        await client.aclose()


async def test_a_method_returning_none_is_answered_without_result(ops: OdooOperations) -> None:
    quants = await ops.client.search_read("stock.quant", [], ["id"], limit=1)
    if not quants:
        pytest.skip("no quant to apply")
    result = await ops.client.call(
        "stock.quant",
        "action_apply_inventory",
        [quants[0]["id"]],
        context={"inventory_mode": True},
    )
    assert result is None
