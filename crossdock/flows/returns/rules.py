"""The rules a return must meet, as a pure function: the channel's window, returnable SKUs, the
rules of the products' categories (returnable or not, a window of their own), and quantities no
more than delivered less already returned. Each broken rule names the field (a
JSON pointer into the request) and the rule, for a 422 problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase

from crossdock.config.returns import CategoryRule, ReturnPolicy
from crossdock.flows.returns.request import ReturnRequest

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Broken:
    pointer: str
    rule: str
    detail: str

    def as_error(self) -> dict[str, str]:
        return {"pointer": self.pointer, "rule": self.rule, "detail": self.detail}


def returnable(sku: str, policy: ReturnPolicy) -> bool:
    if any(fnmatchcase(sku, p) for p in policy.not_returnable):
        return False
    return any(fnmatchcase(sku, p) for p in policy.returnable)


def category_rule(category: str | None, policy: ReturnPolicy) -> tuple[str, CategoryRule] | None:
    """The rule of ``category`` or of its nearest parent that has one (``All / Food / Fresh``:
    then ``All / Food``, then ``All``), with the name it is configured under."""
    if not category or not policy.categories:
        return None
    parts = [p.strip() for p in category.split("/")]
    for end in range(len(parts), 0, -1):
        name = " / ".join(parts[:end])
        if name in policy.categories:
            return name, policy.categories[name]
    return None


def check(
    request: ReturnRequest,
    policy: ReturnPolicy,
    *,
    ordered: Mapping[str, Decimal],
    delivered: Mapping[str, Decimal],
    returned: Mapping[str, Decimal],
    delivered_at: float | None,
    now: float,
    categories: Mapping[str, str] | None = None,
) -> list[Broken]:
    """Every rule ``request`` breaks (none: it may be accepted). ``categories``: the product
    category of each SKU (needed when the channel has category rules)."""
    if policy.categories and categories is None:
        raise ValueError(
            f"channel {request.channel} has category rules: the SKUs' categories are needed"
        )
    order_field = "/order_id" if request.order_id is not None else "/order_ref"
    broken: list[Broken] = []
    known = categories or {}
    ruled = {
        line.sku: found
        for line in request.lines
        if (found := category_rule(known.get(line.sku), policy)) is not None
    }
    # a category with a window of its own replaces the channel's for its lines
    own_window = {sku for sku, (_, rule) in ruled.items() if rule.window_days is not None}
    on_channel_window = not request.lines or any(
        line.sku not in own_window for line in request.lines
    )
    days = int((now - delivered_at) // DAY_S) if delivered_at is not None else 0
    if delivered_at is None:
        broken.append(Broken(order_field, "delivered", "nothing of the order was delivered yet"))
    elif on_channel_window and now - delivered_at >= policy.window_days * DAY_S:
        broken.append(
            Broken(
                order_field,
                "return_window",
                f"the return window of channel {request.channel} is {policy.window_days} days; "
                f"the order was delivered {days} days ago",
            )
        )
    for n, line in enumerate(request.lines):
        if line.sku not in ordered:
            broken.append(Broken(f"/lines/{n}/sku", "in_order", f"{line.sku} is not in the order"))
            continue
        if line.sku in ruled:
            name, rule = ruled[line.sku]
            where = f"returns.channels.{request.channel}.categories[{name!r}]"
            if not rule.returnable:
                broken.append(
                    Broken(
                        f"/lines/{n}/sku",
                        "category_returnable",
                        f"{line.sku} is in category {known[line.sku]!r}, which channel "
                        f"{request.channel} does not take back ({where})",
                    )
                )
            elif (
                rule.window_days is not None
                and delivered_at is not None
                and now - delivered_at >= rule.window_days * DAY_S
            ):
                broken.append(
                    Broken(
                        f"/lines/{n}/sku",
                        "category_window",
                        f"{line.sku} is in category {known[line.sku]!r}, returnable "
                        f"{rule.window_days} days after delivery ({where}); the order was "
                        f"delivered {days} days ago",
                    )
                )
        if not returnable(line.sku, policy):
            broken.append(
                Broken(
                    f"/lines/{n}/sku",
                    "returnable",
                    f"{line.sku} may not be returned in channel {request.channel}",
                )
            )
        left = delivered.get(line.sku, Decimal(0)) - returned.get(line.sku, Decimal(0))
        if line.quantity > left:
            broken.append(
                Broken(
                    f"/lines/{n}/quantity",
                    "returnable_quantity",
                    f"{line.quantity} of {line.sku} asked back; at most {left} "
                    f"({delivered.get(line.sku, Decimal(0))} delivered, "
                    f"{returned.get(line.sku, Decimal(0))} returned already)",
                )
            )
    return broken


def needs_approval(amount: Decimal, policy: ReturnPolicy) -> bool:
    return policy.approval_above is not None and amount > policy.approval_above
