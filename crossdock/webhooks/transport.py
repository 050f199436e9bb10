"""A small HTTP/1.1 client for deliveries: keep-alive connections pooled per destination, with
`h11` for the protocol. Deliveries are many small POSTs to few hosts; httpx's pool checks every
pooled connection on every request (syscalls per connection), which caps a process at a few
hundred requests/s with hundreds of connections — this pool hands out an idle connection in O(1).

Only what delivery needs: POST, a body, the status, the headers and the first bytes of the
answer. A connection goes back to the pool only after a complete exchange; anything unexpected
(errors, cancellation, a long answer) closes it. A request on a reused connection that fails
before any answer arrives is tried once more on a fresh one (the server closed it while idle).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from crossdock.errors import CrossdockError

READ_CHUNK = 65536
MAX_BODY_READ = 65536  # read at most this much of an answer (then the connection is closed)


class TransportError(CrossdockError):
    """No HTTP answer: connection refused or reset, TLS failure, malformed answer."""


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: h11.Connection

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    head: bytes


class Pool:
    """Idle keep-alive connections per (scheme, host, port)."""

    def __init__(self, max_idle_per_host: int = 512, user_agent: str = "crossdock") -> None:
        self.max_idle = max_idle_per_host
        self.user_agent = user_agent
        self._idle: defaultdict[tuple[str, str, int], list[_Conn]] = defaultdict(list)
        self._tls: ssl.SSLContext | None = None

    async def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def _open(self, scheme: str, host: str, port: int) -> _Conn:
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=tls, server_hostname=host if tls else None, limit=READ_CHUNK
            )
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"connect failed: {exc}") from exc
        return _Conn(reader, writer, h11.Connection(h11.CLIENT))

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], head_bytes: int = 512
    ) -> HttpAnswer:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        key = (scheme, host, port)
        request = h11.Request(
            method="POST",
            target=target,
            headers=[
                ("host", parts.netloc.rsplit("@", 1)[-1]),
                ("user-agent", self.user_agent),
                ("content-length", str(len(body))),
                *headers.items(),
            ],
        )
        idle = self._idle[key]
        while idle:
            conn = idle.pop()
            if conn.reader.at_eof() or conn.writer.is_closing():
                conn.close()
                continue
            try:
                return await self._exchange(key, conn, request, body, head_bytes)
            except _Stale:
                continue
        return await self._exchange(key, await self._open(*key), request, body, head_bytes, True)

    async def _exchange(
        self,
        key: tuple[str, str, int],
        conn: _Conn,
        request: h11.Request,
        body: bytes,
        head_bytes: int,
        fresh: bool = False,
    ) -> HttpAnswer:
        keep = False
        got_bytes = False
        try:
            protocol = conn.protocol
            data = protocol.send(request) or b""
            data += protocol.send(h11.Data(data=body)) or b""
            data += protocol.send(h11.EndOfMessage()) or b""
            conn.writer.write(data)
            await conn.writer.drain()
            status, answer_headers, head, size = 0, {}, b"", 0
            while True:
                event = protocol.next_event()
                if event is h11.NEED_DATA:
                    chunk = await conn.reader.read(READ_CHUNK)
                    if chunk:
                        got_bytes = True
                    elif not got_bytes and not fresh:
                        raise _Stale
                    protocol.receive_data(chunk)
                    continue
                if isinstance(event, h11.Response):
                    status = event.status_code
                    answer_headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    size += len(event.data)
                    if len(head) < head_bytes:
                        head += event.data[: head_bytes - len(head)]
                    if size > MAX_BODY_READ:
                        return HttpAnswer(status, answer_headers, head)
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise TransportError("the server closed the connection")
            if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
                protocol.start_next_cycle()
                keep = True
            return HttpAnswer(status, answer_headers, head)
        except (ConnectionError, OSError) as exc:
            if not got_bytes and not fresh:
                raise _Stale from exc
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        except h11.ProtocolError as exc:
            raise TransportError(f"malformed HTTP answer: {exc}") from exc
        finally:
            if keep and len(self._idle[key]) < self.max_idle:
                self._idle[key].append(conn)
            else:
                conn.close()


class _Stale(CrossdockError):
    """A reused connection failed before any answer: try a fresh one."""
