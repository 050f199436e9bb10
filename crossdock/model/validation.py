"""Validation helpers shared by the model modules: errors that point at the offending item.

Pydantic reports an error raised in a validator at the validated value's location. These helpers
raise a :class:`pydantic.ValidationError` whose locations are relative to that value, which
pydantic prefixes with the value's own location: an error at ``(1, "sku")`` raised while
validating ``lines`` is reported at ``("lines", 1, "sku")``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

__all__ = ["raise_field_error", "raise_line_errors", "require_unique"]


def raise_line_errors(title: str, errors: Sequence[InitErrorDetails]) -> None:
    """Raise ``errors`` (each with a ``loc`` relative to the validated value), if any."""
    if errors:
        raise ValidationError.from_exception_data(title, list(errors))


def raise_field_error(
    title: str, loc: tuple[str | int, ...], error_type: str, message: str, value: Any
) -> None:
    """Raise one validation error at ``loc`` (relative to the validated value)."""
    error = PydanticCustomError(error_type, message)
    raise_line_errors(title, [InitErrorDetails(type=error, loc=loc, input=value)])


def require_unique(
    title: str,
    items: Iterable[Any],
    key: Callable[[Any], Hashable | None],
    field: str | None,
    what: str,
    error_type: str = "duplicate",
) -> None:
    """Reject items whose ``key`` repeats an earlier one; errors point at ``(index, field)``.

    ``field`` may be ``None`` for lists of scalars: errors then point at ``(index,)``.

    Items whose key is ``None`` are not compared. ``what`` names the key in the message
    (``"SKU"``); ``error_type`` is the error's machine-readable type (``"duplicate_sku"``).
    """
    first_seen: dict[Hashable, int] = {}
    errors: list[InitErrorDetails] = []
    for index, item in enumerate(items):
        value = key(item)
        if value is None:
            continue
        if value in first_seen:
            errors.append(
                InitErrorDetails(
                    type=PydanticCustomError(
                        error_type,
                        "duplicate {what} '{value}': already used at index {first}",
                        {"what": what, "value": str(value), "first": first_seen[value]},
                    ),
                    loc=(index,) if field is None else (index, field),
                    input=value,
                )
            )
        else:
            first_seen[value] = index
    raise_line_errors(title, errors)
