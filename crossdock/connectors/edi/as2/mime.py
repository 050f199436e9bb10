"""The MIME entities AS2 carries, read and written as exact bytes.

Signatures and MICs cover the bytes of a MIME part as they travel, so parts are cut out of a
multipart body by their boundaries (RFC 2046: the line break before a delimiter belongs to it)
rather than parsed and re-serialised. Headers are read with the standard library's parser.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
import secrets
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from crossdock.errors import CrossdockError

CRLF = b"\r\n"
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class MimeError(CrossdockError):
    """The bytes are not the MIME entity they claim to be."""


@dataclass(frozen=True, slots=True)
class Entity:
    """A MIME entity: its headers and its body (still transfer-encoded)."""

    headers: Message
    body: bytes
    raw: bytes
    """The whole entity, headers included, as received."""

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def param(self, name: str) -> str | None:
        value = self.headers.get_param(name)
        if value is None or isinstance(value, tuple):
            return None
        return str(value)

    def decoded(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone."""
        encoding = str(self.headers.get("Content-Transfer-Encoding", "binary")).strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(b"".join(self.body.split()), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise MimeError("Content-Transfer-Encoding: the body is not base64") from exc
        if encoding == "quoted-printable":
            return quopri.decodestring(self.body)
        if encoding in ("binary", "8bit", "7bit"):
            return self.body
        raise MimeError(f"Content-Transfer-Encoding: {encoding} is not supported")


def read_entity(raw: bytes) -> Entity:
    """Split an entity at the blank line ending its headers."""
    found = _HEADER_END.search(raw)
    if found is None:
        head, body = raw, b""
    else:
        head, body = raw[: found.start()], raw[found.end() :]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + CRLF + CRLF)
    if headers.get("Content-Type") is None:
        raise MimeError("Content-Type: the MIME entity has none")
    return Entity(headers, body, raw)


def entity_of(content_type: str, body: bytes, transfer_encoding: str | None = None) -> Entity:
    """The entity an HTTP request or response carries: its Content-Type header and body."""
    head = f"Content-Type: {content_type}\r\n"
    if transfer_encoding:
        head += f"Content-Transfer-Encoding: {transfer_encoding}\r\n"
    return read_entity(head.encode("latin-1") + CRLF + body)


def parts(entity: Entity) -> list[bytes]:
    """The raw parts of a multipart entity, in order, exactly as they travel."""
    boundary = entity.param("boundary")
    if not boundary:
        raise MimeError(f"Content-Type: {entity.content_type} without a boundary")
    try:
        mark = boundary.encode("ascii", "surrogateescape")  # the header's bytes, as they came
    except UnicodeEncodeError as exc:
        raise MimeError(f"Content-Type: the boundary is not ASCII: {exc.reason}") from exc
    delimiter = re.compile(rb"(?:\A|\r?\n)--" + re.escape(mark) + rb"(--)?[ \t]*(?:\r?\n|\Z)")
    found: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(entity.body):
        if start is not None:
            found.append(entity.body[start : match.start()])
        if match.group(1):  # the close delimiter
            return found
        start = match.end()
    raise MimeError(f"{entity.content_type}: the closing boundary is missing")


def boundary() -> str:
    return f"----=_crossdock_{secrets.token_hex(16)}"


def header_lines(headers: dict[str, str]) -> bytes:
    return b"".join(f"{k}: {v}".encode("latin-1") + CRLF for k, v in headers.items())


def multipart(parts_: list[bytes], mark: str) -> bytes:
    """A multipart body of ``parts_`` (each a whole entity) separated by ``mark``."""
    out = b""
    for part in parts_:
        out += b"--" + mark.encode() + CRLF + part + CRLF
    return out + b"--" + mark.encode() + b"--" + CRLF


def base64_lines(data: bytes) -> bytes:
    """Base64 in lines of 76 characters (RFC 2045)."""
    text = base64.b64encode(data)
    return CRLF.join(text[i : i + 76] for i in range(0, len(text), 76)) + CRLF
