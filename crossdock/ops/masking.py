"""Personal data out of the logs: a structlog processor that masks it before rendering.

Masked by key, at any depth (dicts, lists, pydantic-dumped objects): names of people
(`name`, `first_name`, `last_name`, `full_name`, `contact_name`, `customer_name`,
`display_name`, `partner_name`, `recipient`), e-mail addresses (any key containing `email`),
phone numbers (containing `phone`, `mobile`, `fax`), street addresses (`street`, `street2`,
`address`, `address_line*`, `line1`/`line2`), postal codes (`zip`, `postal_code`, `postcode`),
and tax ids (`tax_id`, `vat`). A dict under `address` is masked field by field.

Kept on purpose: `city`, `region`, `country` (needed to diagnose routing and tax, not identifying
on their own), `company` (a business, not a person), references and ids.

Inside any other string (error messages, reprs), e-mail addresses and phone-like numbers
(`+32 2 555 01 23`, `030 1234567`) are replaced too; dates, times, amounts and UUIDs are left
alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["MASK", "mask_processor", "mask_text", "mask_value"]

MASK = "[masked]"
_EXACT = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "contact_name",
        "customer_name",
        "display_name",
        "partner_name",
        "recipient",
        "street",
        "street2",
        "line1",
        "line2",
        "zip",
        "postal_code",
        "postcode",
        "tax_id",
        "vat",
    }
)
_CONTAINS = ("email", "phone", "mobile", "fax", "address_line")
_STRUCTURED = frozenset({"address", "shipping_address", "billing_address", "delivery_address"})

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(
    r"(?<![\w.:/-])"
    r"(?:\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}"
    r"|\(?0\d{1,4}\)?[\s./-]?\d{2,4}(?:[\s./-]?\d{2,4}){1,3})"
    r"(?![\w.:/-])"
)


def _sensitive(key: str) -> bool:
    lowered = key.lower()
    return lowered in _EXACT or any(part in lowered for part in _CONTAINS)


def mask_text(text: str) -> str:
    """E-mail addresses and phone numbers inside free text."""
    if "@" in text:
        text = EMAIL_RE.sub(MASK, text)
    return PHONE_RE.sub(MASK, text)


def mask_value(value: Any, key: str | None = None, depth: int = 0) -> Any:
    if depth > 12:
        return MASK
    if key is not None and _sensitive(key) and not isinstance(value, Mapping | list | tuple):
        return MASK if value is not None else None
    if key is not None and key.lower() in _STRUCTURED and isinstance(value, str):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic object: mask its fields, not its repr
        value = dump(mode="json")
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key if key and _sensitive(key) else None, depth + 1) for v in value]
    return value


def mask_processor(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: masks every key except the log event name itself."""
    for key, value in list(event_dict.items()):
        if key == "event":
            event_dict[key] = mask_text(value) if isinstance(value, str) else value
        else:
            event_dict[key] = mask_value(value, key)
    return event_dict
