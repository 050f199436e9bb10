"""Helpers of the AS2 tests: certificates made here (cryptography x509), the ``openssl`` CLI as
the independent S/MIME implementation, and a local AS2 partner — a real HTTP server on 127.0.0.1
(the standard library's) that decrypts and verifies what the hub posts with ``openssl cms`` and
answers MDNs signed by ``openssl cms``."""

from __future__ import annotations

import base64
import datetime
import email
import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.policy import compat32
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

HUB_ID = "CROSSDOCK"
PARTNER_ID = "ACME AS2"


@dataclass(frozen=True)
class Identity:
    certificate: Path
    key: Path


def make_identity(folder: Path, name: str) -> Identity:
    """A self-signed RSA certificate and its key, as PEM files in ``folder``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    found = Identity(folder / f"{name}.pem", folder / f"{name}.key")
    found.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


def openssl(*args: str, data: bytes | None = None) -> bytes:
    """Run ``openssl`` with ``data`` on stdin; answers stdout, raises with stderr on failure."""
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise OpenSslFailed(done.stderr.decode(errors="replace"))
    return done.stdout


class OpenSslFailed(Exception):
    pass


def split_smime(raw: bytes) -> tuple[str, bytes]:
    """An S/MIME message openssl wrote: its Content-Type and its body (what HTTP carries)."""
    head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    headers = email.message_from_bytes(head + b"\r\n\r\n", policy=compat32)
    return " ".join(str(headers["Content-Type"]).split()), body


def mic_of(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode() + ", sha-256"


def payload_entity(payload: bytes, filename: str = "po.x12") -> bytes:
    return (
        b"Content-Type: application/edi-x12\r\n"
        b"Content-Transfer-Encoding: binary\r\n"
        + f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'.encode()
        + payload
    )


def openssl_sign(entity: bytes, signer: Identity) -> bytes:
    """``entity`` signed by openssl (multipart/signed, detached, SHA-256), headers included."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "entity"
        path.write_bytes(entity)
        return openssl(
            "cms", "-sign", "-binary", "-crlfeol", "-md", "sha256", "-in", str(path),
            "-signer", str(signer.certificate), "-inkey", str(signer.key),
        )  # fmt: skip


def openssl_encrypt(entity: bytes, recipient: Identity) -> bytes:
    """``entity`` encrypted by openssl to ``recipient`` (DER EnvelopedData, AES-256-CBC)."""
    return openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", str(recipient.certificate),
        data=entity,
    )  # fmt: skip


def openssl_decrypt(der: bytes, recipient: Identity) -> bytes:
    return openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER",
        "-recip", str(recipient.certificate), "-inkey", str(recipient.key), data=der,
    )  # fmt: skip


def openssl_verify(signed: bytes, signer: Identity) -> bytes:
    """The content of an S/MIME multipart/signed whose signature openssl verifies against
    ``signer``'s certificate (the only trusted one)."""
    return openssl(
        "cms", "-verify", "-CAfile", str(signer.certificate), "-purpose", "any", data=signed
    )


@dataclass
class As2Post:
    """A message as the partner built it: its HTTP headers and body, and the MIC to expect."""

    headers: dict[str, str]
    body: bytes
    mic: str
    message_id: str


def partner_message(
    payload: bytes,
    partner: Identity,
    hub: Identity,
    *,
    message_id: str,
    sign: bool = True,
    encrypt: bool = True,
    mdn: bool = True,
) -> As2Post:
    """An AS2 message made by openssl as the partner's AS2 software would."""
    entity = payload_entity(payload)
    mic = mic_of(entity)
    if sign:
        entity = openssl_sign(entity, partner)
    if encrypt:
        body = openssl_encrypt(entity, hub)
        content_type = 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'
    else:
        content_type, body = split_smime(entity)
    headers = {
        "Content-Type": content_type,
        "AS2-Version": "1.2",
        "AS2-From": f'"{PARTNER_ID}"',
        "AS2-To": HUB_ID,
        "Message-ID": message_id,
        "MIME-Version": "1.0",
    }
    if mdn:
        headers["Disposition-Notification-To"] = "edi@acme.example"
        headers["Disposition-Notification-Options"] = (
            "signed-receipt-protocol=optional, pkcs7-signature; "
            "signed-receipt-micalg=optional, sha-256"
        )
    return As2Post(headers, body, mic, message_id)


def read_mdn(content_type: str, body: bytes, signer: Identity | None) -> email.message.Message:
    """The disposition fields of an MDN, its signature verified by openssl when ``signer``."""
    raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
    report = openssl_verify(raw, signer) if signer is not None else raw
    message = email.message_from_bytes(report, policy=compat32)
    assert message.get_content_type() == "multipart/report", message.get_content_type()
    for part in message.walk():
        if part.get_content_type() == "message/disposition-notification":
            inner = part.get_payload()
            text = inner[0].as_bytes() if isinstance(inner, list) else part.get_payload(decode=True)
            return email.message_from_bytes(text, policy=compat32)
    raise AssertionError("no disposition-notification part")


