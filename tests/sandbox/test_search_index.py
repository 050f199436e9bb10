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


def _scan(box: OdooSandbox, domain: list[Any], order: str) -> list[int]:
    """The same search answered by filtering every record (no limit: no keyset walk)."""
    return list(call(box, "res.partner", "search", domain=domain, order=order))


def test_keyset_pages_by_id_give_what_a_full_scan_gives(box: OdooSandbox) -> None:
    ids = call(
        box,
        "res.partner",
        "create",
        vals_list=[{"name": f"K{n}", "ref": f"K{n % 4}"} for n in range(40)],
    )
    call(box, "res.partner", "unlink", ids[5], ids[17])
    call(box, "res.partner", "write", ids[8], vals={"active": False})
    with pytest.raises(MissingError):  # created then rolled back: not in any page
        call(box, "res.partner", "create", vals_list=[{"name": "Gone", "country_id": 999_999}])
    late = call(box, "res.partner", "create", vals_list=[{"name": "K-late", "ref": "K1"}])
    for domain in (
        [["name", "=like", "K%"]],
        [["ref", "in", ["K1", "K2"]]],
        [["ref", "=", "K3"], ["name", "!=", "K3"]],
    ):
        for order in ("id", "id desc"):
            expected = _scan(box, domain, order)
            pages: list[int] = []
            bound: int | None = None
            while True:
                keyset = [["id", "<" if order == "id desc" else ">", bound]] if bound else []
                page = call(
                    box, "res.partner", "search", domain=[*domain, *keyset], order=order, limit=3
                )
                pages += page
                if len(page) < 3:
                    break
                bound = page[-1]
            assert pages == expected
            assert (
                call(box, "res.partner", "search", domain=domain, order=order, offset=2, limit=4)
                == expected[2:6]
            )
    assert late[0] in _scan(box, [["ref", "=", "K1"]], "id")
    assert ids[8] not in _scan(box, [["name", "=like", "K%"]], "id")
    # bounds on both sides, and a bound that a disjunction makes no bound at all
    inside = call(
        box,
        "res.partner",
        "search",
        domain=[["id", ">=", ids[10]], ["id", "<=", ids[12]]],
        order="id",
        limit=10,
    )
    assert inside == [ids[10], ids[11], ids[12]]
    either = call(
        box,
        "res.partner",
        "search",
        domain=["|", ["id", ">", ids[30]], ["name", "=", "K1"]],
        order="id",
        limit=2,
    )
    assert either == [ids[1], ids[31]]
