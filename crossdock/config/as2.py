"""An EDI partner's AS2 transport (RFC 4130): the ``transport`` of a partner under ``edi.partners``
with ``kind: as2``.

.. code-block:: yaml

    transport:
      kind: as2
      url: https://as2.acme.example/as2       # the partner's AS2 endpoint (we POST there)
      as2_id: CROSSDOCK                       # ours: AS2-From on what we send
      partner_as2_id: ACME                    # theirs: AS2-To on what we send
      certificate: /etc/crossdock/as2/crossdock.pem   # ours (PEM), given to the partner
      private_key: /etc/crossdock/as2/crossdock.key   # ours (PEM, PKCS#8 or traditional)
      private_key_password: ${AS2_KEY_PASSWORD}      # unset: the key file is not encrypted
      partner_certificate: /etc/crossdock/as2/acme.pem

The partner posts its messages to ``POST /v1/edi/as2/<partner name>`` on the hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from crossdock.config.base import ConfigModel
from crossdock.config.secrets import SecretRef

__all__ = ["As2Transport"]

# An AS2 name (RFC 4130 §6.2): 1 to 128 printable ASCII characters; quotes and backslashes are
# left out so that the header never needs escaping.
_AS2_ID = r"^[!#-\[\]-~][ !#-\[\]-~]{0,127}$"


class As2Transport(ConfigModel):
    """Files over AS2: posted to the partner's URL, each acknowledged by a synchronous MDN;
    the partner's files arrive at the hub's AS2 route."""

    kind: Literal["as2"]
    url: str = Field(pattern=r"^https?://", max_length=2000)
    as2_id: str = Field(pattern=_AS2_ID)
    """Our AS2 name (AS2-From on what we send, AS2-To on what we receive)."""
    partner_as2_id: str = Field(pattern=_AS2_ID)
    certificate: Path
    """Our certificate (PEM): the partner verifies our signatures and encrypts to it."""
    private_key: Path
    """Our private key (PEM; RSA to decrypt, RSA or EC to sign)."""
    private_key_password: SecretRef | None = None
    partner_certificate: Path
    """The partner's certificate (PEM, RSA): their signatures are verified against it and
    what we send is encrypted to it. Only this certificate is trusted for the partner."""
    partner_crl: Path | None = None
    """A CRL (PEM or DER) of the partner certificate's issuer, read on every message: a revoked
    partner certificate is refused. Unset: revocation is not checked."""
    certificate_warning_days: int = Field(default=30, ge=0, le=3650)
    """A certificate of this profile (ours or the partner's) expiring within this many days is
    reported: ``crossdock config check`` warns, the EDI loop opens an exception."""
    sign: bool = True
    encrypt: bool = True
    digest: Literal["sha256", "sha384", "sha512"] = "sha256"
    """Of our signatures and of the MIC we ask for."""
    encryption: Literal["aes128_cbc", "aes256_cbc"] = "aes256_cbc"
    mdn: Literal["sync", "async", "none"] = "sync"
    """``sync``: each message waits for its MDN in the HTTP answer and is sent again until a
    positive one arrives; ``async``: the partner posts the MDN later to ``mdn_url`` (RFC 4130
    §7.3), and the file is delivered only once it has; ``none``: an HTTP 2xx is the receipt."""
    mdn_url: str | None = Field(default=None, pattern=r"^https?://", max_length=2000)
    """``mdn: async``: where the partner posts our MDNs (``Receipt-Delivery-Option``), the hub's
    ``POST /v1/edi/as2/<partner>/mdn`` as the partner reaches it."""
    mdn_within_s: float = Field(default=3600.0, gt=0)
    """``mdn: async``: how long a sent message waits for its MDN before it counts as a failed
    attempt (sent again with the back-off, then failed with an exception)."""
    signed_mdn: bool = True
    """Ask for a signed MDN, and refuse an unsigned one."""
    require_signed: bool = True
    """Inbound messages must be signed by the partner's certificate."""
    require_encrypted: bool = True
    """Inbound messages must be encrypted to our certificate."""
    content_type: str = Field(default="application/edi-x12", pattern=r"^[a-z]+/[a-z0-9.+-]+$")
    timeout_s: float = Field(default=60.0, gt=0)
    """For one POST and its synchronous MDN (and for posting an asynchronous MDN we owe)."""

    @model_validator(mode="after")
    def _async_mdn_url(self) -> As2Transport:
        if self.mdn == "async" and self.mdn_url is None:
            raise PydanticCustomError("mdn_url", "mdn: async needs mdn_url (where MDNs come back)")
        return self
