"""The Admin API access token of one shop: the configured one, or one obtained with the app's
client credentials (Shopify's client credentials grant: ``POST
https://<shop>/admin/oauth/access_token`` with ``grant_type=client_credentials``, ``client_id``
and ``client_secret``, form-encoded; the answer's ``access_token`` lives ``expires_in`` seconds).

An obtained token is cached until shortly before it expires, and dropped when the shop answers
401 (revoked, or the app's secret rotated), so the next request obtains a new one. Neither the
secret nor a token is ever logged or put in an error: a refusal names Shopify's error code only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from crossdock.connectors.shopify.errors import ShopifyError
from crossdock.connectors.shopify.settings import ShopifySettings
from crossdock.errors import Unavailable

__all__ = ["AccessToken"]

EARLY_S = 300.0
"""An obtained token is renewed this long before it expires (a request in flight must not
meet its expiry)."""


class AccessToken:
    def __init__(
        self,
        settings: ShopifySettings,
        http: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock
        self._token: str | None = settings.access_token
        self._expires_at = float("inf")
        self._lock = asyncio.Lock()
        self.obtained = 0
        """Tokens obtained with the client credentials (a measure, never the token)."""

    @property
    def renewable(self) -> bool:
        """Whether a refused token can be replaced (client credentials are configured)."""
        return self.settings.client_id is not None and self.settings.client_secret is not None

    async def get(self) -> str:
        if self._token is not None and self.clock() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token is None or self.clock() >= self._expires_at:
                await self._obtain()
            assert self._token is not None
            return self._token

    def refused(self, token: str) -> bool:
        """The shop answered 401 to ``token``: drop it; True when a new one can be obtained."""
        if not self.renewable:
            return False
        if self._token == token:
            self._token = None
        return True

    async def _obtain(self) -> None:
        if not self.renewable:
            raise ShopifyError(f"{self.settings.name}: no access token and no client credentials")
        url = f"{self.settings.url}/admin/oauth/access_token"
        form = {
            "grant_type": "client_credentials",
            "client_id": str(self.settings.client_id),
            "client_secret": str(self.settings.client_secret),
        }
        try:
            response = await self.http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise Unavailable(
                f"access token: {type(exc).__name__}", system=self.settings.name
            ) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise Unavailable(
                f"access token: HTTP {response.status_code}", system=self.settings.name
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            code = answer.get("error") if isinstance(answer, dict) else None
            raise ShopifyError(
                f"{self.settings.name}: the client credentials were refused "
                f"(HTTP {response.status_code}{', ' + str(code) if code else ''})",
                code="AUTH",
            )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise ShopifyError(f"{self.settings.name}: the token answer has no access_token")
        lifetime = answer.get("expires_in")
        now = self.clock()
        if isinstance(lifetime, int | float) and lifetime > 0:
            self._expires_at = now + max(float(lifetime) - EARLY_S, float(lifetime) / 2)
        else:
            self._expires_at = float("inf")
        self._token = token
        self.obtained += 1
