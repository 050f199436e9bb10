"""The rules a return must meet, as a pure function: the channel's window, returnable SKUs, and
quantities no more than delivered less already returned. Each broken rule names the field (a
JSON pointer into the request) and the rule, for a 422 problem."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase

from crossdock.config.returns import ReturnPolicy
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


def check(
    request: ReturnRequest,
    policy: ReturnPolicy,
    *,
    ordered: Mapping[str, Decimal],
    delivered: Mapping[str, Decimal],
    returned: Mapping[str, Decimal],
    delivered_at: float | None,
    now: float,
) -> list[Broken]:
    """Every rule ``request`` breaks (none: it may be accepted)."""
    order_field = "/order_id" if request.order_id is not None else "/order_ref"
    broken: list[Broken] = []
    if delivered_at is None:
        broken.append(Broken(order_field, "delivered", "nothing of the order was delivered yet"))
    elif now - delivered_at >= policy.window_days * DAY_S:
        days = int((now - delivered_at) // DAY_S)
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
