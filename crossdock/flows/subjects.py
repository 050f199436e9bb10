"""The event subjects of the flows' business objects, spelled once: ``<kind>:<key>``
(``order:<id>``, ``return:<RMA>``, ``payment:<payment id>``, ``invoice:<number>``). A subject is
what the engine orders delivery by, and what exceptions and drift items are about."""

from __future__ import annotations

__all__ = ["key_of", "subject"]


def subject(kind: str, key: str) -> str:
    """The subject of ``key`` of ``kind``: all its events are delivered in order under it."""
    return f"{kind}:{key}"


def key_of(kind: str, of: str) -> str | None:
    """The key of a subject of ``kind`` (``key_of("order", "order:42") == "42"``), else None."""
    prefix = subject(kind, "")
    return of[len(prefix) :] if of.startswith(prefix) else None