# -- the local partner ----------------------------------------------------------------------------


def mdn_report(original: str, disposition: str, mic: str | None) -> bytes:
    """An MDN (multipart/report) as the partner writes it."""
    fields = (
        "Reporting-UA: acme-as2-test\r\n"
        f"Original-Recipient: rfc822; {PARTNER_ID}\r\n"
        f"Final-Recipient: rfc822; {PARTNER_ID}\r\n"
        f"Original-Message-ID: {original}\r\n"
        + (f"Received-Content-MIC: {mic}\r\n" if mic else "")
        + f"Disposition: automatic-action/MDN-sent-automatically; {disposition}\r\n"
    )
    return (
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="r1"'
        b"\r\n\r\n--r1\r\nContent-Type: text/plain\r\n\r\nReceipt.\r\n"
        b"--r1\r\nContent-Type: message/disposition-notification\r\n\r\n"
        + fields.encode()
        + b"\r\n--r1--\r\n"
    )


@dataclass
class Partner:
    """The partner's AS2 server: what it received and how it answers."""

    identity: Identity
    hub: Identity
    url: str = ""
    received: list[bytes] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    """Scripted answers, consumed in order (then ``ok``): ``ok``, ``500``, ``unsigned``,
    ``bad_mic``, ``error``, ``forged``, ``empty``."""
    forger: Identity | None = None
    owed: list[OwedMdn] = field(default_factory=list)
    """Asynchronous MDNs it owes (a message asked ``Receipt-Delivery-Option``): the test posts
    them, as the partner's AS2 software would after answering the message's POST."""

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.requests.append(headers)
        mode = self.answers.pop(0) if self.answers else "ok"
        if mode == "500":
            return 500, {}, b"down"
        if mode == "empty":
            return 200, {}, b""
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/pkcs7-mime"):
            signed = openssl_decrypt(body, self.identity)
        else:  # signed only: the HTTP Content-Type heads the multipart/signed
            signed = f"Content-Type: {content_type}\r\n\r\n".encode() + body
        content = openssl_verify(signed, self.hub)  # raises: the test fails on a bad message
        mic = mic_of(content)
        entity = email.message_from_bytes(content, policy=compat32)
        payload = entity.get_payload(decode=True)
        assert isinstance(payload, bytes)
        self.received.append(payload)
        disposition = "processed"
        if mode == "bad_mic":
            mic = mic_of(b"something else")
        if mode == "error":
            disposition = "processed/error: decryption-failed"
        report = mdn_report(headers["message-id"], disposition, mic)
        if mode == "unsigned":
            content_type, out = split_smime(report)
        else:
            signer = self.forger if mode == "forged" and self.forger else self.identity
            content_type, out = split_smime(openssl_sign(report, signer))
        url = headers.get("receipt-delivery-option")
        if url:  # asynchronous: the HTTP answer is bare, the MDN is posted later
            self.owed.append(OwedMdn(url, content_type, out, headers["message-id"]))
            return 200, {}, b""
        return 200, {"Content-Type": content_type, "AS2-From": f'"{PARTNER_ID}"'}, out


@dataclass(frozen=True)
class OwedMdn:
    url: str
    content_type: str
    body: bytes
    original_message_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": self.content_type,
            "AS2-Version": "1.2",
            "AS2-From": f'"{PARTNER_ID}"',
            "AS2-To": HUB_ID,
            "Message-ID": f"<mdn-{self.original_message_id.strip('<>')}>",
        }


@dataclass
class MdnInbox:
    """The partner's URL for asynchronous MDNs: what the hub posted there, answered with the
    scripted statuses (then 200)."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        status = self.statuses.pop(0) if self.statuses else 200
        self.received.append((headers, body))
        if status == 200:
            self.arrived.set()
        return status, {}, b""


class Served(Protocol):
    url: str

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]: ...


S = TypeVar("S", bound=Served)


@contextmanager
def partner_server(partner: S) -> Iterator[S]:
    """``partner`` served on a free port of 127.0.0.1 in a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                status, out_headers, out = partner.handle(headers, body)
            except Exception as exc:  # a bad message: answered 400, the error kept for the test
                status, out_headers, out = 400, {}, str(exc).encode()
                if isinstance(partner, Partner):
                    partner.requests.append({"error": str(exc)})
            self.send_response(status)
            for k, v in out_headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    partner.url = f"http://127.0.0.1:{server.server_address[1]}/as2"
    try:
        yield partner
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
