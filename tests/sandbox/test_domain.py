"""Domains as the sandbox evaluates them, checked against what Odoo 18 answers for the same data:
prefix operators, implicit ``&``, ``=?``, ``in``/``not in`` with unset values, the ``like`` family
with SQL wildcards, comparisons, dotted paths through many2one and one2many fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crossdock.sandbox.odoo import OdooSandbox
from crossdock.sandbox.odoo.domain import evaluate, normalize
from crossdock.sandbox.odoo.errors import ValueRpcError
from tests.sandbox.conftest import call, quick

ROWS: dict[str, dict[str, Any]] = {
    "a": {"name": "Alpha", "city": "Ghent", "rank": 1, "limit": 100.0},
    "b": {"name": "Beta", "city": "Liège", "rank": 2, "limit": 200.0},
    "g": {"name": "Gamma", "city": None, "rank": 3, "limit": 100.5},
    "x": {"name": "alphabet", "city": "Ghent", "rank": 0, "limit": None},
}


def flat(record: dict[str, Any], path: str) -> tuple[list[Any], bool]:
    return [record.get(path)], False


def matching(domain: list[Any]) -> str:
    return "".join(key for key, row in ROWS.items() if evaluate(row, domain, flat))


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ([], "abgx"),
        ([["city", "=", "Ghent"]], "ax"),
        ([["city", "!=", "Ghent"]], "bg"),  # an unset value is "not equal"
        ([["city", "=", False]], "g"),
        ([["city", "!=", False]], "abx"),
        ([["city", "in", ["Ghent", "Liège"]]], "abx"),
        ([["city", "in", ["Ghent", False]]], "agx"),
        ([["city", "not in", ["Ghent"]]], "bg"),
        ([["city", "not in", ["Ghent", False]]], "b"),
        ([["city", "in", []]], ""),
        ([["city", "not in", []]], "abgx"),
        ([["city", "=?", False]], "abgx"),  # unset value: no condition at all
        ([["city", "=?", None]], "abgx"),
        ([["city", "=?", "Ghent"]], "ax"),  # otherwise "="
        ([["rank", "<", 2]], "ax"),
        ([["rank", "<=", 2]], "abx"),
        ([["rank", ">", 1]], "bg"),
        ([["rank", ">=", 2]], "bg"),
        ([["limit", ">", 100.5]], "b"),  # an unset number matches no comparison
        ([["limit", "<", 150]], "ag"),
    ],
)
def test_leaves(domain: list[Any], expected: str) -> None:
    assert matching(domain) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ([["name", "ilike", "ALPHA"]], "ax"),
        ([["name", "like", "alpha"]], "x"),  # like is case-sensitive
        ([["name", "not ilike", "alpha"]], "bg"),
        ([["name", "not like", "Alpha"]], "bgx"),
        ([["name", "ilike", "al%a"]], "ax"),  # % and _ are SQL wildcards, as in Odoo
        ([["name", "ilike", "b_ta"]], "b"),
        ([["name", "=like", "Al%"]], "a"),  # =like is anchored
        ([["name", "=ilike", "al%"]], "ax"),
        ([["name", "=ilike", "alpha"]], "a"),
        ([["name", "ilike", "a.p"]], ""),  # regex characters are plain characters
        ([["city", "ilike", "g"]], "abx"),  # an unset value is never like anything...
        ([["city", "not ilike", "g"]], "g"),  # ...so it is always "not like"
    ],
)
def test_like_family(domain: list[Any], expected: str) -> None:
    assert matching(domain) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ([["city", "=", "Ghent"], ["rank", ">", 0]], "a"),  # implicit &
        (["&", ["city", "=", "Ghent"], ["rank", ">", 0]], "a"),
        (["|", ["city", "=", "Ghent"], ["rank", "=", 3]], "agx"),
        (["!", ["city", "=", "Ghent"]], "bg"),
        (["!", "|", ["city", "=", "Ghent"], ["rank", "=", 3]], "b"),
        (["&", "|", ["city", "=", "Ghent"], ["city", "=", "Liège"], ["rank", ">", 0]], "ab"),
        (["|", "&", ["city", "=", "Ghent"], ["rank", "=", 0], ["rank", "=", 2]], "bx"),
        ([["rank", ">", 0], "|", ["city", "=", "Liège"], ["name", "=", "Alpha"]], "ab"),
        (["|", "!", ["rank", "<", 3], ["name", "=", "Beta"]], "bg"),
        ([(1, "=", 1)], "abgx"),
        ([(0, "=", 1)], ""),
    ],
)
def test_operators_and_nesting(domain: list[Any], expected: str) -> None:
    assert matching(domain) == expected


def test_implicit_and_is_made_explicit() -> None:
    assert normalize([["a", "=", 1], ["b", "=", 2], ["c", "=", 3]]) == [
        "&",
        "&",
        ["a", "=", 1],
        ["b", "=", 2],
        ["c", "=", 3],
    ]
    assert normalize(["|", ["a", "=", 1], ["b", "=", 2], ["c", "=", 3]]) == [
        "&",
        "|",
        ["a", "=", 1],
        ["b", "=", 2],
        ["c", "=", 3],
    ]


@pytest.mark.parametrize(
    "domain",
    [
        [["name", "~", "x"]],  # unknown operator
        [["name", "="]],  # not a leaf
        ["|", ["name", "=", "x"]],  # an operator short of operands
        ["&"],
        ["nonsense"],
    ],
)
def test_malformed_domains_are_refused_like_odoo(domain: list[Any]) -> None:
    with pytest.raises(ValueRpcError):
        normalize(domain)


# ---------------------------------------------------------------------- through the ORM


@pytest.fixture(scope="module")
def box() -> Iterator[OdooSandbox]:
    """Partners of a company with contacts, in an in-process sandbox (no HTTP)."""
    sandbox = OdooSandbox(quick())
    be = call(sandbox, "res.country", "search", domain=[["code", "=", "BE"]])[0]
    [acme] = call(
        sandbox,
        "res.partner",
        "create",
        vals_list=[{"name": "Acme", "ref": "D-a", "is_company": True, "country_id": be}],
    )
    call(
        sandbox,
        "res.partner",
        "create",
        vals_list=[
            {"name": "Delta", "ref": "D-d", "parent_id": acme, "city": "Ghent", "country_id": be},
            {"name": "Echo", "ref": "D-e", "parent_id": acme, "city": "Liège"},
            {"name": "Beta", "ref": "D-b", "city": "Ghent"},
            {"name": "Old", "ref": "D-o", "active": False},
        ],
    )
    yield sandbox
    sandbox.store.close()


def refs(box: OdooSandbox, domain: list[Any], ctx: Any = None) -> str:
    rows = call(
        box,
        "res.partner",
        "search_read",
        ctx=ctx,
        domain=[["ref", "=like", "D-%"], *domain],
        fields=["ref"],
    )
    return "".join(sorted(str(r["ref"])[2:] for r in rows))


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ([["parent_id.name", "=", "Acme"]], "de"),  # many2one path
        ([["parent_id.ref", "=like", "%-a"]], "de"),
        (["!", ["parent_id.name", "ilike", "acme"]], "ab"),
        ([["country_id.code", "=", "BE"]], "ad"),
        ([["parent_id.country_id.code", "=", "BE"]], "de"),  # two hops
        ([["parent_id", "ilike", "acm"]], "de"),  # many2one with a string: its display name
        ([["parent_id", "=", False]], "ab"),
        ([["child_ids.city", "=", "Liège"]], "a"),  # one2many: any related record
        ([["child_ids.name", "in", ["Delta", "Nobody"]]], "a"),
        ([["child_ids", "!=", False]], "a"),
    ],
)
def test_paths_through_relations(box: OdooSandbox, domain: list[Any], expected: str) -> None:
    assert refs(box, domain) == expected


def test_archived_records_only_with_active_test_off_or_an_active_leaf(box: OdooSandbox) -> None:
    assert "o" not in refs(box, [])
    assert refs(box, [], ctx={"active_test": False}) == "abdeo"
    assert refs(box, [["active", "=", False]]) == "o"


def test_child_of_follows_the_parent_chain(box: OdooSandbox) -> None:
    [acme] = call(box, "res.partner", "search", domain=[["ref", "=", "D-a"]])
    assert refs(box, [["id", "child_of", acme]]) == "ade"
    [delta] = call(box, "res.partner", "search", domain=[["ref", "=", "D-d"]])
    assert refs(box, [["id", "parent_of", delta]]) == "ad"


def test_an_unknown_field_in_a_domain_is_odoos_value_error(box: OdooSandbox) -> None:
    with pytest.raises(ValueRpcError, match="no_such_field"):
        refs(box, [["no_such_field", "=", 1]])
