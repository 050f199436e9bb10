"""API tokens: opaque, shown once, stored as SHA-256 hashes, each with scopes and a rate limit.

`require("orders:write")` is a FastAPI dependency that answers 401 (no or unknown token), 403
(scope missing) or 429 with `Retry-After` (the token's rate exceeded). Verified tokens are cached
for a few seconds so the intake's hot path does not read the database per request; a revoked
token stops working within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import Connection, insert, select, update

from crossdock.api.problems import Problem
from crossdock.api.tables import api_tokens
from crossdock.engine import SharedTokenBucket, TokenBucket, new_event_id

SCOPES = (
    "orders:write",
    "orders:read",
    "shipments:write",
    "inventory:write",
    "inventory:read",
    "ops:read",
    "ops:write",
    "webhooks:admin",
    "purchasing:read",
    "purchasing:write",
    "payments:write",
    "payments:read",
    "admin",
)
TOKEN_PREFIX = "cdk_"
DEFAULT_RATE_PER_S = 1000.0
CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: str
    name: str
    scopes: frozenset[str]
    rate_per_s: float

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise ValueError(
            f"scopes: {', '.join(unknown) or 'none given'} — choose from {', '.join(SCOPES)}"
        )
    return chosen


def create_token(
    conn: Connection, name: str, scopes: Iterable[str], *, rate_per_s: float | None = None
) -> str:
    """Store a new token and return it in clear text: the only time it is ever visible."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_tokens).values(
            id=new_event_id(),
            name=name,
            token_hash=hash_token(token),
            scopes=" ".join(check_scopes(scopes)),
            rate_per_s=rate_per_s,
            created_at=time.time(),
        )
    )
    return token


def revoke_token(conn: Connection, name: str) -> bool:
    done = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=time.time())
    )
    return done.rowcount == 1


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at))
    return [
        {
            "name": r.name,
            "scopes": r.scopes.split(),
            "rate_per_s": r.rate_per_s,
            "created_at": r.created_at,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def _lookup(conn: Connection, token_hash: str) -> Principal | None:
    row = conn.execute(
        select(api_tokens).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return Principal(
        row.id, row.name, frozenset(row.scopes.split()), row.rate_per_s or DEFAULT_RATE_PER_S
    )


class Authenticator:
    """Verifies bearer tokens (with a short cache) and applies each token's rate limit."""

    def __init__(
        self,
        read: Callable[[Callable[[Connection], Any]], Awaitable[Any]],
        shared: Path | None = None,
    ) -> None:
        """`read` runs a database read; with `shared`, a directory of the processes of one
        server, the rate limits are theirs together (a bucket file per token)."""
        self._read = read
        self._shared = shared
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._buckets: dict[str, TokenBucket | SharedTokenBucket] = {}

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Problem(
                401,
                "Unauthorized",
                "send an API token: Authorization: Bearer <token>",
                kind="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        digest = hash_token(token.strip())
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or cached[0] < now:
            found = await self._read(lambda c: _lookup(c, digest))
            cached = (now + CACHE_SECONDS, found)
            self._cache[digest] = cached
        principal = cached[1]
        if principal is None:
            raise Problem(
                401,
                "Unauthorized",
                "the API token is unknown or revoked",
                kind="unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        bucket = self._buckets.get(principal.token_id)
        if bucket is None:
            bucket = self._buckets[principal.token_id] = self._bucket(principal)
        wait = bucket.try_take()
        if wait > 0:
            raise Problem(
                429,
                "Too many requests",
                f"token {principal.name!r} is limited to {principal.rate_per_s:g}/s",
                kind="rate-limited",
                headers={"Retry-After": str(ceil(wait))},
            )
        return principal

    def _bucket(self, principal: Principal) -> TokenBucket | SharedTokenBucket:
        rate = principal.rate_per_s
        burst = max(1, int(rate * 2))
        if self._shared is None:
            return TokenBucket(rate, burst)
        return SharedTokenBucket(self._shared / f"rate-{principal.token_id}", rate, burst)


# The scope each dependency made by `require` checks: the OpenAPI document derives each
# operation's security from its dependencies (`crossdock.api.openapi`).
_REQUIRED: dict[Callable[..., Any], str] = {}


def scope_of(dependency: Callable[..., Any] | None) -> str | None:
    """The scope `dependency` requires, if `require` made it."""
    return None if dependency is None else _REQUIRED.get(dependency)


def require(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller's principal, which must hold `scope` (or `admin`)."""
    if scope not in SCOPES:
        raise ValueError(scope)

    async def dependency(request: Request) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal = await auth.principal(request)
        if not principal.allows(scope):
            raise Problem(
                403,
                "Forbidden",
                f"the token lacks the scope {scope!r}",
                kind="forbidden",
                required_scope=scope,
            )
        return principal

    _REQUIRED[dependency] = scope
    return dependency
