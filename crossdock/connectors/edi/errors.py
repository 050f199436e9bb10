"""Errors of the EDI transports: a partner's server out of reach (retried) versus a refusal."""

from __future__ import annotations

from crossdock.errors import CrossdockError, Unavailable


class TransportUnavailable(Unavailable):
    """The partner's server cannot be reached (refused, reset, timed out): try again later.
    Nothing was received or sent."""


class TransportError(CrossdockError):
    """The partner's server answered with a refusal (permission, no such folder, bad MDN)."""


class EnvelopeError(CrossdockError):
    """The bytes do not start with a readable ISA segment."""
