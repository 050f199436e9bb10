"""Message Disposition Notifications (RFC 3798, as RFC 4130 §7 uses them): the receipt a
receiver answers, signed, naming the message, its MIC and the disposition.

Dispositions: ``processed``, ``processed/warning: duplicate-document`` (a Message-ID already
received), and ``processed/error: <failure>`` where the failure is one of RFC 4130 §7.4.3:
``authentication-failed``, ``decryption-failed``, ``decompression-failed``,
``insufficient-message-security``, ``integrity-check-failed``, ``unexpected-processing-error``.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from cryptography import x509

from crossdock.connectors.edi.as2 import smime
from crossdock.connectors.edi.as2.mime import (
    CRLF,
    MimeError,
    boundary,
    entity_of,
    header_lines,
    multipart,
    parts,
    read_entity,
)

REPORTING_UA = "Crossdock AS2"
MODE = "automatic-action/MDN-sent-automatically"


@dataclass(frozen=True, slots=True)
class MdnReceipt:
    """An MDN as read: what it says about which message."""

    original_message_id: str | None
    disposition: str
    """After the mode: ``processed``, ``processed/error: decryption-failed``, …"""
    mic: str | None
    signed: bool
    message_id: str | None = None

    @property
    def modifier(self) -> str | None:
        """``error``, ``failure`` or ``warning`` (lower case), None for a plain ``processed``."""
        _, _, rest = self.disposition.partition("/")
        kind = rest.split(":", 1)[0].strip().lower()
        return kind or None

    @property
    def accepted(self) -> bool:
        kind = self.disposition.split("/", 1)[0].strip().lower()
        return kind == "processed" and self.modifier in (None, "warning")


def build(
    *,
    original_message_id: str,
    our_id: str,
    disposition: str,
    mic: str | None,
    text: str,
    signer: tuple[x509.Certificate, smime.PrivateKey] | None,
    digest: str = "sha256",
) -> tuple[str, bytes]:
    """An MDN (multipart/report), signed when ``signer`` is given: its Content-Type and body."""
    fields = {
        "Reporting-UA": REPORTING_UA,
        "Original-Recipient": f"rfc822; {our_id}",
        "Final-Recipient": f"rfc822; {our_id}",
        "Original-Message-ID": original_message_id,
    }
    if mic is not None:
        fields["Received-Content-MIC"] = mic
    fields["Disposition"] = f"{MODE}; {disposition}"
    human = (
        header_lines({"Content-Type": "text/plain; charset=us-ascii"})
        + CRLF
        + text.encode("ascii", "replace")
        + CRLF
    )
    machine = (
        header_lines({"Content-Type": "message/disposition-notification"})
        + CRLF
        + header_lines(fields)
    )
    mark = boundary()
    content_type = f'multipart/report; report-type=disposition-notification; boundary="{mark}"'
    body = multipart([human, machine], mark)
    if signer is None:
        return content_type, body
    report = f"Content-Type: {content_type}".encode() + CRLF + CRLF + body
    return smime.sign(report, signer[0], signer[1], digest)


def read(
    content_type: str, body: bytes, partner: x509.Certificate, *, message_id: str | None = None
) -> MdnReceipt:
    """Read an MDN answered by the partner, verifying its signature when it is signed; raises
    :class:`~crossdock.connectors.edi.as2.smime.SecurityError` when it does not verify and
    :class:`~crossdock.connectors.edi.as2.mime.MimeError` when it is not an MDN."""
    entity = entity_of(content_type, body)
    signed = False
    if entity.content_type == "multipart/signed":
        entity = read_entity(smime.verify_signed(entity, partner).content)
        signed = True
    if entity.content_type != "multipart/report":
        raise MimeError(f"the MDN is {entity.content_type}, not multipart/report")
    for raw in parts(entity):
        part = read_entity(raw)
        if part.content_type == "message/disposition-notification":
            fields = BytesHeaderParser(policy=compat32).parsebytes(part.decoded().lstrip())
            disposition = str(fields.get("Disposition", ""))
            if not disposition:
                raise MimeError("the MDN has no Disposition")
            _, _, outcome = disposition.partition(";")
            mic = fields.get("Received-Content-MIC")
            original = fields.get("Original-Message-ID")
            return MdnReceipt(
                original_message_id=str(original).strip() if original else None,
                disposition=outcome.strip() or disposition.strip(),
                mic=str(mic).strip() if mic else None,
                signed=signed,
                message_id=message_id,
            )
    raise MimeError("the MDN has no message/disposition-notification part")


def options(header: str | None) -> dict[str, tuple[str, list[str]]]:
    """Disposition-Notification-Options parsed: parameter → (importance, values)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for item in (header or "").split(";"):
        name, _, value = item.partition("=")
        values = [v.strip() for v in value.split(",") if v.strip()]
        if name.strip() and values:
            found[name.strip().lower()] = (values[0].lower(), values[1:])
    return found
