"""AS2 (RFC 4130): X12 files over HTTP, signed and encrypted with S/MIME, each acknowledged by a
signed MDN. ``mime`` reads and writes the MIME entities, ``smime`` signs, verifies, encrypts and
decrypts them (the ``cryptography`` package; SignedData read with ``asn1crypto``), ``message``
packs an outbound message and unpacks an inbound one, ``mdn`` builds and reads the receipts, and
``client`` is the transport that posts a partner's files and checks their MDNs."""
