"""Stripe's REST API, the part the hub calls: ``GET /v1/events``, listed page by page.

Stripe keeps events 30 days and lists them newest first. ``created[gte]`` bounds the window,
``types[]`` (up to 20) the event types, ``limit`` (1 to 100) the page, and ``starting_after`` (the
last id of the page before) walks on while the answer says ``has_more``. Authentication is the
secret key as a bearer token; the key is never logged nor put in an error.

Errors: no answer (refused, reset, timeout), 429 and 5xx are
:class:`~crossdock.errors.Unavailable` (try again later, ``Retry-After`` honoured); any other 4xx
is :class:`StripeRefused` with Stripe's ``error.type``, ``error.message`` and ``param`` (a
wrong key or a wrong parameter: trying again does not help). Neither retries: the caller
decides (the catch-up's schedule retries with its back-off).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from crossdock.errors import CrossdockError, Unavailable

__all__ = ["MAX_TYPES", "StripeApi", "StripeRefused"]

MAX_TYPES = 20
"""Stripe's limit on ``types[]`` in one list request."""
USER_AGENT = "crossdock-stripe/0.1"


class StripeRefused(CrossdockError):
    """Stripe refused the request (a 4xx other than 429): Stripe's error type and message."""

    def __init__(self, status: int, kind: str, message: str, param: str | None = None) -> None:
        where = f" (param {param})" if param else ""
        super().__init__(f"Stripe answered {status} {kind}: {message}{where}")
        self.status = status
        self.kind = kind
        self.param = param


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


class StripeApi:
    """A client of one Stripe account (``base_url``: ``https://api.stripe.com``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 30.0,
        http: httpx.AsyncClient | None = None,
        system: str = "stripe",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.system = system
        self._key = api_key
        self._http = http or httpx.AsyncClient(timeout=timeout_s)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._key}", "User-Agent": USER_AGENT}
        try:
            response = await self._http.get(
                self.base_url + path, params=tuple(params), headers=headers
            )
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"Stripe {path}: no answer ({type(exc).__name__})", system=self.system
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise Unavailable(
                f"Stripe {path}: {response.status_code}",
                _retry_after(response),
                system=self.system,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            error = error if isinstance(error, dict) else {}
            raise StripeRefused(
                response.status_code,
                str(error.get("type") or "error"),
                str(error.get("message") or response.reason_phrase),
                str(error["param"]) if error.get("param") else None,
            )
        if not isinstance(body, dict):
            raise Unavailable(f"Stripe {path}: the answer is not a JSON object")
        return body

    async def list_events(
        self,
        *,
        created_gte: int | None = None,
        types: Sequence[str] = (),
        limit: int = 100,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The events created at or after ``created_gte`` (epoch seconds) of ``types`` (all
        when empty), one page (newest first, as Stripe lists them) at a time."""
        if not 1 <= limit <= 100:
            raise ValueError("limit must be 1 to 100")
        if len(types) > MAX_TYPES:
            raise ValueError(f"Stripe lists at most {MAX_TYPES} types at once")
        base: list[tuple[str, str]] = [("limit", str(limit))]
        if created_gte is not None:
            base.append(("created[gte]", str(int(created_gte))))
        base.extend(("types[]", t) for t in types)
        after: str | None = None
        while True:
            params = base if after is None else [*base, ("starting_after", after)]
            page = await self._get("/v1/events", params)
            data = page.get("data")
            if page.get("object") != "list" or not isinstance(data, list):
                raise Unavailable("Stripe /v1/events: the answer is not a list")
            events = [e for e in data if isinstance(e, dict) and isinstance(e.get("id"), str)]
            if events:
                yield events
            if not page.get("has_more") or not events:
                return
            after = str(events[-1]["id"])
