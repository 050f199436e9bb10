"""The errors of the Shopify connector. Transient (the shop is down, slow or throttling: try again
later) is the project's `Unavailable`; business (the shop refused the request: park it, never
retry as is) is `ShopifyError`."""

from __future__ import annotations

from typing import Any

from crossdock.errors import CrossdockError

__all__ = ["ShopifyError", "UserErrors"]


class ShopifyError(CrossdockError):
    """The shop refused the request (GraphQL ``errors``, 4xx): retrying it unchanged fails the
    same way."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class UserErrors(ShopifyError):
    """A mutation answered ``userErrors`` (each with ``field``, ``message`` and ``code``)."""

    def __init__(self, mutation: str, errors: list[dict[str, Any]]) -> None:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in (e.get('field') or []))}: {e.get('message')}"
            for e in errors
        )
        super().__init__(f"{mutation}: {detail}", code=str(errors[0].get("code") or "") or None)
        self.errors = errors
