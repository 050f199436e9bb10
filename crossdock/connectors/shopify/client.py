"""The GraphQL Admin API client of one shop: httpx (its transport the test seam), paced to the
shop's cost bucket (:mod:`.bucket`), retried and circuit-broken as every connector is
(:mod:`crossdock.connectors.resilience`).

A query waits until the bucket holds its expected cost, so in normal operation the shop never
answers ``THROTTLED``; when it does (another app spent the bucket), the answer's throttle status
says how long to wait, and the query is sent again then. Transport errors, 5xx and 429 are
transient (retried with the project's backoff, then :class:`~crossdock.errors.Unavailable`);
GraphQL ``errors`` are business errors (:class:`~.errors.ShopifyError`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from crossdock.connectors.observer import CallObserver
from crossdock.connectors.resilience import CONNECTOR_BACKOFF, CircuitBreaker, retry_async
from crossdock.connectors.shopify.bucket import CostBucket, throttle_status
from crossdock.connectors.shopify.errors import ShopifyError, UserErrors
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.connectors.shopify.token import AccessToken
from crossdock.errors import Unavailable

__all__ = ["ShopifyClient"]

MAX_THROTTLED_RETRIES = 20
"""A query answered THROTTLED this many times in a row is given up (as unavailable)."""


class ShopifyClient:
    def __init__(
        self,
        settings: ShopifySettings,
        *,
        http: httpx.AsyncClient | None = None,
        observer: CallObserver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        bucket: CostBucket | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=settings.timeout_s)
        self.observer = observer
        self.sleep = sleep
        self.bucket = bucket or CostBucket()
        self.token = AccessToken(settings, self.http)
        self.breaker = CircuitBreaker(
            settings.name,
            failure_threshold=settings.breaker_failures,
            reset_timeout_s=settings.breaker_reset_s,
        )
        if observer is not None:
            observer.watch_circuit(settings.name, lambda: self.breaker.state)
        self.calls = 0
        self.throttled = 0
        self._pace = asyncio.Lock()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def execute(
        self,
        operation: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        estimate: float = 10.0,
    ) -> dict[str, Any]:
        """The ``data`` of one GraphQL operation, paced and retried (see the module)."""
        payload = {"query": query, "variables": dict(variables or {}), "operationName": operation}

        async def attempt() -> dict[str, Any]:
            return await self._throttled_loop(operation, payload, estimate)

        def on_retry(_: int, error: BaseException, __: float) -> None:
            if self.observer is not None:
                self.observer.retrying(self.name, error)

        return await retry_async(
            attempt,
            attempts=self.settings.retry_attempts,
            backoff=CONNECTOR_BACKOFF,
            retryable=lambda e: isinstance(e, Unavailable) and self.breaker.state != "open",
            sleep=self.sleep,
            on_retry=on_retry,
        )

    async def _throttled_loop(
        self, operation: str, payload: dict[str, Any], estimate: float
    ) -> dict[str, Any]:
        for _ in range(MAX_THROTTLED_RETRIES):
            cost = await self._reserve(operation, estimate)
            answer = await self._send(operation, payload, cost)
            errors = answer.get("errors") or []
            codes = {
                str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)
            }
            if "THROTTLED" in codes:
                self.throttled += 1
                continue  # the bucket now holds the shop's word: the next reserve waits enough
            if errors:
                first: dict[str, Any] = (
                    errors[0] if isinstance(errors[0], dict) else {"message": str(errors[0])}
                )
                extensions = first.get("extensions")
                code = extensions.get("code") if isinstance(extensions, dict) else None
                raise ShopifyError(f"{operation}: {first.get('message')}", code=code and str(code))
            data = answer.get("data")
            if not isinstance(data, dict):
                raise ShopifyError(f"{operation}: the answer has no data")
            return data
        raise Unavailable(
            f"{operation}: throttled {MAX_THROTTLED_RETRIES} times in a row",
            1.0,
            system=self.name,
        )

    async def _reserve(self, operation: str, estimate: float) -> float:
        async with self._pace:
            cost = self.bucket.expected(operation, estimate)
            while (wait := self.bucket.wait_for(cost)) > 0:
                await self.sleep(wait)
            self.bucket.reserve(cost)
            return cost

    async def _send(self, operation: str, payload: dict[str, Any], cost: float) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.observer is not None:
            headers.update(self.observer.outgoing_headers())
        settled = False
        try:
            self.breaker.before_call()
            for renewed in (False, True):
                token = await self.token.get()
                headers["X-Shopify-Access-Token"] = token
                self.calls += 1
                try:
                    if self.observer is not None:
                        with self.observer.calling(self.name, operation, {}):
                            response = await self.http.post(
                                self.settings.graphql_url, json=payload, headers=headers
                            )
                    else:
                        response = await self.http.post(
                            self.settings.graphql_url, json=payload, headers=headers
                        )
                except httpx.TransportError as exc:
                    self.breaker.record_failure()
                    raise Unavailable(
                        f"{operation}: {type(exc).__name__}: {exc}", system=self.name
                    ) from exc
                # an obtained token expired or was revoked: one new token, the request again
                if response.status_code != 401 or renewed or not self.token.refused(token):
                    break
            if response.status_code == 429 or response.status_code >= 500:
                self.breaker.record_failure()
                retry_after = float(response.headers.get("Retry-After", "1") or 1)
                raise Unavailable(
                    f"{operation}: HTTP {response.status_code}", retry_after, system=self.name
                )
            if response.status_code >= 400:
                self.breaker.record_neutral()
                raise ShopifyError(
                    f"{operation}: HTTP {response.status_code}: {response.text[:200]}",
                    code=str(response.status_code),
                )
            try:
                answer = response.json()
            except ValueError:
                self.breaker.record_failure()
                raise Unavailable(f"{operation}: the answer is not JSON") from None
            self.breaker.record_success()
            extensions = answer.get("extensions") if isinstance(answer, dict) else None
            cost_info = (extensions or {}).get("cost") or {}
            self.bucket.settle(
                cost,
                operation,
                throttle_status(extensions),
                _number(cost_info.get("requestedQueryCost")),
                _number(cost_info.get("actualQueryCost")),
            )
            settled = True
            return answer if isinstance(answer, dict) else {}
        finally:
            if not settled:
                self.bucket.settle(cost, operation, None, None, None)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def user_errors(mutation: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of mutation ``mutation``; its ``userErrors`` raised as :class:`UserErrors`."""
    payload = data.get(mutation)
    if not isinstance(payload, dict):
        raise ShopifyError(f"{mutation}: no payload in the answer")
    errors = payload.get("userErrors") or []
    if errors:
        raise UserErrors(mutation, list(errors))
    return payload
