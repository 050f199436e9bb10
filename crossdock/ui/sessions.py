"""Dashboard sessions: signing in with an API token opens a server-side session.

The browser holds only a random session id (cookie `crossdock_session`: HttpOnly, SameSite=Strict,
Secure over https, path `/ui`); the store keeps the SHA-256 of that id with the *token's id* —
never the token itself. Every request looks the token up again (cached a few seconds, like the
API's authenticator), so a revoked token or a changed scope takes effect on open sessions too.

Each session has its own CSRF token, sent back by forms (`csrf` field) and htmx requests
(`X-CSRF-Token` header) on every POST; SameSite=Strict already keeps other sites' requests
cookie-less, the token covers browsers that do not honour it.

Sessions live in this process's memory: they end when it restarts, and with several API nodes the
dashboard needs sticky sessions (or one node).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from crossdock.api.auth import DEFAULT_RATE_PER_S, Principal, hash_token
from crossdock.api.tables import api_tokens

__all__ = [
    "COOKIE",
    "SIGNIN_COOKIE",
    "Session",
    "SessionStore",
    "Tokens",
    "same_secret",
]

COOKIE = "crossdock_session"
SIGNIN_COOKIE = "crossdock_signin"
SESSION_TTL_S = 12 * 3600.0
IDLE_TTL_S = 2 * 3600.0
MAX_SESSIONS = 10_000
TOKEN_CACHE_S = 5.0


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted secret (CSRF token, nonce) with the expected one."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


@dataclass
class Session:
    token_id: str
    csrf: str
    created_at: float
    last_seen: float

    @property
    def expires_at(self) -> float:
        return min(self.created_at + SESSION_TTL_S, self.last_seen + IDLE_TTL_S)


class SessionStore:
    """Sessions by the hash of their id, oldest evicted first beyond `max_sessions`."""

    def __init__(
        self, *, max_sessions: int = MAX_SESSIONS, clock: Callable[[], float] = time.time
    ) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._max = max_sessions
        self._clock = clock

    def open(self, token_id: str) -> tuple[str, Session]:
        """A new session for the token: its raw id (for the cookie, shown nowhere else)."""
        raw = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(token_id, secrets.token_urlsafe(32), now, now)
        self._sessions[_digest(raw)] = session
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)
        return raw, session

    def get(self, raw: str | None) -> Session | None:
        if not raw:
            return None
        key = _digest(raw)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if now >= session.expires_at:
            del self._sessions[key]
            return None
        session.last_seen = now
        return session

    def close(self, raw: str | None) -> None:
        if raw:
            self._sessions.pop(_digest(raw), None)

    def close_all(self, token_id: str) -> None:
        for key in [k for k, s in self._sessions.items() if s.token_id == token_id]:
            del self._sessions[key]

    def __len__(self) -> int:
        return len(self._sessions)


def _principal(row: Any) -> Principal:
    return Principal(
        row.id, row.name, frozenset(row.scopes.split()), row.rate_per_s or DEFAULT_RATE_PER_S
    )


def _by_hash(conn: Connection, token_hash: str) -> Principal | None:
    row = conn.execute(
        select(api_tokens).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
        )
    ).first()
    return _principal(row) if row else None


def _by_id(conn: Connection, token_id: str) -> Principal | None:
    row = conn.execute(
        select(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
    ).first()
    return _principal(row) if row else None


Read = Callable[[Callable[[Connection], Any]], Awaitable[Any]]


class Tokens:
    """Looks API tokens up for the dashboard: by the token (sign-in) or by id (each request)."""

    def __init__(self, read: Read, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._read = read
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def verify(self, token: str) -> Principal | None:
        digest = hash_token(token.strip())
        found: Principal | None = await self._read(lambda c: _by_hash(c, digest))
        return found

    async def principal(self, token_id: str) -> Principal | None:
        now = self._clock()
        cached = self._cache.get(token_id)
        if cached is None or cached[0] < now:
            found: Principal | None = await self._read(lambda c: _by_id(c, token_id))
            if len(self._cache) > MAX_SESSIONS:
                self._cache.clear()
            cached = self._cache[token_id] = (now + TOKEN_CACHE_S, found)
        return cached[1]
