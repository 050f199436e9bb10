"""Searches answered from the store's value indexes give what a full scan gives: after creates,
writes, unlinks, a call rolled back by an error, and for records a call changes after it has
already searched."""

from __future__ import annotations

from typing import Any

import pytest

from crossdock.sandbox.odoo import OdooSandbox
from crossdock.sandbox.odoo.errors import MissingError
from tests.sandbox.conftest import call, quick


@pytest.fixture()
def box() -> OdooSandbox:
    return OdooSandbox(quick())


def partners(box: OdooSandbox, domain: list[Any]) -> list[int]:
    return list(call(box, "res.partner", "search", domain=domain))


def test_equality_and_in_follow_creates_writes_and_unlinks(box: OdooSandbox) -> None:
    ids = call(
        box,
        "res.partner",
        "create",
        vals_list=[{"name": f"P{n}", "ref": f"R{n % 3}"} for n in range(9)],
    )
    assert partners(box, [["ref", "=", "R1"]]) == [ids[1], ids[4], ids[7]]
    call(box, "res.partner", "write", ids[1], vals={"ref": "R2"})
    call(box, "res.partner", "unlink", ids[7])
    assert partners(box, [["ref", "=", "R1"]]) == [ids[4]]
    assert partners(box, [["ref", "in", ["R1", "R2"]]]) == [ids[1], ids[2], ids[4], ids[5], ids[8]]
    # the rest of the domain still applies to the indexed candidates
    assert partners(box, [["ref", "=", "R2"], ["name", "=", "P5"]]) == [ids[5]]
    assert partners(box, [["id", "in", [ids[0], ids[7]]]]) == [ids[0]]
    # unset values are not in the index: an equality on False still finds them by scanning
    unset = call(box, "res.partner", "create", vals_list=[{"name": "Nobody"}])
    assert set(unset) <= set(partners(box, [["ref", "=", False]]))


def test_a_rolled_back_call_leaves_the_index_as_before(box: OdooSandbox) -> None:
    [pid] = call(box, "res.partner", "create", vals_list=[{"name": "Kept", "ref": "KEEP"}])
    with pytest.raises(MissingError):
        # the write lands, then the unknown country fails the call: Odoo rolls both back
        call(
            box,
            "res.partner",
            "write",
            pid,
            vals={"ref": "CHANGED", "country_id": 999_999},
        )
    assert partners(box, [["ref", "=", "KEEP"]]) == [pid]
    assert partners(box, [["ref", "=", "CHANGED"]]) == []


def test_lookups_inside_a_transaction_see_its_changes_and_not_after_rollback(
    box: OdooSandbox,
) -> None:
    [pid] = call(box, "res.partner", "create", vals_list=[{"name": "Kept", "ref": "OLD"}])
    store = box.store
    assert store.lookup("res.partner", "ref", ["OLD"]) == {pid}
    tx = store.begin()
    tx.update("res.partner", pid, {"ref": "NEW"})
    assert store.lookup("res.partner", "ref", ["NEW"]) == {pid}
    store.table("res.partner")[pid]["ref"] = "LATER"  # changed again after the lookup
    assert store.lookup("res.partner", "ref", ["LATER"]) == {pid}
    tx.rollback()
    assert store.lookup("res.partner", "ref", ["OLD"]) == {pid}
    assert store.lookup("res.partner", "ref", ["NEW", "LATER"]) == set()
