"""Batches toward Odoo: one call for many records, and bisection when one of them is refused.

Odoo runs each call in one transaction, so a batch that fails with a business error created
nothing. :func:`bisect_batch` then splits it in halves and retries each half, down to single
records, so the good records get through (in about ``2 * bad * log2(n)`` extra calls) and each bad
one is reported with its own error. Transient errors are not bisected: they propagate, and the
whole batch is retried by whoever owns it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from crossdock.connectors.odoo.errors import OdooBusinessError, OdooError, OdooMissingError

__all__ = ["BatchOutcome", "bisect_batch", "chunks"]

T = TypeVar("T")
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class BatchOutcome(Generic[K, V]):
    """Per-key result of a batch operation: what was done, what already existed, what failed."""

    done: dict[K, V] = field(default_factory=dict)
    existing: set[K] = field(default_factory=set)
    failed: dict[K, OdooError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_first(self) -> None:
        """Raise the first failure, if any (for callers that handle one record at a time)."""
        for error in self.failed.values():
            raise error


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]


def _record_error(error: OdooError) -> bool:
    return isinstance(error, OdooBusinessError | OdooMissingError)


async def bisect_batch(
    items: Sequence[T],
    send: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
    *,
    name: Callable[[T], str],
) -> tuple[list[tuple[T, R]], list[tuple[T, OdooError]]]:
    """Send ``items`` in one call; on a record-level error, bisect to isolate the bad ones.

    ``send`` returns one result per item, in order. ``name`` names an item for its error
    (``sale.order web:1001``). Returns ``(succeeded, failed)``.
    """
    if not items:
        return [], []
    try:
        results = await send(items)
    except OdooError as error:
        if not _record_error(error):
            raise
        if len(items) == 1:
            return [], [(items[0], error.for_record(name(items[0])))]
        middle = len(items) // 2
        good_left, bad_left = await bisect_batch(items[:middle], send, name=name)
        good_right, bad_right = await bisect_batch(items[middle:], send, name=name)
        return good_left + good_right, bad_left + bad_right
    return list(zip(items, results, strict=True)), []
