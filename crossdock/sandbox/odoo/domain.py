"""Odoo domains evaluated in Python: prefix ``&``/``|``/``!`` over ``(field, operator, value)``.

Paths follow many2one fields (``order_id.partner_id.ref``); on a x2many field a condition holds
when it holds for any related record. Operators: ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
``=?`` (true when the value is unset, else ``=``), ``in``, ``not in``, ``like``, ``ilike``,
``not like``, ``not ilike``, ``=like``, ``=ilike``, ``child_of``, ``parent_of``. In the ``like``
family ``%`` and ``_`` are wildcards, as in SQL (``like`` wraps the pattern in ``%``). Comparing a
relational field with a string compares its display name, as Odoo does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from crossdock.sandbox.odoo.errors import ValueRpcError

__all__ = ["OPERATORS", "Resolver", "evaluate", "normalize"]

OPERATORS = frozenset(
    {
        "=",
        "=?",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "not in",
        "like",
        "ilike",
        "not like",
        "not ilike",
        "=like",
        "=ilike",
        "child_of",
        "parent_of",
    }
)

Resolver = Callable[[dict[str, Any], str], tuple[list[Any], bool]]
"""``(record, path) -> (values, relational)``: the values a path reaches from a record."""


def normalize(domain: Sequence[Any]) -> list[Any]:
    """Make implicit ``&`` explicit (a domain is a list of terms ANDed together)."""
    items = list(domain)
    result: list[Any] = []
    expected = 1
    for item in items:
        if expected == 0:
            result.insert(0, "&")
            expected = 1
        if item in ("&", "|"):
            expected += 1
        elif item == "!":
            pass
        elif isinstance(item, list | tuple) and len(item) == 3:
            if item[1] not in OPERATORS:
                raise ValueRpcError(f"Invalid leaf {list(item)!r}")
            expected -= 1
        elif item in (True, False):
            expected -= 1
        else:
            raise ValueRpcError(f"Invalid leaf {item!r}")
        result.append(item)
    if items and expected != 0:
        raise ValueRpcError(f"Invalid domain {domain!r}")
    return result


_TRUE_LEAF = (1, "=", 1)
_FALSE_LEAF = (0, "=", 1)


def _same(item: Any, leaf: tuple[int, str, int]) -> bool:
    """``item`` is Odoo's constant leaf (a tuple in Python, a list once through JSON)."""
    return isinstance(item, list | tuple) and tuple(item) == leaf


def _empty(value: Any) -> bool:
    return value is None or value is False


def _like(value: Any, pattern: Any, case: bool, anchored: bool) -> bool:
    """SQL ``LIKE``/``ILIKE``: ``%`` any run, ``_`` any one character; unanchored wraps in ``%``."""
    if _empty(value):
        return False
    pat = str(pattern) if anchored else f"%{pattern}%"
    regex = "".join(
        ".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pat
    )
    flags = re.DOTALL if case else re.DOTALL | re.IGNORECASE
    return re.fullmatch(regex, str(value), flags) is not None


class Members(tuple[Any, ...]):
    """The operand of an ``in`` leaf, hashed once for a whole search (not once per record)."""

    def __init__(self, items: Any) -> None:
        self.hashed = frozenset(t for t in self if not isinstance(t, list | dict))
        self.has_false = any(_empty(t) for t in self)

    def holds(self, value: Any) -> bool:
        if isinstance(value, list | dict):  # unhashable: compared with the unhashable members
            return value in tuple(self)
        return value in self.hashed


def _compare(value: Any, op: str, target: Any) -> bool:
    if isinstance(value, bool) and not isinstance(target, bool) and value is False:
        value = None
    if op in ("=", "!=", "<>"):
        equal = _empty(value) or value == "" if _empty(target) else value == target
        return equal if op == "=" else not equal
    if op in ("in", "not in"):
        if not isinstance(target, Members):
            target = Members(target if isinstance(target, list | tuple | set) else [target])
        inside = (not _empty(value) and target.holds(value)) or (target.has_false and _empty(value))
        return inside if op == "in" else not inside
    if op in ("like", "ilike", "not like", "not ilike"):
        hit = _like(value, target, op in ("like", "not like"), False)
        return hit if not op.startswith("not") else not hit
    if op in ("=like", "=ilike"):
        return _like(value, target, op == "=like", True)
    if _empty(value):
        return False
    try:
        if op == "<":
            return bool(value < target)
        if op == "<=":
            return bool(value <= target)
        if op == ">":
            return bool(value > target)
        if op == ">=":
            return bool(value >= target)
    except TypeError:
        return False
    raise ValueRpcError(f"Invalid operator {op!r}")


def _leaf(record: dict[str, Any], leaf: Sequence[Any], resolve: Resolver) -> bool:
    path, op, target = leaf[0], leaf[1], leaf[2]
    if isinstance(target, tuple) and not isinstance(target, Members):
        target = list(target)
    if op == "=?":  # "unset or equals": no condition at all when the value is unset
        if _empty(target):
            return True
        op = "="
    values, relational = resolve(record, str(path))
    negative = op in ("!=", "<>", "not in", "not like", "not ilike")
    if relational and isinstance(target, str) and op not in ("child_of", "parent_of"):
        # compare display names of the related records
        values, _ = resolve(record, f"{path}.display_name")
    if not values:
        values = [None]
    results = [_compare(v, op, target) for v in values]
    return all(results) if negative else any(results)


def evaluate(record: dict[str, Any], domain: Sequence[Any], resolve: Resolver) -> bool:
    """Whether ``record`` satisfies ``domain``."""
    items = normalize(domain)
    if not items:
        return True
    stack: list[bool] = []
    for item in reversed(items):
        if item == "&":
            a, b = stack.pop(), stack.pop()
            stack.append(a and b)
        elif item == "|":
            a, b = stack.pop(), stack.pop()
            stack.append(a or b)
        elif item == "!":
            stack.append(not stack.pop())
        elif item is True or _same(item, _TRUE_LEAF):
            stack.append(True)
        elif item is False or _same(item, _FALSE_LEAF):
            stack.append(False)
        else:
            stack.append(_leaf(record, item, resolve))
    return all(stack)
